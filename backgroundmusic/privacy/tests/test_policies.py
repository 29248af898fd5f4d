"""Policy editions: hashing, immutability, the edition in force, acceptance evidence, the demo
texts (policies.py)."""

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from backgroundmusic.accounts.models import User
from backgroundmusic.accounts.tests.factories import StaffFactory, UserFactory
from backgroundmusic.core import clock
from backgroundmusic.core.models import AppendOnlyError
from backgroundmusic.privacy import consents, policies
from backgroundmusic.privacy.demo import demo_editions_publish
from backgroundmusic.privacy.editions import (
    current_edition,
    edition_by_version,
    edition_content_hash,
    edition_hash_matches,
    editions_list,
)
from backgroundmusic.privacy.kernel.pseudonyms import subject_pseudonym
from backgroundmusic.privacy.models import (
    AcceptanceAction,
    ConsentAction,
    ConsentMethod,
    ConsentPurpose,
    ConsentRecord,
    DocumentKind,
    PolicyAcceptance,
    PolicyEdition,
)
from backgroundmusic.staffroles.roles import StaffRole

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PP = DocumentKind.PRIVACY_POLICY
TERMS = DocumentKind.TERMS_OF_USE


def edition_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "actor": None,
        "kind": PP,
        "version": "2026-03-02",
        "title_en": "Privacy policy",
        "title_ru": "Политика конфиденциальности",
        "body_en": "## 1. Who we are\n\nWe run the service.",
        "body_ru": "## 1. Кто мы\n\nМы ведём сервис.",
        "change_summary_en": "",
        "change_summary_ru": "",
        "effective_at": None,
        "material_purposes": [],
    }
    data.update(overrides)
    return data


def publish(at: datetime = T0, **overrides: Any) -> PolicyEdition:
    with clock.frozen_at(at):
        return policies.edition_publish(**edition_data(**overrides))


def hash_input(**overrides: Any) -> dict[str, Any]:
    data = {
        "kind": "privacy_policy",
        "version": "1",
        "title_en": "Title",
        "title_ru": "Заголовок",
        "body_en": "Body",
        "body_ru": "Текст",
        "change_summary_en": "Changed",
        "change_summary_ru": "Изменено",
        "material_purposes": ["analytics"],
        "effective_at": T0,
    }
    data.update(overrides)
    return data


def test_content_hash_is_sha256_of_the_canonical_json():
    expected = hashlib.sha256(
        json.dumps(
            {
                "body_en": "Body",
                "body_ru": "Текст",
                "change_summary_en": "Changed",
                "change_summary_ru": "Изменено",
                "effective_at": "2026-03-02T09:00:00.000000+00:00",
                "kind": "privacy_policy",
                "material_purposes": ["analytics"],
                "title_en": "Title",
                "title_ru": "Заголовок",
                "version": "1",
            },
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode("utf-8")
    ).hexdigest()
    assert edition_content_hash(**hash_input()) == expected
    # Stable: the same content gives the same hash whatever time zone the date is given in.
    moscow = T0.astimezone(timezone(timedelta(hours=3)))
    assert moscow.isoformat() == "2026-03-02T12:00:00+03:00"
    assert edition_content_hash(**hash_input(effective_at=moscow)) == expected


@pytest.mark.parametrize(
    "field, value",
    [
        ("kind", "terms_of_use"),
        ("version", "2"),
        ("title_en", "Title!"),
        ("title_ru", "Заголовок!"),
        ("body_en", "Body."),
        ("body_ru", "Текст."),
        ("change_summary_en", "Changed."),
        ("change_summary_ru", "Изменено."),
        ("material_purposes", ["analytics", "research"]),
        ("effective_at", T0 + timedelta(microseconds=1)),
    ],
)
def test_content_hash_changes_when_anything_changes(field, value):
    assert edition_content_hash(**hash_input(**{field: value})) != edition_content_hash(
        **hash_input()
    )


def test_published_edition_stores_the_hash_of_its_normalized_content():
    officer = StaffFactory.create(role=StaffRole.PRIVACY_OFFICER)
    edition = publish(
        actor=officer, body_en="## 1. Who we are  \r\n\r\nWe run the service.\r\n\r\n"
    )
    assert edition.body_en == "## 1. Who we are\n\nWe run the service."
    assert edition.content_hash == edition_content_hash(
        kind="privacy_policy",
        version="2026-03-02",
        title_en="Privacy policy",
        title_ru="Политика конфиденциальности",
        body_en="## 1. Who we are\n\nWe run the service.",
        body_ru="## 1. Кто мы\n\nМы ведём сервис.",
        change_summary_en="",
        change_summary_ru="",
        material_purposes=[],
        effective_at=T0,
    )
    edition.refresh_from_db()
    assert (edition.published_at, edition.effective_at, edition.published_by_id) == (
        T0,
        T0,
        officer.pk,
    )
    assert edition_hash_matches(edition=edition)


def test_a_published_version_cannot_be_published_again_with_other_text():
    edition = publish()
    with pytest.raises(policies.EditionError) as refused:
        publish(at=T0 + timedelta(days=1), body_en="## 1. Who we are\n\nSomeone else.")
    assert refused.value.message == (
        "Version 2026-03-02 of the privacy policy is already published, and a published edition "
        "can never be changed. Publish the change as a new version."
    )
    assert list(PolicyEdition.objects.values_list("pk", "body_en", "content_hash")) == [
        (edition.pk, "## 1. Who we are\n\nWe run the service.", edition.content_hash)
    ]


def test_the_same_text_under_the_same_version_is_refused_too():
    publish()
    with pytest.raises(policies.EditionError):
        publish(at=T0 + timedelta(days=1))
    assert PolicyEdition.objects.count() == 1


def test_a_published_edition_cannot_be_changed_or_deleted_through_the_orm():
    edition = publish()
    with pytest.raises(AppendOnlyError):
        PolicyEdition.objects.filter(pk=edition.pk).update(body_en="Quietly rewritten.")
    edition.body_en = "Quietly rewritten."
    with pytest.raises(AppendOnlyError):
        edition.save()
    with pytest.raises(AppendOnlyError):
        PolicyEdition.objects.filter(pk=edition.pk).delete()
    assert PolicyEdition.objects.get(pk=edition.pk).body_en != "Quietly rewritten."


def test_a_change_made_behind_the_orm_is_detected_by_the_hash():
    edition = publish()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE privacy_policyedition SET body_en = %s WHERE id = %s",
            ["Quietly rewritten.", edition.pk],
        )
    edition.refresh_from_db()
    assert not edition_hash_matches(edition=edition)


# Validation: nothing is created when publishing is refused


@pytest.mark.parametrize(
    "overrides, message",
    [
        (
            {"version": "2026/03/02"},
            "A version has 1 to 32 letters, digits, dots or hyphens and starts with a letter or "
            "digit, e.g. 2026-11-01.",
        ),
        ({"version": ""}, None),
        ({"title_en": "  "}, "The English title is empty."),
        (
            {"title_ru": "Two\nlines"},
            "The Russian title must be one line of at most 200 characters.",
        ),
        ({"title_en": "x" * 201}, "The English title must be one line of at most 200 characters."),
        ({"body_ru": "\n \n"}, "The Russian text is empty."),
        ({"material_purposes": ["tracking"]}, "Unknown consent purpose: tracking."),
        (
            {"kind": TERMS, "material_purposes": ["newsletter"]},
            "Consent purposes are described in the privacy policy, not in the user agreement "
            "(terms of use).",
        ),
        ({"kind": "cookie_policy"}, "Unknown kind of document: cookie_policy."),
        (
            {"effective_at": T0 - timedelta(seconds=1)},
            "The effective date is in the past: an edition can take effect now or later.",
        ),
    ],
)
def test_invalid_editions_are_refused(overrides, message):
    with pytest.raises(policies.EditionError) as refused:
        publish(**overrides)
    if message is not None:
        assert refused.value.message == message
    assert PolicyEdition.objects.count() == 0


def test_a_later_edition_needs_a_later_effective_date_and_a_change_summary():
    publish(effective_at=T0 + timedelta(days=30))
    with pytest.raises(policies.EditionError) as too_early:
        publish(
            at=T0 + timedelta(days=1),
            version="2",
            effective_at=T0 + timedelta(days=30),
            change_summary_en="x",
            change_summary_ru="x",
        )
    assert too_early.value.message == (
        "The effective date must be later than that of the latest edition of the privacy policy "
        "(2026-04-01 09:00 UTC)."
    )
    with pytest.raises(policies.EditionError) as no_summary:
        publish(
            at=T0 + timedelta(days=1),
            version="2",
            effective_at=T0 + timedelta(days=31),
            change_summary_en="Clearer retention periods.",
        )
    assert no_summary.value.message == (
        "Describe what changed in both languages: people are shown this summary when the new "
        "edition takes effect."
    )
    assert PolicyEdition.objects.count() == 1


def test_each_document_has_its_own_versions():
    privacy = publish()
    terms = publish(kind=TERMS, title_en="User agreement", title_ru="Пользовательское соглашение")
    assert (privacy.version, terms.version) == ("2026-03-02", "2026-03-02")
    assert privacy.content_hash != terms.content_hash


def test_the_edition_in_force_follows_the_effective_date():
    assert current_edition(kind=PP) is None
    first = publish()
    second = publish(
        at=T0 + timedelta(days=1),
        version="2026-04-01",
        effective_at=T0 + timedelta(days=30),
        change_summary_en="New research consent.",
        change_summary_ru="Новое согласие на исследования.",
    )
    with clock.frozen_at(T0 - timedelta(seconds=1)):
        assert current_edition(kind=PP) is None
    with clock.frozen_at(T0 + timedelta(days=29, hours=23, minutes=59, seconds=59)):
        assert current_edition(kind=PP) == first
        # An edition published in advance is public, but not in force.
        assert edition_by_version(kind=PP, version="2026-04-01") == second
    with clock.frozen_at(T0 + timedelta(days=30)):
        assert current_edition(kind=PP) == second
        assert current_edition(kind=TERMS) is None
    assert list(editions_list(kind=PP)) == [second, first]


def test_edition_by_version_knows_only_published_editions_of_that_document():
    publish()
    PolicyEdition.objects.create(
        kind=PP,
        version="draft",
        title_en="t",
        title_ru="t",
        body_en="b",
        body_ru="b",
        content_hash="d" * 64,
        effective_at=T0,
    )
    assert edition_by_version(kind=PP, version="draft") is None
    assert edition_by_version(kind=TERMS, version="2026-03-02") is None
    assert edition_by_version(kind=PP, version="nope") is None
    assert [e.version for e in editions_list(kind=PP)] == ["2026-03-02"]


def test_a_material_change_suspends_the_consents_of_that_purpose():
    person, other = UserFactory.create(), UserFactory.create()
    publish()
    with clock.frozen_at(T0 + timedelta(hours=1)):
        consents.consent_give(
            subject=person, purpose=ConsentPurpose.ANALYTICS, method=ConsentMethod.BANNER
        )
        consents.consent_give(
            subject=other, purpose=ConsentPurpose.NEWSLETTER, method=ConsentMethod.FORM
        )
    second = publish(
        at=T0 + timedelta(days=1),
        version="2",
        change_summary_en="Analytics now measure time on page.",
        change_summary_ru="Аналитика теперь учитывает время на странице.",
        material_purposes=["analytics"],
    )
    suspended = ConsentRecord.objects.filter(action=ConsentAction.SUSPENDED)
    assert [(r.subject_id, r.purpose, r.method, r.edition_hash) for r in suspended] == [
        (person.pk, "analytics", "policy_change", second.content_hash)
    ]
    assert second.material_purposes == ["analytics"]


def test_acceptance_records_the_evidence_with_a_truncated_address():
    person = UserFactory.create()
    edition = publish(kind=TERMS)
    with clock.frozen_at(T0 + timedelta(minutes=5)):
        record = policies.acceptance_record(
            user=person,
            edition=edition,
            action=AcceptanceAction.ACCEPTED,
            request_ip_truncated="203.0.113.77",  # a full address is truncated all the same
            user_agent_family="Firefox 140",
        )
    record.refresh_from_db()
    assert (
        record.user_id,
        record.subject_pseudonym,
        record.edition_id,
        record.edition_hash,
        record.action,
        record.at,
        record.ip_truncated,
        record.user_agent_family,
    ) == (
        person.pk,
        subject_pseudonym(subject_id=person.pk),
        edition.pk,
        edition.content_hash,
        "accepted",
        T0 + timedelta(minutes=5),
        "203.0.113.0",
        "Firefox 140",
    )


def test_ipv6_addresses_are_kept_to_their_48_bit_prefix():
    person = UserFactory.create()
    edition = publish()
    record = policies.acceptance_record(
        user=person,
        edition=edition,
        action=AcceptanceAction.ACKNOWLEDGED,
        request_ip_truncated="2001:db8:abcd:12:1:2:3:4",
        user_agent_family="",
    )
    assert record.ip_truncated == "2001:db8:abcd::"


@pytest.mark.parametrize(
    "kind, action, message",
    [
        (PP, AcceptanceAction.ACCEPTED, "The privacy policy is acknowledged, not accepted."),
        (
            TERMS,
            AcceptanceAction.ACKNOWLEDGED,
            "The user agreement (terms of use) is accepted, not acknowledged.",
        ),
    ],
)
def test_the_policy_is_acknowledged_and_the_agreement_accepted(kind, action, message):
    person = UserFactory.create()
    edition = publish(kind=kind)
    with pytest.raises(policies.EditionError) as refused:
        policies.acceptance_record(
            user=person,
            edition=edition,
            action=action,
            request_ip_truncated="",
            user_agent_family="",
        )
    assert refused.value.message == message
    assert PolicyAcceptance.objects.count() == 0


def test_acceptance_rows_are_append_only():
    person = UserFactory.create()
    record = policies.acceptance_record(
        user=person,
        edition=publish(),
        action=AcceptanceAction.ACKNOWLEDGED,
        request_ip_truncated="198.51.100.9",
        user_agent_family="Chrome 126",
    )
    record.ip_truncated = "192.0.2.0"
    with pytest.raises(AppendOnlyError):
        record.save()
    with pytest.raises(AppendOnlyError):
        record.delete()
    with pytest.raises(AppendOnlyError):
        PolicyAcceptance.objects.filter(pk=record.pk).update(ip_truncated="192.0.2.0")
    with pytest.raises(AppendOnlyError):
        PolicyAcceptance.objects.filter(pk=record.pk).delete()
    assert list(PolicyAcceptance.objects.values_list("ip_truncated", flat=True)) == ["198.51.100.0"]


def test_acknowledging_is_recorded_once_and_only_for_the_edition_in_force():
    person = UserFactory.create()
    first = publish()
    with clock.frozen_at(T0 + timedelta(hours=1)):
        one = policies.edition_acknowledge(
            user=person, edition=first, request_ip_truncated="203.0.113.0", user_agent_family="X"
        )
        again = policies.edition_acknowledge(
            user=person, edition=first, request_ip_truncated="203.0.113.0", user_agent_family="X"
        )
    assert one.pk == again.pk
    second = publish(
        at=T0 + timedelta(days=1),
        version="2",
        change_summary_en="c",
        change_summary_ru="c",
    )
    with clock.frozen_at(T0 + timedelta(days=2)), pytest.raises(policies.EditionError) as stale:
        policies.edition_acknowledge(
            user=person, edition=first, request_ip_truncated="", user_agent_family=""
        )
    assert stale.value.message == (
        "This edition of the privacy policy is not the one in force now; read the current "
        "edition instead."
    )
    assert list(PolicyAcceptance.objects.values_list("edition", "action")) == [
        (first.pk, "acknowledged")
    ]
    assert second.pk != first.pk


def test_pending_acknowledgement_is_the_unread_edition_in_force(django_assert_num_queries):
    person = UserFactory.create()
    with django_assert_num_queries(1):
        assert policies.pending_acknowledgement(user=person) is None
    policy = publish()
    terms = publish(kind=TERMS)
    with clock.frozen_at(T0 + timedelta(hours=1)):
        with django_assert_num_queries(1):
            assert policies.pending_acknowledgement(user=person) == policy
        policies.edition_acknowledge(
            user=person, edition=policy, request_ip_truncated="", user_agent_family=""
        )
        assert policies.pending_acknowledgement(user=person) == terms
        policies.edition_acknowledge(
            user=person, edition=terms, request_ip_truncated="", user_agent_family=""
        )
        assert policies.pending_acknowledgement(user=person) is None
    newer = publish(
        at=T0 + timedelta(days=1),
        version="2",
        change_summary_en="c",
        change_summary_ru="c",
        effective_at=T0 + timedelta(days=10),
    )
    with clock.frozen_at(T0 + timedelta(days=9)):
        assert policies.pending_acknowledgement(user=person) is None  # not in force yet
    with clock.frozen_at(T0 + timedelta(days=10)):
        assert policies.pending_acknowledgement(user=person) == newer


def test_sign_up_records_nothing_before_any_edition_exists():
    person = UserFactory.create()
    assert (
        policies.signup_agreements_record(
            user=person, request_ip_truncated="203.0.113.77", user_agent_family="Firefox 140"
        )
        == []
    )
    assert PolicyAcceptance.objects.count() == 0


def test_demo_editions_are_the_projects_own_texts_and_publishing_them_is_idempotent():
    with clock.frozen_at(datetime(2026, 12, 4, 12, 0, tzinfo=UTC)):
        editions = demo_editions_publish()
        again = demo_editions_publish()
        assert [e.pk for e in again] == [e.pk for e in editions]
        assert [(e.kind, e.version, e.material_purposes) for e in editions] == [
            ("privacy_policy", "2025-06-01", []),
            ("privacy_policy", "2026-11-01", ["analytics"]),
            ("privacy_policy", "2026-12-01", []),
            ("privacy_policy", "2026-12-04", ["newsletter"]),
            ("privacy_policy", "2026-12-05", []),
            ("privacy_policy", "2026-12-06", []),
            ("terms_of_use", "2025-06-01", []),
            ("terms_of_use", "2026-12-05", []),
        ]
        # The editions naming the operator from the configuration take effect the next day, the
        # one naming the library the day after.
        assert current_edition(kind=PP) == editions[3]
        assert current_edition(kind=TERMS) == editions[6]
    with clock.frozen_at(datetime(2026, 12, 5, 0, 0, tzinfo=UTC)):
        assert current_edition(kind=PP) == editions[4]
        assert current_edition(kind=TERMS) == editions[7]
    with clock.frozen_at(datetime(2026, 12, 6, 0, 0, tzinfo=UTC)):
        assert current_edition(kind=PP) == editions[5]
        assert "the playlists you make" in editions[5].body_en
        assert "ваши плейлисты" in editions[5].body_ru
    assert PolicyEdition.objects.count() == 8
    for edition in editions:
        assert edition_hash_matches(edition=edition)
        assert edition.published_by_id is None  # seeded
        assert edition.body_en.strip() and edition.body_ru.strip()
    assert [e.published_at == e.effective_at for e in editions] == (
        [True] * 4 + [False, False, True, False]
    )
    current = editions[2]
    for needed in (
        "privacy@backgroundmusic.net",
        "Roskomnadzor",
        "/privacy/",
        "30 days after it is closed",
        "90 days",
        "3 years after the agreements end",
        "Global Privacy Control",
        "/privacy-policy/editions/",
        # What licensing keeps, as the data map declares it (Retentions.ACCOUNTING_RECORDS,
        # LICENCE_AGREEMENTS, DOWNLOADS), and what erasure does to it.
        "5 years after the end of the year of payment",
        "5 years after the end of the year in which the agreement ended",
        "3 years after the download",
        "your name is replaced by a pseudonym",
        "/pricing/",
        "/verify/",
        "YooKassa",
        "MP3 320 and FLAC",
        "audit trail",
    ):
        assert needed in current.body_en, needed
    for needed in ("Роскомнадзор", "ЮKassa", "/verify/", "MP3 320 и FLAC", "псевдонимом"):
        assert needed in current.body_ru, needed
    # The edition before licensing existed stays as it was published.
    assert "YooKassa" not in editions[1].body_en
    assert "research" not in editions[0].body_en


def test_seed_demo_publishes_the_texts_and_the_demo_user_sees_the_newer_policy(settings, tmp_path):
    settings.EMBEDDED = True
    settings.VAR_DIR = tmp_path
    with clock.frozen_at(datetime(2026, 12, 4, 12, 0, tzinfo=UTC)):
        call_command("seed_demo", stdout=StringIO())
        call_command("seed_demo", stdout=StringIO())  # idempotent
        demo = User.objects.get(username="demo")
        # Named, so that the demo user can conclude a licence agreement at checkout.
        assert demo.profile.full_name == "Demo User"
        accepted = sorted(
            (a.edition.kind, a.edition.version, a.action)
            for a in PolicyAcceptance.objects.filter(user=demo)
        )
        assert accepted == [
            ("privacy_policy", "2025-06-01", "acknowledged"),
            ("terms_of_use", "2025-06-01", "accepted"),
        ]
        pending = policies.pending_acknowledgement(user=demo)
        assert pending is not None
        assert (pending.kind, pending.version) == ("privacy_policy", "2026-12-04")
    assert PolicyEdition.objects.count() == 8


def test_markdown_is_rendered_and_sanitized():
    html = str(
        policies.markdown_html(
            "## Права\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1)) "
            '<img src="x" onerror="alert(1)"> [mail](mailto:privacy@backgroundmusic.net)\n\n'
            "| a | b |\n|---|---|\n| 1 | 2 |"
        )
    )
    assert '<h2 id="права">Права</h2>' in html
    assert "<script" not in html and "javascript:" not in html and "onerror" not in html
    assert "<img" not in html
    assert '<a href="mailto:privacy@backgroundmusic.net" rel="noopener noreferrer">mail</a>' in html
    assert "<table>" in html and "<td>1</td>" in html
