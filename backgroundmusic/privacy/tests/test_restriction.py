"""Restriction of processing ("blocking"): what it pauses, that lifting restores, who may do it."""

from datetime import UTC, datetime, timedelta

import pytest
from django.template import RequestContext, Template
from django.test import RequestFactory

from backgroundmusic.accounts.models import Profile, User
from backgroundmusic.accounts.tests.factories import UserFactory
from backgroundmusic.core import clock
from backgroundmusic.privacy import consents, public_profile
from backgroundmusic.privacy.models import (
    ConsentMethod,
    ConsentPurpose,
    ConsentRecord,
    ProcessingRestriction,
    Recipient,
)

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
P = ConsentPurpose
CALLERS = [
    "anonymous",
    "other_user",
    "owner",
    "support",
    "content_manager",
    "privacy_officer",
    "administrator",
    "licensing_manager",
]


@pytest.fixture
def owner() -> User:
    return UserFactory.create(username="owner")


@pytest.fixture
def label() -> Recipient:
    return Recipient.objects.create(
        name="Partner Label",
        country="DE",
        purpose_en="News",
        purpose_ru="Новости",
        categories=[],
        shared_with_consent=True,
    )


def restrictions(user: User) -> list[tuple[str, str]]:
    return [
        (r.started_method, r.lifted_method)
        for r in ProcessingRestriction.objects.filter(subject=user).order_by("started_at", "pk")
    ]


def give_everything(user: User, label: Recipient) -> None:
    for purpose in (P.NEWSLETTER, P.PROMOTIONAL_SMS, P.ANALYTICS, P.RESEARCH):
        consents.consent_give(subject=user, purpose=purpose, method=ConsentMethod.FORM)
    consents.consent_give(subject=user, purpose=P.SHARING, method="form", recipient=label)
    public_profile.public_profile_set(
        user=user, published=True, public_fields=["full_name"], indexable=True
    )


def allowed(user: User, label: Recipient) -> dict[str, bool]:
    result = {
        str(purpose): consents.consent_allows(subject=user, purpose=purpose)
        for purpose in consents.PURPOSES
    }
    result["sharing"] = consents.consent_allows(subject=user, purpose=P.SHARING, recipient=label)
    return result


def test_restriction_pauses_newsletter_analytics_research_and_sharing_and_lifting_restores(
    owner, label
):
    give_everything(owner, label)
    everything = {
        "newsletter": True,
        "promotional_sms": True,
        "analytics": True,
        "research": True,
        "public_profile": True,
        "indexing": True,
        "sharing": True,
    }
    assert allowed(owner, label) == everything
    records_before = ConsentRecord.objects.count()
    with clock.frozen_at(T0):
        restriction = consents.restriction_start(subject=owner, method=ConsentMethod.STAFF)
    assert (restriction.started_at, restriction.started_method) == (T0, "staff")
    assert consents.subject_is_restricted(subject=owner)
    assert allowed(owner, label) == {
        **everything,
        "newsletter": False,
        "promotional_sms": False,
        "analytics": False,
        "research": False,
        "sharing": False,
    }
    # The public profile stays as the person published it.
    assert Profile.objects.get(user=owner).is_published is True
    with clock.frozen_at(T0 + timedelta(days=2)):
        lifted = consents.restriction_lift(subject=owner, method=ConsentMethod.PREFERENCE_CENTER)
    assert lifted is not None
    assert (lifted.pk, lifted.lifted_at, lifted.lifted_method) == (
        restriction.pk,
        T0 + timedelta(days=2),
        "preference_center",
    )
    assert not consents.subject_is_restricted(subject=owner)
    assert allowed(owner, label) == everything
    assert ConsentRecord.objects.count() == records_before  # the ledger was never touched


def test_restricting_twice_keeps_one_open_restriction_and_lifting_nothing_writes_nothing(owner):
    other = UserFactory.create()
    assert consents.restriction_lift(subject=owner, method="preference_center") is None
    first = consents.restriction_start(subject=owner, method="preference_center")
    second = consents.restriction_start(subject=owner, method="staff")
    assert first.pk == second.pk
    assert restrictions(owner) == [("preference_center", "")]
    consents.restriction_lift(subject=owner, method="preference_center")
    assert consents.restriction_lift(subject=owner, method="preference_center") is None
    consents.restriction_start(subject=owner, method="staff")
    assert restrictions(owner) == [("preference_center", "preference_center"), ("staff", "")]
    assert restrictions(other) == []
    assert not consents.subject_is_restricted(subject=other)


@pytest.mark.parametrize("caller", CALLERS)
def test_restricting_acts_only_on_the_caller(client, owner, caller, caller_for):
    user = caller_for(caller).user
    response = client.post("/privacy/restriction/", {"action": "start", "subject": owner.pk})
    assert response.status_code == 302
    if user is None:
        assert response["Location"] == "/accounts/login/?next=/privacy/restriction/"
        assert ProcessingRestriction.objects.count() == 0
        return
    assert response["Location"] == "/privacy/#restriction"
    assert restrictions(user) == [("preference_center", "")]
    assert ProcessingRestriction.objects.count() == 1
    assert consents.subject_is_restricted(subject=owner) is (user == owner)


@pytest.mark.parametrize("caller", CALLERS)
def test_lifting_acts_only_on_the_caller(client, owner, caller, caller_for):
    consents.restriction_start(subject=owner, method="preference_center")
    user = caller_for(caller).user
    if user is not None and user != owner:
        consents.restriction_start(subject=user, method="preference_center")
    response = client.post("/privacy/restriction/", {"action": "lift"})
    assert response.status_code == 302
    if user is None:
        assert response["Location"] == "/accounts/login/?next=/privacy/restriction/"
        assert consents.subject_is_restricted(subject=owner)
        return
    assert not consents.subject_is_restricted(subject=user)
    assert consents.subject_is_restricted(subject=owner) is (user != owner)


@pytest.mark.parametrize("action", ["", "delete", "START"])
def test_a_malformed_restriction_click_changes_nothing(client, owner, action):
    client.force_login(owner)
    response = client.post("/privacy/restriction/", {"action": action})
    assert response.status_code == 400
    assert ProcessingRestriction.objects.count() == 0


def test_a_restricted_account_keeps_working(client, owner, label):
    client.force_login(owner)
    client.post("/privacy/restriction/", {"action": "start"})
    assert client.get("/account/profile/").status_code == 200
    assert client.get("/cookies/").status_code == 200
    response = client.post("/privacy/consents/", {"purpose": "research", "action": "give"})
    assert response.status_code == 302
    assert ConsentRecord.objects.filter(subject=owner, purpose="research").count() == 1
    assert not consents.consent_allows(subject=owner, purpose=P.RESEARCH)
    client.post("/privacy/restriction/", {"action": "lift"})
    assert consents.consent_allows(subject=owner, purpose=P.RESEARCH)


def test_the_restriction_section_offers_one_button_each_way(owner):
    def render() -> str:
        request = RequestFactory().get("/privacy/")
        request.user = owner
        template = Template("{% load privacy_center %}{% restriction_section %}")
        return template.render(RequestContext(request))

    html = render()
    assert "Processing is not restricted." in html
    assert 'name="action" value="start">Restrict processing</button>' in html
    assert 'value="lift"' not in html
    with clock.frozen_at(T0):
        consents.restriction_start(subject=owner, method="preference_center")
    html = render()
    assert "Processing is restricted since 2026-03-02 09:00." in html
    assert 'name="action" value="lift">Lift the restriction</button>' in html
    assert 'value="start"' not in html
