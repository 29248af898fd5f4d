"""The operator's details in the published texts (core/operator.py, privacy/policies.py): filled
from the configuration at publish time, refused while a placeholder is left, and marked as a
demonstration in the embedded demo."""

from datetime import UTC, datetime
from typing import Any

import pytest

from backgroundmusic.core import clock
from backgroundmusic.core.operator import operator_details, unresolved_placeholders
from backgroundmusic.privacy import policies
from backgroundmusic.privacy.demo import demo_editions_publish, edition_sources
from backgroundmusic.privacy.editions import edition_hash_matches
from backgroundmusic.privacy.models import DocumentKind, PolicyEdition

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
OPERATOR_BLOCK_EN = (
    "- **Primary state registration number (OGRN):** {{ operator.ogrn }}\n"
    "- **Taxpayer number (INN):** {{ operator.inn }}\n"
    "- **Representative:** {{ operator.representative }}\n"
    "- **Officer:** {{ operator.dpo_name }}, {{ operator.dpo_phone }}"
)
NOTICE = "{{ operator.demonstration_notice }}"
OPERATOR_BLOCK_RU = "- **ОГРН:** {{ operator.ogrn }}\n- **ИНН:** {{operator.inn}}"
PRODUCTION = {
    "ogrn": "1027700132195",
    "inn": "7701234567",
    "rkn_register_number": "77-24-012345",
    "representative": "EU Rep Services B.V., Keizersgracht 1, Amsterdam, Netherlands",
    "dpo_name": "Irina Petrova",
    "dpo_email": "dpo@backgroundmusic.net",
    "dpo_phone": "+7 495 000-12-34",
    "processing_started": "2025-06-01",
    "service_started_on": "2025-06-01",
}


@pytest.fixture
def production(settings) -> None:
    settings.OPERATOR_DEMONSTRATION = False
    settings.OPERATOR_DETAILS = {**settings.OPERATOR_DETAILS, **PRODUCTION}


@pytest.fixture
def unconfigured(settings) -> None:
    settings.OPERATOR_DEMONSTRATION = False
    settings.OPERATOR_DETAILS = {**settings.OPERATOR_DETAILS, **dict.fromkeys(PRODUCTION, "")}


def publish(**overrides: Any) -> PolicyEdition:
    data: dict[str, Any] = {
        "actor": None,
        "kind": DocumentKind.PRIVACY_POLICY,
        "version": "3.0",
        "title_en": "Privacy policy",
        "title_ru": "Политика конфиденциальности",
        "body_en": f"## 1. Who we are\n\n{NOTICE}\n\n{OPERATOR_BLOCK_EN}",
        "body_ru": f"## 1. Кто мы\n\n{OPERATOR_BLOCK_RU}",
        "change_summary_en": "",
        "change_summary_ru": "",
        "effective_at": None,
        "material_purposes": [],
        **overrides,
    }
    with clock.frozen_at(NOW):
        return policies.edition_publish(**data)


def test_publishing_fills_the_operators_details_into_the_hashed_text(production):
    edition = publish()
    assert edition.body_en == (
        "## 1. Who we are\n\n\n\n"
        "- **Primary state registration number (OGRN):** 1027700132195\n"
        "- **Taxpayer number (INN):** 7701234567\n"
        "- **Representative:** EU Rep Services B.V., Keizersgracht 1, Amsterdam, Netherlands\n"
        "- **Officer:** Irina Petrova, +7 495 000-12-34"
    )
    assert edition.body_ru == "## 1. Кто мы\n\n- **ОГРН:** 1027700132195\n- **ИНН:** 7701234567"
    assert edition_hash_matches(edition=edition)
    assert "DEMONSTRATION" not in edition.body_en


def test_the_demonstration_fills_fictional_details_and_says_so():
    edition = publish()
    assert edition.body_en.startswith(
        "## 1. Who we are\n\n**DEMONSTRATION — fictional details.** This installation is a "
        "demonstration: the registration numbers, the representative and the officer below are "
        "invented and name no real company or person.\n\n"
        "- **Primary state registration number (OGRN):** 1000000000000\n"
    )
    assert "Dana Demo (fictional)" in edition.body_en
    assert unresolved_placeholders(edition.body_en) == []


def test_an_unconfigured_detail_is_refused_and_nothing_is_published(unconfigured):
    with pytest.raises(policies.EditionError) as refused:
        publish()
    assert refused.value.message == (
        "The English text still has placeholders to fill in: {{ operator.ogrn }}, "
        "{{ operator.inn }}, {{ operator.representative }}, {{ operator.dpo_name }}, "
        "{{ operator.dpo_phone }}. Set the operator's details in the configuration (the "
        "OPERATOR_* and DPO_* variables) or complete the text, then publish."
    )
    assert PolicyEdition.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "left"),
    [
        ({"body_en": "Registration numbers: [to be filled in]."}, "[to be filled in]"),
        ({"body_ru": "ОГРН, ИНН: [заполняется]."}, "[заполняется]"),
        ({"body_en": "Our VAT id is {{ operator.vat }}."}, "{{ operator.vat }}"),
        ({"body_en": "Write to {{ dpo.email }}."}, "{{ dpo.email }}"),
        (
            {"body_en": "Fine.", "change_summary_en": "Filled [TBD]", "change_summary_ru": "Да"},
            "[TBD]",
        ),
    ],
)
def test_a_bracketed_note_or_unknown_placeholder_is_refused(overrides, left, production):
    with pytest.raises(policies.EditionError) as refused:
        publish(**overrides)
    assert f"placeholders to fill in: {left}." in refused.value.message
    assert PolicyEdition.objects.count() == 0


def test_markdown_links_are_not_placeholders(production):
    edition = publish(
        body_en="Write to [us](mailto:{{ operator.dpo_email }}) or [the center](/privacy/)."
    )
    assert edition.body_en == (
        "Write to [us](mailto:dpo@backgroundmusic.net) or [the center](/privacy/)."
    )


def test_the_current_editions_of_the_project_publish_in_production(production):
    """The newest edition of each document fills every placeholder from a configured operator,
    and the staff path (edition_publish) accepts it."""
    latest = {source.kind: source for source in edition_sources()}
    for number, (kind, source) in enumerate(sorted(latest.items())):
        edition = publish(
            kind=kind,
            version=f"9.{number}",
            title_en=source.title_en,
            title_ru=source.title_ru,
            body_en=source.body_en,
            body_ru=source.body_ru,
        )
        assert "1027700132195" in edition.body_en and "1027700132195" in edition.body_ru
        assert "7701234567" in edition.body_en and "7701234567" in edition.body_ru
        assert unresolved_placeholders(edition.body_en + edition.body_ru) == []
        assert "DEMONSTRATION" not in edition.body_en


def test_the_current_editions_are_refused_while_the_operator_is_unconfigured(unconfigured):
    source = [s for s in edition_sources() if s.kind == DocumentKind.PRIVACY_POLICY][-1]
    with pytest.raises(policies.EditionError) as refused:
        publish(body_en=source.body_en, body_ru=source.body_ru)
    assert "{{ operator.ogrn }}" in refused.value.message


def test_the_demo_publishes_the_new_editions_filled_and_keeps_the_earlier_ones_as_they_were():
    with clock.frozen_at(NOW):
        editions = {(e.kind, e.version): e for e in demo_editions_publish()}
    policy = editions[("privacy_policy", "2026-12-05")]
    terms = editions[("terms_of_use", "2026-12-05")]
    for edition in (policy, terms):
        assert unresolved_placeholders(edition.body_en) == []
        assert unresolved_placeholders(edition.body_ru) == []
        assert "**DEMONSTRATION — fictional details.**" in edition.body_en
        assert "**ДЕМОНСТРАЦИЯ — вымышленные сведения.**" in edition.body_ru
    assert "- **Taxpayer number (INN):** 7700000000" in policy.body_en
    assert "- **ИНН:** 7700000000" in policy.body_ru
    assert (
        "- **Our representative in the European Union (Article 27 GDPR):** Demo Representative "
        "GmbH (fictional), Musterstraße 1, 10115 Berlin, Germany" in policy.body_en
    )
    assert "OGRN 1000000000000, INN 7700000000" in terms.body_en
    # Published editions are history: the earlier texts keep the notes they were published with.
    assert "[number to be filled in]" in editions[("privacy_policy", "2026-12-04")].body_en
    assert "[to be filled in]" in editions[("terms_of_use", "2025-06-01")].body_en


def test_the_operator_details_name_what_is_not_configured(unconfigured):
    details = operator_details()
    assert details.demonstration is False
    assert details.missing() == [
        "ogrn",
        "inn",
        "rkn_register_number",
        "representative",
        "dpo_name",
        "dpo_email",
        "dpo_phone",
        "processing_started",
        "service_started_on",
    ]
