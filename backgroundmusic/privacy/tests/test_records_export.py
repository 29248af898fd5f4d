"""The complete records of processing (privacy/processing.py records_export): GDPR art. 30(1) and
the notification to Roskomnadzor (152-FZ art. 22(3)), the page in both languages, and the
committed snapshot docs/records-of-processing.json checked for drift."""

import io
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.utils import translation

from backgroundmusic.privacy.demo import demo_recipients_create
from backgroundmusic.privacy.kernel.registry import Subjects, data_map
from backgroundmusic.privacy.management.commands.export_data_map import (
    REGENERATE,
    SNAPSHOT,
    records_json,
)
from backgroundmusic.privacy.processing import records_export

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def stores_in_russia(settings) -> None:
    """The stores as the embedded install declares them (where the snapshot is made): a server
    install names its own countries (DATABASE_COUNTRY, ...), which the PostgreSQL run of the
    suite leaves unset."""
    settings.DATA_STORES = {
        **settings.DATA_STORES,
        "default database": {**settings.DATA_STORES["default database"], "country": "RU"},
    }
    for name, store in settings.DATA_STORES.items():
        if store.get("primary") and not store.get("country"):
            settings.DATA_STORES[name] = {**store, "country": "RU"}


@pytest.fixture
def recipients() -> None:
    demo_recipients_create()


def exported(*arguments: str) -> dict:
    out = io.StringIO()
    call_command("export_data_map", "--format", "json", *arguments, stdout=out)
    return json.loads(out.getvalue())


def test_the_committed_snapshot_matches_the_records(recipients):
    committed = (Path(settings.BASE_DIR) / SNAPSHOT).read_text(encoding="utf-8")
    assert committed == records_json(), (
        f"{SNAPSHOT} is out of date: run `{REGENERATE}` in the embedded install after `make run` "
        "(it holds the demo recipients) and commit the file."
    )


def test_the_output_option_writes_the_same_json(recipients, tmp_path):
    target = tmp_path / "records.json"
    call_command("export_data_map", "--format", "json", "--output", str(target))
    assert target.read_text(encoding="utf-8") == records_json()
    assert exported() == json.loads(records_json())


def test_the_records_hold_everything_article_30_asks_for(recipients):
    records = exported()
    assert records["controller"] == {
        "name": "MUSWAY STUDIO Limited Liability Company",
        "address": "office 12, 7 Muzykalny proezd, Moscow 125009, Russia",
        "ogrn": "1000000000000",
        "inn": "7700000000",
        "rkn_register_number": "77-00-000000 (demonstration)",
        "contact_email": "privacy@backgroundmusic.net",
        "demonstration": True,
    }
    assert records["representative"].startswith("Demo Representative GmbH (fictional)")
    assert records["data_protection_officer"] == {
        "name": "Dana Demo (fictional)",
        "email": "privacy@backgroundmusic.net",
        "phone": "+7 000 000-00-00",
    }
    purposes = {p["purpose"]: p for p in records["purposes"]}
    assert [s["key"] for s in purposes["newsletter"]["subjects"]] == [
        "staff",
        "newsletter_subscribers",
    ]
    assert [s["key"] for s in purposes["analytics"]["subjects"]] == ["users", "visitors"]
    assert all(p["subjects"] and p["categories"] and p["legal_bases"] for p in purposes.values())
    assert all(c["retention"] for p in purposes.values() for c in p["categories"])
    # Research is consent only, and no contact data reaches it or analytics.
    assert purposes["research"]["legal_bases"] == ["consent"]
    for purpose in ("analytics", "research"):
        assert not [c for c in purposes[purpose]["categories"] if "contact" in c["category"]]
    assert purposes["justice"]["to_authorities"] is True
    assert [
        (r["name"], r["country"]["code"], r["cross_border"]) for r in records["recipients"]
    ] == [
        ("Demo Partner Label", "DE", True),
        ("YooKassa (YooMoney)", "RU", False),
    ]
    assert records["transfers"] == [
        {
            "recipient": "Demo Partner Label",
            "country": {"code": "DE", "name": "Germany"},
            "adequacy": "",
            "basis": "",
            "authority_notified_on": "",
            "starts_on": "",
            "safeguards": "",
        }
    ]
    assert (
        "Staff must sign in with two-factor authentication (TOTP)." in records["security_measures"]
    )


def test_the_notification_to_roskomnadzor_has_every_field(recipients):
    notification = exported()["notification_152fz"]
    assert set(notification) == {
        "operator_name",
        "operator_address",
        "purposes",
        "legal_bases",
        "data_categories",
        "subject_categories",
        "actions",
        "processing_methods",
        "security_measures",
        "responsible_person",
        "processing_started",
        "processing_end",
        "cross_border_transfer",
        "cross_border_countries",
        "database_countries",
        "security_under_government_requirements",
    }
    assert notification["responsible_person"]["name"] == "Dana Demo (fictional)"
    assert notification["processing_started"] == "2025-06-01"
    assert notification["cross_border_transfer"] is True
    assert notification["cross_border_countries"] == ["DE"]
    assert notification["database_countries"] == [{"code": "RU", "name": "Russia"}]
    assert {b["law"] for b in notification["legal_bases"]} == {
        "152-FZ art. 6(1)(1)",
        "152-FZ art. 6(1)(2)",
        "152-FZ art. 6(1)(5)",
        "152-FZ art. 6(1)(7)",
    }
    assert notification["actions"][0] == "collection"
    assert len(notification["subject_categories"]) == len(
        {s for d in data_map.models.values() for s in d.subjects}
    )


def test_without_recipients_abroad_there_is_no_cross_border_transfer():
    notification = exported()["notification_152fz"]
    assert notification["cross_border_transfer"] is False
    assert notification["cross_border_countries"] == []


def test_the_records_follow_the_configured_operator(settings):
    settings.OPERATOR_DEMONSTRATION = False
    settings.OPERATOR_DETAILS = {
        **settings.OPERATOR_DETAILS,
        "inn": "7701234567",
        "dpo_name": "Irina Petrova",
        "processing_started": "2026-01-15",
    }
    records = exported("--language", "ru")
    assert records["controller"]["name"] == (
        "Общество с ограниченной ответственностью «Мьюзвей Студио»"
    )
    assert records["controller"]["inn"] == "7701234567"
    assert records["controller"]["ogrn"] == ""
    assert records["controller"]["demonstration"] is False
    assert records["notification_152fz"]["responsible_person"]["name"] == "Irina Petrova"
    assert records["notification_152fz"]["processing_started"] == "2026-01-15"


def test_every_subjects_label_is_in_both_languages():
    with translation.override("ru"):
        russian = records_export(language="ru")["notification_152fz"]["subject_categories"]
    with translation.override("en"):
        english = records_export(language="en")["notification_152fz"]["subject_categories"]
    assert len(russian) == len(english) == len(Subjects)
    assert not set(russian) & set(english)


@pytest.mark.parametrize(
    ("language", "texts"),
    [
        (
            "en",
            [
                "<h2>Who is responsible</h2>",
                "DEMONSTRATION — fictional details.",
                '<dd data-operator="inn">7700000000</dd>',
                '<span data-subjects="newsletter_subscribers">Newsletter subscribers</span>',
                '<li data-transfer="DE">Demo Partner Label: Germany — no transfer record in force: '
                "nothing is sent</li>",
                '<span data-database-country="RU">Russia</span>',
                "<h2>Notification to Roskomnadzor</h2>",
                '<dd data-notification="processing_started">2025-06-01</dd>',
            ],
        ),
        (
            "ru",
            [
                "<h2>Кто отвечает за данные</h2>",
                "ДЕМОНСТРАЦИЯ — вымышленные сведения.",
                "Общество с ограниченной ответственностью «Мьюзвей Студио»",
                '<span data-subjects="newsletter_subscribers">Подписчики рассылки</span>',
                "<h2>Уведомление Роскомнадзора</h2>",
            ],
        ),
    ],
)
def test_the_page_shows_the_complete_records(client: Client, recipients, language, texts):
    html = client.get("/privacy/processing/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    for text in texts:
        assert text in html, text
