"""Records of processing at /privacy/processing/ (privacy/processing.py): built from the data map,
the same data as `manage.py export_data_map`, in English and in Russian."""

import io
import json
from collections import defaultdict
from html.parser import HTMLParser
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils.functional import Promise

from backgroundmusic.accounts.tests.factories import StaffFactory, UserFactory
from backgroundmusic.privacy.kernel.registry import (
    DATA_CATEGORY_LABELS,
    LEGAL_BASIS_LABELS,
    PURPOSE_LABELS,
    Category,
    LegalBasis,
    Purpose,
    Retentions,
    data_map,
)
from backgroundmusic.privacy.models import Recipient
from backgroundmusic.privacy.processing import records_of_processing
from backgroundmusic.staffroles.roles import StaffRole

pytestmark = pytest.mark.django_db

Shape = dict[str, dict[str, dict[str, set[Any]]]]


def exported() -> dict[str, Any]:
    out = io.StringIO()
    call_command("export_data_map", stdout=out)
    return json.loads(out.getvalue())


def shape_of_export() -> Shape:
    """purpose → category → {"bases": {...}, "days": {...}} from export_data_map's output."""
    shape: Shape = defaultdict(lambda: defaultdict(lambda: {"bases": set(), "days": set()}))
    for model in exported().values():
        for data in model["personal"].values():
            uses = [{"purpose": data["purpose"], "legal_basis": data["legal_basis"]}]
            for use in uses + data["further_uses"]:
                entry = shape[use["purpose"]][data["category"]]
                entry["bases"].add(use["legal_basis"])
                entry["days"].add(data["retention"]["days"])
    return {purpose: dict(categories) for purpose, categories in shape.items()}


class PageShape(HTMLParser):
    """The same shape read from the page's data- attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.shape: Shape = {}
        self.order: list[str] = []
        self.purpose: str | None = None
        self.category: str | None = None
        self.recipients: dict[str, list[str]] = defaultdict(list)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "section" and found.get("data-purpose"):
            self.purpose = str(found["data-purpose"])
            self.order.append(self.purpose)
            self.shape[self.purpose] = {}
        elif tag == "section":
            self.purpose = None
        if self.purpose is None:
            return
        if tag == "tr" and found.get("data-category"):
            self.category = str(found["data-category"])
            self.shape[self.purpose][self.category] = {"bases": set(), "days": set()}
        if self.category and found.get("data-basis"):
            self.shape[self.purpose][self.category]["bases"].add(found["data-basis"])
        if self.category and found.get("data-retention-days"):
            self.shape[self.purpose][self.category]["days"].add(
                int(str(found["data-retention-days"]))
            )
        if tag == "span" and found.get("data-recipient"):
            self.recipients[self.purpose].append(str(found["data-recipient"]))


def page_shape(html: str) -> PageShape:
    parser = PageShape()
    parser.feed(html)
    return parser


@pytest.fixture
def recipients() -> None:
    Recipient.objects.create(
        name="Demo Payments LLC",
        country="RU",
        purpose_en="Takes card payments.",
        purpose_ru="Принимает оплату картой.",
        categories=["user.contact.email", "user.behavior.purchase_history"],
    )
    Recipient.objects.create(
        name="Demo Partner Label",
        country="DE",
        purpose_en="Sends news about releases.",
        purpose_ru="Присылает новости о релизах.",
        categories=["user.name", "user.contact.email"],
        shared_with_consent=True,
    )
    Recipient.objects.create(
        name="Retired Partner",
        country="US",
        purpose_en="Gone.",
        purpose_ru="Ушёл.",
        is_active=False,
    )


@pytest.mark.parametrize("caller", ["anonymous", "user", "privacy_officer"])
def test_the_page_is_public(caller, client: Client):
    if caller == "user":
        client.force_login(UserFactory.create())
    elif caller == "privacy_officer":
        client.force_login(StaffFactory.create(role=StaffRole.PRIVACY_OFFICER))
    response = client.get("/privacy/processing/")
    assert response.status_code == 200
    assert reverse("privacy:processing") == "/privacy/processing/"


def test_only_get_is_allowed(client: Client):
    assert client.post("/privacy/processing/").status_code == 405


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_page_shows_the_same_data_as_export_data_map(client: Client, language, recipients):
    response = client.get("/privacy/processing/", HTTP_ACCEPT_LANGUAGE=language)
    html = response.content.decode()
    assert f'<html lang="{language}">' in html
    parsed = page_shape(html)
    expected = shape_of_export()
    assert parsed.shape == expected
    # Purposes in the order of registry.Purpose (those some declared field serves).
    assert parsed.order == [p.value for p in Purpose if p.value in expected]
    assert dict(parsed.recipients) == {
        "contract": ["Demo Payments LLC"],
        "justice": ["authorities"],
    }


def test_the_english_page_uses_the_labels(client: Client, recipients):
    html = client.get("/privacy/processing/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "<h1>How we process personal data</h1>" in html
    assert "<h2>Registration, sign-in and account management</h2>" in html
    assert "While the account is open, then 30 days after it is closed" in html
    assert "Courts, law-enforcement and other authorities, on a lawful request" in html
    assert "Takes card payments." in html
    assert "Germany (cross-border transfer)" in html
    assert "Retired Partner" not in html


def test_the_russian_page_uses_the_russian_catalogue(client: Client, recipients):
    html = client.get("/privacy/processing/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "<h2>Регистрация, вход и управление аккаунтом</h2>" in html
    assert "<h2>Registration, sign-in and account management</h2>" not in html
    # Recipients' own purposes are stored in both languages.
    assert "Принимает оплату картой." in html
    assert "Takes card payments." not in html


def test_the_footer_links_the_page(client: Client):
    html = client.get("/").content.decode()
    assert '<a href="/privacy/processing/">How we process personal data</a>' in html


def test_every_label_is_translatable():
    retentions = [value for name, value in vars(Retentions).items() if name.isupper()]
    assert len(retentions) >= 8
    assert all(isinstance(r.description, Promise) for r in retentions)
    # Every period the data map declares, shared or an app's own, is shown in both languages.
    assert [
        f"{declaration.label}.{name}"
        for declaration, name, data in data_map.personal_fields()
        if not isinstance(data.retention.description, Promise)
    ] == []
    assert all(isinstance(label, Promise) for label in PURPOSE_LABELS.values())
    assert set(DATA_CATEGORY_LABELS) == set(Category)
    assert all(isinstance(label, Promise) for label in DATA_CATEGORY_LABELS.values())
    assert set(LEGAL_BASIS_LABELS) == set(LegalBasis)
    assert all(isinstance(label, Promise) for label in LEGAL_BASIS_LABELS.values())


def test_records_follow_the_data_map():
    records = records_of_processing()
    fields = list(data_map.personal_fields())
    assert {r.purpose for r in records} == {
        use.purpose for _d, _n, data in fields for use in data.uses()
    }
    for record in records:
        for entry in record.categories:
            served = [
                (data, use)
                for _d, _n, data in fields
                for use in data.uses()
                if use.purpose == record.purpose and data.category == entry.category
            ]
            assert served
            assert entry.legal_bases == [
                b for b in LegalBasis if b in {use.legal_basis for _d, use in served}
            ]
            assert [(r.days, r.start) for r in entry.retentions] == sorted(
                {(d.retention.days, d.retention.start.value) for d, _use in served}
            )
