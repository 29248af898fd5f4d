"""The consent ledger: services, the consent_allows selector, suspension, GPC and DNT."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from backgroundmusic.accounts.tests.factories import UserFactory
from backgroundmusic.core import clock
from backgroundmusic.core.errors import DomainError
from backgroundmusic.core.models import AppendOnlyError
from backgroundmusic.core.request_info import PrivacySignals
from backgroundmusic.privacy import consents
from backgroundmusic.privacy.models import (
    ConsentAction,
    ConsentMethod,
    ConsentPurpose,
    ConsentRecord,
    DocumentKind,
    PolicyEdition,
    Recipient,
)

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
P = ConsentPurpose
A = ConsentAction
M = ConsentMethod
NON_SHARING = [
    P.NEWSLETTER,
    P.PROMOTIONAL_SMS,
    P.ANALYTICS,
    P.RESEARCH,
    P.PUBLIC_PROFILE,
    P.INDEXING,
]


def edition(version: str, *, material: list[str] | None = None, at: datetime = T0):
    return PolicyEdition.objects.create(
        kind=DocumentKind.PRIVACY_POLICY,
        version=version,
        title_en="Privacy policy",
        title_ru="Политика конфиденциальности",
        body_en="text",
        body_ru="текст",
        material_purposes=material or [],
        content_hash=f"{version:0>64}",
        effective_at=at,
        published_at=at,
    )


def partner(name: str = "Partner Label", *, with_consent: bool = True) -> Recipient:
    return Recipient.objects.create(
        name=name,
        country="DE",
        purpose_en="News about releases",
        purpose_ru="Новости о релизах",
        categories=["user.contact.email"],
        shared_with_consent=with_consent,
    )


def ledger(user) -> list[tuple[str, str | None, str, str]]:
    """The person's records, oldest first: (purpose, recipient name, action, method)."""
    return [
        (r.purpose, r.recipient.name if r.recipient else None, r.action, r.method)
        for r in ConsentRecord.objects.filter(subject=user)
        .select_related("recipient")
        .order_by("at", "pk")
    ]


def test_records_cannot_be_changed_or_deleted_through_the_orm():
    user = UserFactory.create()
    record = consents.consent_give(subject=user, purpose=P.NEWSLETTER, method=M.FORM)
    record.action = A.WITHDRAWN
    with pytest.raises(AppendOnlyError, match=r"privacy\.ConsentRecord is append-only"):
        record.save()
    with pytest.raises(AppendOnlyError, match=r"privacy\.ConsentRecord is append-only"):
        record.delete()
    with pytest.raises(AppendOnlyError, match=r"privacy\.ConsentRecord is append-only"):
        ConsentRecord.objects.filter(pk=record.pk).update(action=A.WITHDRAWN)
    with pytest.raises(AppendOnlyError, match=r"privacy\.ConsentRecord is append-only"):
        ConsentRecord.objects.filter(pk=record.pk).delete()
    assert ledger(user) == [("newsletter", None, "given", "form")]


def test_every_purpose_is_off_for_a_new_user():
    user = UserFactory.create()
    recipient = partner()
    assert {p: consents.consent_allows(subject=user, purpose=p) for p in NON_SHARING} == {
        p: False for p in NON_SHARING
    }
    assert not consents.consent_allows(subject=user, purpose=P.SHARING, recipient=recipient)
    states = consents.consent_state(subject=user)
    assert [(s.purpose, s.recipient, s.action, s.at, s.method) for s in states] == [
        *[(p, None, None, None, None) for p in NON_SHARING],
        (P.SHARING, recipient, None, None, None),
    ]
    assert ConsentRecord.objects.count() == 0


@pytest.mark.parametrize("purpose", [P.NEWSLETTER, P.ANALYTICS, P.RESEARCH])
def test_give_allows_and_withdraw_stops(purpose):
    user = UserFactory.create()
    other = UserFactory.create()
    with clock.frozen_at(T0):
        given = consents.consent_give(subject=user, purpose=purpose, method=M.PREFERENCE_CENTER)
    assert (given.action, given.method, given.at, given.edition_hash) == (
        A.GIVEN,
        M.PREFERENCE_CENTER,
        T0,
        "",
    )
    assert consents.consent_allows(subject=user, purpose=purpose)
    assert not consents.consent_allows(subject=other, purpose=purpose)
    with clock.frozen_at(T0 + timedelta(minutes=5)):
        withdrawn = consents.consent_withdraw(subject=user, purpose=purpose, method=M.EMAIL)
    assert withdrawn is not None
    assert (withdrawn.action, withdrawn.method, withdrawn.at) == (
        A.WITHDRAWN,
        M.EMAIL,
        T0 + timedelta(minutes=5),
    )
    assert not consents.consent_allows(subject=user, purpose=purpose)
    assert ledger(user) == [
        (purpose, None, "given", "preference_center"),
        (purpose, None, "withdrawn", "email"),
    ]
    assert ledger(other) == []


def test_giving_twice_or_withdrawing_what_is_not_given_writes_nothing():
    user = UserFactory.create()
    assert consents.consent_withdraw(subject=user, purpose=P.NEWSLETTER, method=M.FORM) is None
    first = consents.consent_give(subject=user, purpose=P.NEWSLETTER, method=M.FORM)
    again = consents.consent_give(subject=user, purpose=P.NEWSLETTER, method=M.BANNER)
    assert again.pk == first.pk
    withdrawn = consents.consent_withdraw(subject=user, purpose=P.NEWSLETTER, method=M.FORM)
    assert withdrawn is not None
    repeated = consents.consent_withdraw(subject=user, purpose=P.NEWSLETTER, method=M.FORM)
    assert repeated is not None and repeated.pk == withdrawn.pk
    assert ledger(user) == [
        ("newsletter", None, "given", "form"),
        ("newsletter", None, "withdrawn", "form"),
    ]


def test_each_record_carries_the_hash_of_the_privacy_policy_in_force():
    user = UserFactory.create()
    edition("1", at=T0 - timedelta(days=30))
    current = edition("2", at=T0 - timedelta(days=1))
    edition("3", at=T0 + timedelta(days=10))  # published, not in force yet
    with clock.frozen_at(T0):
        record = consents.consent_give(subject=user, purpose=P.RESEARCH, method=M.FORM)
    assert record.edition_hash == current.content_hash


def test_sharing_is_per_recipient():
    user = UserFactory.create()
    label, other_label = partner("Label A"), partner("Label B")
    consents.consent_give(subject=user, purpose=P.SHARING, method=M.FORM, recipient=label)
    assert consents.consent_allows(subject=user, purpose=P.SHARING, recipient=label)
    assert not consents.consent_allows(subject=user, purpose=P.SHARING, recipient=other_label)
    consents.consent_withdraw(subject=user, purpose=P.SHARING, method=M.FORM, recipient=label)
    assert not consents.consent_allows(subject=user, purpose=P.SHARING, recipient=label)
    assert ledger(user) == [
        ("sharing", "Label A", "given", "form"),
        ("sharing", "Label A", "withdrawn", "form"),
    ]


def test_sharing_needs_a_recipient_and_other_purposes_refuse_one():
    user = UserFactory.create()
    with pytest.raises(ValueError, match="a recipient goes with the purpose 'sharing'"):
        consents.consent_give(subject=user, purpose=P.SHARING, method=M.FORM)
    with pytest.raises(ValueError, match="a recipient goes with the purpose 'sharing'"):
        consents.consent_allows(subject=user, purpose=P.NEWSLETTER, recipient=partner())
    assert ConsentRecord.objects.count() == 0


def test_a_recipient_not_offered_cannot_be_chosen_and_stops_being_allowed():
    user = UserFactory.create()
    payments = partner("Payments", with_consent=False)
    with pytest.raises(DomainError, match="Sharing with Payments is not something you can choose"):
        consents.consent_give(subject=user, purpose=P.SHARING, method=M.FORM, recipient=payments)
    label = partner("Label")
    consents.consent_give(subject=user, purpose=P.SHARING, method=M.FORM, recipient=label)
    label.is_active = False
    label.save()
    assert not consents.consent_allows(subject=user, purpose=P.SHARING, recipient=label)
    # Still listed, so the person can withdraw it.
    assert [s.recipient for s in consents.consent_state(subject=user) if s.recipient] == [label]
    assert ledger(user) == [("sharing", "Label", "given", "form")]


def test_indexing_needs_the_public_profile_consent():
    user = UserFactory.create()
    with pytest.raises(DomainError, match="Publish your public profile before"):
        consents.consent_give(subject=user, purpose=P.INDEXING, method=M.FORM)
    assert ledger(user) == []


def test_suspension_by_a_material_edition_holds_until_given_again():
    given_newsletter, withdrawn_newsletter, analytics_only = (
        UserFactory.create() for _ in range(3)
    )
    label = partner()
    with clock.frozen_at(T0):
        for user in (given_newsletter, withdrawn_newsletter):
            consents.consent_give(subject=user, purpose=P.NEWSLETTER, method=M.FORM)
        consents.consent_withdraw(subject=withdrawn_newsletter, purpose=P.NEWSLETTER, method=M.FORM)
        consents.consent_give(subject=analytics_only, purpose=P.ANALYTICS, method=M.BANNER)
        consents.consent_give(
            subject=given_newsletter, purpose=P.SHARING, method=M.FORM, recipient=label
        )
    new = edition("2", material=["newsletter", "sharing"], at=T0 + timedelta(days=1))
    with clock.frozen_at(T0 + timedelta(days=1)):
        assert consents.consents_suspend_for_edition(edition=new) == 2
        # Running it again suspends nothing more.
        assert consents.consents_suspend_for_edition(edition=new) == 0
    suspended = ConsentRecord.objects.filter(action=A.SUSPENDED).order_by("purpose")
    assert [
        (r.subject_id, r.purpose, r.recipient_id, r.method, r.edition_hash, r.at) for r in suspended
    ] == [
        (
            given_newsletter.pk,
            "newsletter",
            None,
            "policy_change",
            new.content_hash,
            new.effective_at,
        ),
        (
            given_newsletter.pk,
            "sharing",
            label.pk,
            "policy_change",
            new.content_hash,
            new.effective_at,
        ),
    ]
    assert not consents.consent_allows(subject=given_newsletter, purpose=P.NEWSLETTER)
    assert not consents.consent_allows(subject=given_newsletter, purpose=P.SHARING, recipient=label)
    assert consents.consent_allows(subject=analytics_only, purpose=P.ANALYTICS)
    assert ledger(withdrawn_newsletter) == [
        ("newsletter", None, "given", "form"),
        ("newsletter", None, "withdrawn", "form"),
    ]
    # Withdrawing a suspended consent writes nothing: it is not given.
    consents.consent_withdraw(subject=given_newsletter, purpose=P.NEWSLETTER, method=M.FORM)
    assert ConsentRecord.objects.filter(subject=given_newsletter, purpose=P.NEWSLETTER).count() == 2
    with clock.frozen_at(T0 + timedelta(days=2)):
        again = consents.consent_give(subject=given_newsletter, purpose=P.NEWSLETTER, method=M.FORM)
    assert again.edition_hash == new.content_hash
    assert consents.consent_allows(subject=given_newsletter, purpose=P.NEWSLETTER)


def test_an_edition_without_material_purposes_suspends_nothing():
    user = UserFactory.create()
    consents.consent_give(subject=user, purpose=P.NEWSLETTER, method=M.FORM)
    assert consents.consents_suspend_for_edition(edition=edition("2")) == 0
    assert consents.consent_allows(subject=user, purpose=P.NEWSLETTER)


def _suspension_queries(users: int) -> int:
    for _ in range(users):
        user = UserFactory.create()
        consents.consent_give(subject=user, purpose=P.RESEARCH, method=M.FORM)
    new = edition(f"q{users}", material=["research"])
    with CaptureQueriesContext(connection) as queries:
        assert consents.consents_suspend_for_edition(edition=new) == users
    return len(queries.captured_queries)


def test_suspension_costs_the_same_queries_for_few_and_many_users():
    few = _suspension_queries(2)
    many = _suspension_queries(40)
    # Savepoint bookkeeping, one read of the latest records, one bulk insert: whatever the count.
    assert few == many


def test_gpc_is_recorded_once_as_a_research_opt_out(client):
    user = UserFactory.create()
    client.force_login(user)
    with clock.frozen_at(T0):
        for _ in range(3):
            assert client.get("/cookies/", HTTP_SEC_GPC="1").status_code == 200
    assert ledger(user) == [("research", None, "withdrawn", "gpc")]
    # A new session with the signal: the latest record is already a withdrawal, nothing added.
    client.logout()
    client.force_login(user)
    client.get("/cookies/", HTTP_SEC_GPC="1")
    assert ledger(user) == [("research", None, "withdrawn", "gpc")]


def test_gpc_after_research_was_given_withdraws_it(client):
    user = UserFactory.create()
    consents.consent_give(subject=user, purpose=P.RESEARCH, method=M.PREFERENCE_CENTER)
    client.force_login(user)
    client.get("/", HTTP_SEC_GPC="1")
    client.get("/", HTTP_SEC_GPC="1")
    assert ledger(user) == [
        ("research", None, "given", "preference_center"),
        ("research", None, "withdrawn", "gpc"),
    ]
    assert not consents.consent_allows(subject=user, purpose=P.RESEARCH)


def test_gpc_from_an_anonymous_visitor_or_without_the_header_writes_nothing(client):
    client.get("/", HTTP_SEC_GPC="1")
    user = UserFactory.create()
    client.force_login(user)
    client.get("/", HTTP_SEC_GPC="0")
    client.get("/")
    assert ConsentRecord.objects.count() == 0


def test_gpc_signal_blocks_research_even_when_given():
    user = UserFactory.create()
    consents.consent_give(subject=user, purpose=P.RESEARCH, method=M.FORM)
    assert not consents.consent_allows(
        subject=user, purpose=P.RESEARCH, signals=PrivacySignals(gpc=True)
    )
    assert consents.consent_allows(subject=user, purpose=P.RESEARCH, signals=PrivacySignals())


def test_dnt_blocks_analytics_without_writing(client):
    user = UserFactory.create()
    consents.consent_give(subject=user, purpose=P.ANALYTICS, method=M.BANNER)
    assert not consents.consent_allows(
        subject=user, purpose=P.ANALYTICS, signals=PrivacySignals(dnt=True)
    )
    assert (
        consents.consent_allows(
            subject=user, purpose=P.NEWSLETTER, signals=PrivacySignals(dnt=True)
        )
        is False
    )  # never given
    client.force_login(user)
    client.get("/", HTTP_DNT="1")
    assert ledger(user) == [("analytics", None, "given", "banner")]


def test_consent_state_and_history_show_the_latest_and_every_record():
    user = UserFactory.create()
    label = partner()
    with clock.frozen_at(T0):
        consents.consent_give(subject=user, purpose=P.NEWSLETTER, method=M.FORM)
    with clock.frozen_at(T0 + timedelta(hours=1)):
        consents.consent_withdraw(subject=user, purpose=P.NEWSLETTER, method=M.EMAIL)
        consents.consent_give(subject=user, purpose=P.SHARING, method=M.FORM, recipient=label)
    states = {(s.purpose, s.recipient): s for s in consents.consent_state(subject=user)}
    newsletter = states[(P.NEWSLETTER, None)]
    assert (newsletter.action, newsletter.at, newsletter.method, newsletter.given) == (
        A.WITHDRAWN,
        T0 + timedelta(hours=1),
        M.EMAIL,
        False,
    )
    sharing = states[(P.SHARING, label)]
    assert (sharing.action, sharing.given, sharing.action_label, sharing.method_label) == (
        A.GIVEN,
        True,
        "Given",
        "Form",
    )
    assert states[(P.RESEARCH, None)].action_label == "Not given"
    assert [(r.purpose, r.action) for r in consents.consent_history(subject=user)] == [
        ("sharing", "given"),
        ("newsletter", "withdrawn"),
        ("newsletter", "given"),
    ]


class TestLedgerProperties(HypothesisTestCase):
    """Whatever the clicks, the state is the last effective click and each change is one row."""

    @settings(max_examples=40, deadline=None)
    @given(st.lists(st.sampled_from(["give", "withdraw"]), max_size=12))
    def test_state_follows_the_last_click(self, clicks):
        user = UserFactory.create()
        expected_rows = 0
        state = False
        for click in clicks:
            if click == "give":
                consents.consent_give(subject=user, purpose=P.NEWSLETTER, method=M.FORM)
                expected_rows += not state
                state = True
            else:
                consents.consent_withdraw(subject=user, purpose=P.NEWSLETTER, method=M.FORM)
                expected_rows += state
                state = False
        assert consents.consent_allows(subject=user, purpose=P.NEWSLETTER) is state
        assert ConsentRecord.objects.filter(subject=user).count() == expected_rows
