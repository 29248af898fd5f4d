"""What the privacy officer types into a new edition has a limit, refused with a clear error."""

import pytest

from backgroundmusic.privacy.forms import BODY_MAX_LENGTH, SUMMARY_MAX_LENGTH, EditionForm


@pytest.mark.parametrize(
    ("field", "limit"),
    [
        ("body_en", BODY_MAX_LENGTH),
        ("body_ru", BODY_MAX_LENGTH),
        ("change_summary_en", SUMMARY_MAX_LENGTH),
        ("change_summary_ru", SUMMARY_MAX_LENGTH),
    ],
)
def test_a_text_over_its_limit_is_refused(field, limit):
    form = EditionForm(data={field: "x" * (limit + 1)})
    assert not form.is_valid()
    assert form.errors[field] == [
        f"Ensure this value has at most {limit} characters (it has {limit + 1})."
    ]
    at_limit = EditionForm(data={field: "x" * limit})
    at_limit.is_valid()
    assert field not in at_limit.errors
