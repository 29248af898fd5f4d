"""What staff type into the plans' and terms' free-text fields has a limit, refused with a clear
error."""

import pytest

from backgroundmusic.licensing.staff_forms import (
    BODY_MAX_LENGTH,
    DESCRIPTION_MAX_LENGTH,
    PlanEditionForm,
    TermsEditionForm,
)


@pytest.mark.parametrize(
    ("form", "field", "limit"),
    [
        (
            lambda data: PlanEditionForm(data=data, kind="creator"),
            "description_en",
            DESCRIPTION_MAX_LENGTH,
        ),
        (
            lambda data: PlanEditionForm(data=data, kind="creator"),
            "description_ru",
            DESCRIPTION_MAX_LENGTH,
        ),
        (lambda data: TermsEditionForm(data=data), "body_en", BODY_MAX_LENGTH),
        (lambda data: TermsEditionForm(data=data), "body_ru", BODY_MAX_LENGTH),
    ],
)
def test_a_text_over_its_limit_is_refused(form, field, limit):
    filled = form({field: "x" * (limit + 1)})
    assert not filled.is_valid()
    assert filled.errors[field] == [
        f"Ensure this value has at most {limit} characters (it has {limit + 1})."
    ]
    at_limit = form({field: "x" * limit})
    at_limit.is_valid()
    assert field not in at_limit.errors
