"""Hypothesis fuzz of the privacy officer's forms (issue 13): incidents, legal holds, transfers
abroad and the register of recipients, with the hostile text of test_edge_fuzz (lone surrogates,
NUL and other controls, bidi controls, very long values) and edge values of numbers, dates and
nesting. The checks: never a 5xx; a refused form says why on the page and writes nothing; what a
form does write passes the text rules."""

from typing import Any

import pytest
from django.db import models
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from backgroundmusic.accounts.tests.factories import StaffFactory, UserFactory
from backgroundmusic.core.text import TextKind, check_text
from backgroundmusic.incidents.models import Incident
from backgroundmusic.privacy.kernel.models import LegalHold
from backgroundmusic.privacy.models import Recipient, TransferRecord
from backgroundmusic.staffroles.roles import StaffRole
from tests.fuzz.test_edge_fuzz import EDGE, HOSTILE_BYTES, HOSTILE_TEXT, check_response, post_form
from tests.fuzz.test_forms_fuzz import separate_example

pytestmark = pytest.mark.django_db(databases="__all__")

# Values at the edges of what numbers, dates and times can be, and nesting, as typed text.
EDGE_VALUES = st.sampled_from(
    [
        "",
        "0",
        "-1",
        "99999999999999999999",
        "9" * 400,
        "1e400",
        "NaN",
        "0001-01-01",
        "0001-01-01T00:00",
        "9999-12-31",
        "9999-12-31T23:59",
        "2026-02-30",
        "2026-01-10T24:00",
        "[" * 500 + "]" * 500,
        '{"a": ' * 200 + "1" + "}" * 200,
        "<b>" * 300,
    ]
)
FIELD_VALUES = st.one_of(HOSTILE_BYTES, EDGE_VALUES.map(str.encode))
REGISTERS: list[type[models.Model]] = [Incident, LegalHold, TransferRecord, Recipient]


@st.composite
def officer_fields(draw: st.DrawFn, good: dict[str, str]) -> dict[str, bytes]:
    """The good fields, at least one replaced with a hostile or edge value, maybe a hostile
    extra field."""
    fields = {name: value.encode() for name, value in good.items()}
    for name in draw(st.sets(st.sampled_from(sorted(good)), min_size=1)):
        fields[name] = draw(FIELD_VALUES)
    if draw(st.booleans()):
        fields[draw(HOSTILE_TEXT)] = draw(FIELD_VALUES)
    return fields


def counts() -> list[int]:
    return [register._default_manager.count() for register in REGISTERS]


def assert_written_text_passes_the_rules() -> None:
    for register in REGISTERS:
        text_fields = [
            field
            for field in register._meta.concrete_fields
            if isinstance(field, models.CharField | models.TextField)
        ]
        for row in register._default_manager.all():
            for field in text_fields:
                kind = TextKind.TEXT if isinstance(field, models.TextField) else TextKind.LINE
                check_text(str(getattr(row, field.attname)), kind)


def refused_with_a_reason(response: Any) -> bool:
    """The form shown again with its errors, or the edge's page for text no row can store (NUL,
    a lone surrogate: core.middleware.TextEdgeMiddleware), naming the character."""
    page = response.content.decode()
    if 'class="errorlist' in page:
        return True
    return response.status_code == 400 and "<h1>Bad request</h1>\n    <p>The text " in page


def post_checked(client: Client, url: str, fields: dict[str, bytes]) -> None:
    before = counts()
    response = post_form(client, url, fields)
    check_response(response)
    if response.status_code == 302:
        assert_written_text_passes_the_rules()
        return
    assert counts() == before, (url, fields)
    assert refused_with_a_reason(response), (url, fields, response.status_code)


def good_forms(person: Any, partner: Recipient) -> dict[str, dict[str, str]]:
    """Each form's URL and values it takes."""
    return {
        "/staff/incidents/new/": {
            "summary": "Laptop lost",
            "description": "A laptop with an export was lost.",
            "detected_at": "2026-01-10T10:00",
            "occurred_from": "2026-01-09T10:00",
            "estimated_people": "12",
            "affected_categories": "user.contact.email",
            "consequences": "Addresses may be read.",
            "measures": "The disk was encrypted.",
        },
        "/staff/legal-holds/": {
            "target": "person",
            "subject": person.username,
            "reason": "Court case A40-1/2026",
            "ends_on": "2099-01-01",
        },
        "/staff/transfers/": {
            "recipient": str(partner.pk),
            "country": "DE",
            "basis": "contract",
            "safeguards": "Standard clauses, encryption at rest.",
            "authority_notified_on": "2026-01-10",
        },
        "/staff/recipients/": {
            "name": "Mail provider",
            "country": "NL",
            "purpose_en": "Sending e-mail",
            "purpose_ru": "Отправка писем",
            "categories": "user.contact.email",
        },
        f"/staff/recipients/{partner.pk}/": {
            "name": "Edge Partner",
            "country": "DE",
            "purpose_en": "Hosting",
            "purpose_ru": "Хостинг",
            "categories": "user.contact.email",
        },
    }


def test_the_privacy_officers_forms(client: Client) -> None:
    officer = StaffFactory.create(role=StaffRole.PRIVACY_OFFICER)
    person = UserFactory.create(username="held_person")
    partner = Recipient.objects.create(
        name="Edge Partner", country="DE", purpose_en="Hosting", purpose_ru="Хостинг"
    )
    client.force_login(officer)
    forms = good_forms(person, partner)

    @EDGE
    @given(
        post=st.sampled_from(sorted(forms)).flatmap(
            lambda url: st.tuples(st.just(url), officer_fields(forms[url]))
        )
    )
    def hostile(post: tuple[str, dict[str, bytes]]) -> None:
        url, fields = post
        with separate_example(client, new_visitor=False):
            post_checked(client, url, fields)

    hostile()
    assert counts() == [0, 0, 0, 1]
    for url, good in forms.items():
        response = post_form(client, url, {name: value.encode() for name, value in good.items()})
        assert response.status_code == 302, (url, response.content.decode()[-2000:])
    assert counts() == [1, 1, 1, 2]


def test_lifting_a_legal_hold(client: Client) -> None:
    officer = StaffFactory.create(role=StaffRole.PRIVACY_OFFICER)
    person = UserFactory.create(username="held_person")
    client.force_login(officer)
    placed = client.post(
        "/staff/legal-holds/",
        {
            "target": "person",
            "subject": person.username,
            "reason": "Case 1",
            "ends_on": "2099-01-01",
        },
    )
    assert placed.status_code == 302
    hold = LegalHold.objects.get()
    url = f"/staff/legal-holds/{hold.pk}/lift/"

    @EDGE
    @given(fields=officer_fields({f"lift-{hold.pk}-reason": "The case was settled."}))
    def hostile(fields: dict[str, Any]) -> None:
        with separate_example(client, new_visitor=False):
            response = post_form(client, url, fields)
            check_response(response)
            hold.refresh_from_db()
            if response.status_code != 302:
                assert hold.lifted_at is None
                assert refused_with_a_reason(response)

    hostile()
    hold.refresh_from_db()
    assert hold.lifted_at is None


DATE_RANGE = "Enter a date between 1900-01-01 and 2999-12-31."


@pytest.mark.parametrize(
    "url, name, value, message",
    [
        (
            "/staff/incidents/new/",
            "estimated_people",
            "99999999999999999999",
            "Ensure this value is less than or equal to 2147483647.",
        ),
        ("/staff/incidents/new/", "detected_at", "0001-01-01T00:00", DATE_RANGE),
        ("/staff/incidents/new/", "occurred_from", "9999-12-31T23:59", DATE_RANGE),
        ("/staff/legal-holds/", "ends_on", "9999-12-31", DATE_RANGE),
        (
            "/staff/legal-holds/",
            "subject",
            "99999999999999999999",
            "No account has this user id or username.",
        ),
        ("/staff/transfers/", "authority_notified_on", "9999-12-31", DATE_RANGE),
        ("/staff/transfers/", "authority_notified_on", "0001-01-01", DATE_RANGE),
        (
            "/staff/transfers/",
            "recipient",
            "99999999999999999999",
            "Select a valid choice. That choice is not one of the available choices.",
        ),
    ],
)
def test_edge_numbers_and_dates_are_errors_on_their_field(
    client: Client, url: str, name: str, value: str, message: str
) -> None:
    officer = StaffFactory.create(role=StaffRole.PRIVACY_OFFICER)
    person = UserFactory.create(username="held_person")
    partner = Recipient.objects.create(
        name="Edge Partner", country="DE", purpose_en="Hosting", purpose_ru="Хостинг"
    )
    client.force_login(officer)
    fields = {**good_forms(person, partner)[url], name: value}
    before = counts()
    response = client.post(url, fields)
    # The form shown again (the transfers and recipients pages answer such a page with 200).
    assert response.status_code in (200, 400)
    assert counts() == before
    page = response.content.decode()
    assert f'id="id_{name}_error"><li>{message}</li>' in page
    # What was typed is shown back, except in a list of choices, which holds only its own.
    if name != "recipient":
        assert f'value="{value}"' in page
