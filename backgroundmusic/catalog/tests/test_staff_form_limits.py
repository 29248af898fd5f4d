"""What staff type into the catalogue's free-text fields has a limit, refused with a clear error."""

import pytest

from backgroundmusic.catalog.staff_forms import (
    DESCRIPTION_MAX_LENGTH,
    TRACK_CODES_MAX_LENGTH,
    CollectionForm,
    TrackForm,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("form_class", "field", "limit"),
    [
        (TrackForm, "description", DESCRIPTION_MAX_LENGTH),
        (CollectionForm, "description", DESCRIPTION_MAX_LENGTH),
        (CollectionForm, "track_codes", TRACK_CODES_MAX_LENGTH),
    ],
)
def test_a_text_over_its_limit_is_refused(form_class, field, limit):
    form = form_class(data={field: "x" * (limit + 1)})
    assert not form.is_valid()
    assert form.errors[field] == [
        f"Ensure this value has at most {limit} characters (it has {limit + 1})."
    ]


@pytest.mark.parametrize("form_class", [TrackForm, CollectionForm])
def test_a_description_at_its_limit_is_taken(form_class):
    form = form_class(data={"description": "x" * DESCRIPTION_MAX_LENGTH})
    form.is_valid()
    assert "description" not in form.errors
