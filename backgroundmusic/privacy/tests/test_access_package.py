"""The access package: one CSV per section, sources and recipients per data category, labels
only (no raw field names, enum values or edition fingerprints) in both languages, and data.json
valid against its documented schema."""

import copy
import io
import json
import re
import zipfile
from datetime import UTC, datetime

import pytest
from django.utils import translation
from django.utils.functional import Promise

from backgroundmusic.accounts.models import Profile, User
from backgroundmusic.privacy import consents
from backgroundmusic.privacy.kernel.registry import data_map
from backgroundmusic.privacy.models import (
    ConsentMethod,
    ConsentPurpose,
    DataExport,
    DocumentKind,
    PolicyEdition,
    Recipient,
)
from backgroundmusic.privacy.rights import package as package_module
from backgroundmusic.privacy.rights.export import export_archive, export_build, export_request
from backgroundmusic.privacy.rights.labels import AUTOMATIC_NAMES
from backgroundmusic.privacy.rights.package import (
    PACKAGE_FORMAT,
    _columns,
    access_package,
    package_problems,
)
from backgroundmusic.privacy.rights.rows import model_of
from backgroundmusic.privacy.tests.test_export import NOW, make_owner

pytestmark = pytest.mark.django_db

EDITION_HASH = "9f2c" * 16
EFFECTIVE = datetime(2026, 1, 15, tzinfo=UTC)
# Identifiers that must never reach a person: field names, enum values, data-map keys, model
# labels and the edition's fingerprint.
RAW_IDENTIFIERS = [
    "full_name",
    "address_street",
    "account_type",
    "is_published",
    "edition_hash",
    "preference_center",
    "legal_obligation",
    "user.contact.email",
    "user.name",
    "user.privacy_preferences",
    "accounts.Profile",
    "privacy.ConsentRecord",
    "sharing",
    EDITION_HASH,
]


def unzip(content: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name).decode() for name in archive.namelist()}


def readable_texts(document: object, key: str = "") -> list[str]:
    """Every text of data.json a person may read: all but the `key` identifiers."""
    if isinstance(document, dict):
        return [text for k, value in document.items() for text in readable_texts(value, k)]
    if isinstance(document, list):
        return [text for value in document for text in readable_texts(value, key)]
    return [str(document)] if key != "key" and isinstance(document, str) else []


@pytest.fixture
def owner() -> User:
    owner = make_owner()
    PolicyEdition.objects.create(
        kind=DocumentKind.PRIVACY_POLICY,
        version="2.0",
        title_en="Privacy policy",
        title_ru="Политика конфиденциальности",
        body_en="text",
        body_ru="текст",
        content_hash=EDITION_HASH,
        effective_at=EFFECTIVE,
        published_at=EFFECTIVE,
    )
    partner = Recipient.objects.create(
        name="Partner Label",
        country="DE",
        purpose_en="Co-marketing",
        purpose_ru="Совместный маркетинг",
        categories=["user.name"],
        shared_with_consent=True,
    )
    Recipient.objects.create(
        name="Mail Relay",
        country="RU",
        purpose_en="Sending e-mail",
        purpose_ru="Отправка писем",
        categories=["user.contact.email"],
    )
    Recipient.objects.create(
        name="Not Chosen",
        country="FR",
        purpose_en="Ads",
        purpose_ru="Реклама",
        categories=["user.name"],
        shared_with_consent=True,
    )
    consents.consent_give(
        subject=owner,
        purpose=ConsentPurpose.SHARING,
        method=ConsentMethod.PREFERENCE_CENTER,
        recipient=partner,
    )
    return owner


def package_files(owner: User, language: str) -> dict[str, str]:
    with translation.override(language):
        return unzip(export_archive(subject_id=owner.pk, generated_at=NOW))


def test_the_profile_csv_has_labelled_headers_and_the_persons_row(owner):
    files = package_files(owner, "en")
    profile = Profile.objects.get(user=owner)
    assert files["csv/03-profiles.csv"] == (
        "\ufeffRecord number,Account,Account type,Full name,Company name,Tax id,Country,Region,"
        "City,Street and building,Postcode,Contact phone,Language of our messages,"
        "Public profile,Search-engine indexing,Data shown publicly,Updated at\r\n"
        f"{profile.pk},{owner.pk},Natural person,Ivan Petrov,,,,,Vladivostok,Svetlanskaya 12,,"
        f"'+74232223344,English,No,No,,{profile.updated_at.isoformat(timespec='seconds')}\r\n"
    )
    assert sorted(name for name in files if name.startswith("csv/")) == [
        "csv/01-consents.csv",
        "csv/02-users.csv",
        "csv/03-profiles.csv",
        "csv/04-social-network-links.csv",
        "csv/05-email-addresses.csv",
    ]


def test_the_consent_csv_shows_labels_and_the_edition_by_name_and_date(owner):
    files = package_files(owner, "en")
    lines = files["csv/01-consents.csv"].removeprefix("\ufeff").split("\r\n")
    assert lines[0] == (
        "Record number,Account,Purpose,Recipient,Action,How it was given,Policy edition,Time,"
        "Evidence"
    )
    assert lines[1].split(",")[2:7] == [
        "Sharing with a named third party",
        "Partner Label",
        "Given",
        "Preference center",
        "Privacy policy 2.0 (2026-01-15)",
    ]


def test_the_russian_package_has_russian_labels(owner):
    files = package_files(owner, "ru")
    assert "csv/03-профили.csv" in files
    header = files["csv/03-профили.csv"].removeprefix("\ufeff").split("\r\n")[0]
    assert header.startswith("Номер записи,Аккаунт,Тип аккаунта,ФИО,")
    consent = files["csv/01-согласия.csv"].split("\r\n")[1]
    assert "Передача указанному третьему лицу,Partner Label,Согласие дано" in consent
    data = json.loads(files["data.json"])
    assert data["language"] == "ru"
    [social] = [c for c in data["categories"] if c["key"] == "user.social"]
    assert social["sources"] == ["Вы сообщили их нам"]
    assert "Где мы их получили" in files["index.html"]


def test_categories_name_their_sources_and_recipients(owner):
    data = json.loads(package_files(owner, "en")["data.json"])
    categories = {category["key"]: category for category in data["categories"]}
    assert categories["user.name"]["sources"] == ["You gave it to us"]
    # The partner the person agreed to share with, not the one they did not.
    assert categories["user.name"]["recipients"] == [
        {"name": "Partner Label", "country": "Germany"}
    ]
    assert categories["user.contact.email"]["recipients"] == [
        {"name": "Mail Relay", "country": "Russia"}
    ]
    assert categories["user.privacy_preferences"]["sources"] == [
        "You gave it to us",
        "We recorded it while providing the service",
    ]
    index = package_files(owner, "en")["index.html"]
    assert "Partner Label (Germany)" in index and "Not Chosen" not in index


@pytest.mark.parametrize("language", ["en", "ru"])
def test_no_raw_identifier_reaches_the_person(owner, language):
    files = package_files(owner, language)
    data = json.loads(files["data.json"])
    readable = [
        *readable_texts(data),
        *(text for name, text in files.items() if name != "data.json"),
    ]
    for raw in RAW_IDENTIFIERS:
        assert not [text for text in readable if raw in text], raw
    assert not re.search(r"\b[0-9a-f]{64}\b", "\n".join(files.values()))


def test_the_package_validates_against_its_schema(owner):
    data = json.loads(package_files(owner, "en")["data.json"])
    assert data["format"] == PACKAGE_FORMAT
    assert package_problems(data) == []


def test_a_broken_package_fails_validation(owner):
    data = json.loads(package_files(owner, "en")["data.json"])
    broken = copy.deepcopy(data)
    del broken["sections"][0]["columns"][1]["label"]
    broken["categories"][0]["sources"] = []
    broken["format"] = "backgroundmusic.data-export/1"
    assert package_problems(broken) == [
        "categories/0/sources: [] should be non-empty",
        "format: 'backgroundmusic.data-export/2' was expected",
        "sections/0/columns/1: 'label' is a required property",
    ]


def test_an_export_whose_package_breaks_the_schema_is_refused_and_not_stored(owner, monkeypatch):
    # The schema of a newer format than the builder writes: every package breaks it.
    schema = dict(package_module.package_schema())
    monkeypatch.setattr(
        package_module,
        "package_schema",
        lambda: {**schema, "properties": {**schema["properties"], "format": {"const": "v3"}}},
    )
    export = export_request(subject=owner, site_url="http://testserver")
    result = export_build(export_id=export.pk, site_url="http://testserver")
    assert result is not None
    assert (result.status, result.failure_reason, result.token_hash) == (
        DataExport.Status.FAILED,
        "package failed validation",
        "",
    )


def test_every_made_up_name_of_an_exported_column_has_a_label():
    made_up = set()
    for declaration in data_map.models.values():
        columns = _columns(declaration)
        if not columns:
            continue
        options = model_of(declaration)._meta
        names = [column.model_field.verbose_name for column in columns if column.model_field]
        made_up |= {str(name) for name in names if not isinstance(name, Promise)}
        if "verbose_name_plural" not in options.original_attrs:
            with translation.override("en"):
                made_up.add(str(options.verbose_name_plural))
    assert sorted(made_up - set(AUTOMATIC_NAMES)) == []


def test_the_package_of_a_person_without_records_validates():
    stranger = User.objects.create(username="stranger")
    package = access_package(subject_id=stranger.pk, generated_at=NOW)
    assert package_problems(package.document()) == []
