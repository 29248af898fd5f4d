"""The consents and sharing sections of the privacy center, their one-click POSTs, and the public
profile as a consent purpose (one truth between accounts and the ledger)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.template import RequestContext, Template
from django.test import Client, RequestFactory

from backgroundmusic.accounts.models import Profile, PublicProfileChoice, User
from backgroundmusic.accounts.tests.factories import UserFactory
from backgroundmusic.core import clock
from backgroundmusic.core.request_info import PrivacySignals
from backgroundmusic.privacy import consents, public_profile
from backgroundmusic.privacy.demo import demo_recipients_create
from backgroundmusic.privacy.models import (
    ConsentMethod,
    ConsentPurpose,
    ConsentRecord,
    DocumentKind,
    PolicyEdition,
    Recipient,
)

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
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
BM_AID_DELETED = (
    'Set-Cookie: bm_aid=""; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; SameSite=Lax'
)


@pytest.fixture
def owner() -> User:
    return UserFactory.create(username="owner")


def ledger(user: User) -> list[tuple[str, str | None, str, str]]:
    return [
        (r.purpose, r.recipient.name if r.recipient else None, r.action, r.method)
        for r in ConsentRecord.objects.filter(subject=user)
        .select_related("recipient")
        .order_by("at", "pk")
    ]


def partner(name: str = "Partner Label", *, with_consent: bool = True) -> Recipient:
    return Recipient.objects.create(
        name=name,
        country="DE",
        purpose_en="Sends news about its releases.",
        purpose_ru="Присылает новости о релизах.",
        categories=["user.name", "user.contact.email"],
        shared_with_consent=with_consent,
    )


def render_section(tag: str, user: User, headers: dict[str, str] | None = None) -> str:
    """Renders one section the way the privacy center page does (its inclusion tag)."""
    request = RequestFactory().get("/privacy/", headers=headers)
    request.user = user
    return Template("{% load privacy_center %}{% " + tag + " %}").render(RequestContext(request))


@pytest.mark.parametrize("caller", CALLERS)
def test_giving_a_consent_acts_only_on_the_caller(client, owner, caller, caller_for):
    user = caller_for(caller).user
    # A forged subject field is ignored: the view only ever acts on the signed-in person.
    response = client.post(
        "/privacy/consents/", {"purpose": "research", "action": "give", "subject": owner.pk}
    )
    assert response.status_code == 302
    if user is None:
        assert response["Location"] == "/accounts/login/?next=/privacy/consents/"
        assert ConsentRecord.objects.count() == 0
        return
    assert response["Location"] == "/privacy/#consents"
    assert ledger(user) == [("research", None, "given", "preference_center")]
    assert ConsentRecord.objects.count() == 1
    assert ledger(owner) == ([] if user != owner else ledger(user))


@pytest.mark.parametrize("caller", CALLERS)
def test_withdrawing_a_consent_acts_only_on_the_caller(client, owner, caller, caller_for):
    consents.consent_give(subject=owner, purpose=ConsentPurpose.RESEARCH, method="form")
    user = caller_for(caller).user
    if user is not None and user != owner:
        consents.consent_give(subject=user, purpose=ConsentPurpose.RESEARCH, method="form")
    response = client.post("/privacy/consents/", {"purpose": "research", "action": "withdraw"})
    assert response.status_code == 302
    owner_allowed = consents.consent_allows(subject=owner, purpose=ConsentPurpose.RESEARCH)
    if user is None:
        assert response["Location"] == "/accounts/login/?next=/privacy/consents/"
        assert owner_allowed is True
        assert ConsentRecord.objects.count() == 1
        return
    assert consents.consent_allows(subject=user, purpose=ConsentPurpose.RESEARCH) is False
    assert owner_allowed is (user != owner)
    assert ledger(user)[-1] == ("research", None, "withdrawn", "preference_center")


def test_the_consent_actions_take_posts_only(client, owner):
    client.force_login(owner)
    assert client.get("/privacy/consents/").status_code == 405
    assert client.get("/privacy/restriction/").status_code == 405


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"purpose": "newsletter", "action": "maybe"}, "Choose Give or Withdraw."),
        ({"purpose": "everything", "action": "give"}, "There is no such consent."),
        (
            {"purpose": "sharing", "action": "give"},
            "Say which recipient the sharing choice is for.",
        ),
        (
            {"purpose": "sharing", "action": "give", "recipient": "999999"},
            "There is no such recipient.",
        ),
        (
            {"purpose": "sharing", "action": "give", "recipient": "x'; DROP TABLE"},
            "There is no such recipient.",
        ),
        ({"action": "give"}, "This field is required."),
    ],
)
def test_a_malformed_click_changes_nothing_and_says_why(client, owner, data, message):
    client.force_login(owner)
    response = client.post("/privacy/consents/", data)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page.replace("&#x27;", "'")
    assert "Nothing was changed" in page
    assert ConsentRecord.objects.count() == 0


def test_a_recipient_with_a_recipient_for_another_purpose_is_refused(client, owner):
    label = partner()
    client.force_login(owner)
    response = client.post(
        "/privacy/consents/", {"purpose": "newsletter", "action": "give", "recipient": label.pk}
    )
    assert response.status_code == 400
    assert "Only sharing choices name a recipient." in response.content.decode()
    assert ConsentRecord.objects.count() == 0


def test_sharing_toggle_gives_and_withdraws_per_recipient_in_one_click_each(client, owner):
    label = partner()
    client.force_login(owner)
    on = client.post(
        "/privacy/consents/", {"purpose": "sharing", "action": "give", "recipient": label.pk}
    )
    assert (on.status_code, on["Location"]) == (302, "/privacy/#sharing")
    assert consents.consent_allows(subject=owner, purpose="sharing", recipient=label)
    off = client.post(
        "/privacy/consents/", {"purpose": "sharing", "action": "withdraw", "recipient": label.pk}
    )
    assert (off.status_code, off["Location"]) == (302, "/privacy/#sharing")
    assert not consents.consent_allows(subject=owner, purpose="sharing", recipient=label)
    assert ledger(owner) == [
        ("sharing", "Partner Label", "given", "preference_center"),
        ("sharing", "Partner Label", "withdrawn", "preference_center"),
    ]


def test_sharing_with_a_contract_recipient_cannot_be_toggled(client, owner):
    payments = partner("Payments", with_consent=False)
    client.force_login(owner)
    response = client.post(
        "/privacy/consents/", {"purpose": "sharing", "action": "give", "recipient": payments.pk}
    )
    assert response.status_code == 400
    assert "Sharing with Payments is not something you can choose." in response.content.decode()
    assert ConsentRecord.objects.count() == 0


def test_withdrawing_analytics_in_the_center_deletes_the_cookie_in_the_same_response(client, owner):
    client.force_login(owner)
    given = client.post("/privacy/consents/", {"purpose": "analytics", "action": "give"})
    assert "bm_aid" not in given.cookies
    assert "analytics:1|v:1:" in given.cookies["bm_consent"].value
    client.cookies["bm_aid"] = "a-random-id"
    withdrawn = client.post("/privacy/consents/", {"purpose": "analytics", "action": "withdraw"})
    assert withdrawn.cookies["bm_aid"].output() == BM_AID_DELETED
    assert "analytics:0|v:1:" in withdrawn.cookies["bm_consent"].value
    assert ledger(owner) == [
        ("analytics", None, "given", "preference_center"),
        ("analytics", None, "withdrawn", "preference_center"),
    ]


def test_the_consents_section_shows_each_purpose_with_one_button(owner):
    with clock.frozen_at(T0):
        consents.consent_give(subject=owner, purpose=ConsentPurpose.NEWSLETTER, method="form")
    html = render_section("consents_section", owner)
    for purpose in consents.PURPOSES:
        assert f'<tr id="consent-{purpose}">' in html
    row = html[html.index('<tr id="consent-newsletter">') :].split("</tr>")[0]
    assert "Given" in row and "2026-03-02 09:00" in row and "Form" in row
    assert 'name="action" value="withdraw">Withdraw' in row
    row = html[html.index('<tr id="consent-research">') :].split("</tr>")[0]
    assert "Not given" in row and 'name="action" value="give">Give' in row
    history = html[html.index('class="consent-history"') :]
    assert "Newsletters and promotional e-mail" in history and "Given" in history


def test_the_consents_section_explains_signals_restriction_and_suspension(owner):
    consents.consent_give(subject=owner, purpose=ConsentPurpose.ANALYTICS, method="banner")
    consents.consent_give(subject=owner, purpose=ConsentPurpose.RESEARCH, method="form")
    html = render_section("consents_section", owner, {"DNT": "1", "Sec-GPC": "1"})
    assert "Your browser sends Do Not Track, so this stays off." in html
    assert "Your browser sends Global Privacy Control, so this stays off." in html
    consents.restriction_start(subject=owner, method="preference_center")
    html = render_section("consents_section", owner)
    assert html.count("Paused while processing of your data is restricted.") == 2
    consents.consent_give(subject=owner, purpose=ConsentPurpose.NEWSLETTER, method="form")
    now = clock.now()
    edition = PolicyEdition.objects.create(
        kind=DocumentKind.PRIVACY_POLICY,
        version="2",
        title_en="t",
        title_ru="t",
        body_en="b",
        body_ru="b",
        material_purposes=["newsletter"],
        content_hash="e" * 64,
        effective_at=now,
        published_at=now,
    )
    consents.consents_suspend_for_edition(edition=edition)
    html = render_section("consents_section", owner)
    assert "Suspended because a new edition of the privacy policy changed its terms." in html


def test_the_sharing_section_lists_recipients_offered_with_what_and_why(owner):
    label = partner()
    partner("Payments", with_consent=False)
    html = render_section("sharing_section", owner)
    assert f'<tr id="sharing-{label.pk}">' in html
    assert "Payments" not in html
    assert "Germany" in html
    assert "Sends news about its releases." in html
    assert "Name, E-mail address" in html
    assert 'value="give">Share' in html


def test_the_sharing_section_says_when_no_partner_is_offered(owner):
    html = render_section("sharing_section", owner)
    assert "We do not offer sharing with any partner at the moment." in html


# Public profile and indexing: one truth


def publish(user: User, *, indexable: bool) -> None:
    public_profile.public_profile_set(
        user=user, published=True, public_fields=["full_name"], indexable=indexable
    )


def choices(user: User) -> list[str]:
    return list(
        PublicProfileChoice.objects.filter(user=user)
        .order_by("at", "pk")
        .values_list("action", flat=True)
    )


def test_public_profile_settings_write_the_consent_ledger(owner):
    publish(owner, indexable=True)
    assert ledger(owner) == [
        ("public_profile", None, "given", "form"),
        ("indexing", None, "given", "form"),
    ]
    public_profile.public_profile_set(
        user=owner, published=True, public_fields=["full_name"], indexable=False
    )
    public_profile.public_profile_set(
        user=owner, published=False, public_fields=[], indexable=False
    )
    assert ledger(owner) == [
        ("public_profile", None, "given", "form"),
        ("indexing", None, "given", "form"),
        ("indexing", None, "withdrawn", "form"),
        ("public_profile", None, "withdrawn", "form"),
    ]
    assert choices(owner) == ["published", "indexing_allowed", "indexing_withdrawn", "unpublished"]


def test_withdrawing_the_public_profile_in_the_center_unpublishes_it(client, owner):
    publish(owner, indexable=True)
    assert Client().get("/u/owner/").status_code == 200
    client.force_login(owner)
    response = client.post(
        "/privacy/consents/", {"purpose": "public_profile", "action": "withdraw"}
    )
    assert response.status_code == 302
    profile = Profile.objects.get(user=owner)
    assert (profile.is_published, profile.is_indexable, profile.public_fields) == (False, False, [])
    assert choices(owner) == ["published", "indexing_allowed", "unpublished", "indexing_withdrawn"]
    assert ledger(owner)[2:] == [
        ("public_profile", None, "withdrawn", "preference_center"),
        ("indexing", None, "withdrawn", "preference_center"),
    ]
    assert Client().get("/u/owner/").status_code == 404


def test_withdrawing_indexing_in_the_center_keeps_the_profile_but_stops_indexing(client, owner):
    publish(owner, indexable=True)
    client.force_login(owner)
    client.post("/privacy/consents/", {"purpose": "indexing", "action": "withdraw"})
    profile = Profile.objects.get(user=owner)
    assert (profile.is_published, profile.is_indexable) == (True, False)
    assert choices(owner) == ["published", "indexing_allowed", "indexing_withdrawn"]
    assert Client().get("/u/owner/")["X-Robots-Tag"] == "noindex, nofollow"
    assert consents.consent_allows(subject=owner, purpose=ConsentPurpose.PUBLIC_PROFILE)


@pytest.mark.parametrize("purpose", ["public_profile", "indexing"])
def test_giving_the_profile_consents_in_the_center_leads_to_the_profile_settings(
    client, owner, purpose
):
    client.force_login(owner)
    response = client.post("/privacy/consents/", {"purpose": purpose, "action": "give"})
    assert (response.status_code, response["Location"]) == (302, "/account/profile/public/")
    assert ConsentRecord.objects.count() == 0
    assert Profile.objects.get(user=owner).is_published is False


def test_a_material_change_to_the_public_profile_unpublishes_it(owner):
    with clock.frozen_at(T0 - timedelta(days=3)):
        publish(owner, indexable=True)
    edition = PolicyEdition.objects.create(
        kind=DocumentKind.PRIVACY_POLICY,
        version="2",
        title_en="t",
        title_ru="t",
        body_en="b",
        body_ru="b",
        material_purposes=["public_profile"],
        content_hash="f" * 64,
        effective_at=T0,
        published_at=T0,
    )
    with clock.frozen_at(T0 + timedelta(minutes=1)):
        assert consents.consents_suspend_for_edition(edition=edition) == 2
    profile = Profile.objects.get(user=owner)
    assert (profile.is_published, profile.is_indexable) == (False, False)
    assert [r[2] for r in ledger(owner)] == ["given", "given", "suspended", "suspended"]
    assert not consents.consent_allows(
        subject=owner, purpose=ConsentPurpose.PUBLIC_PROFILE, signals=PrivacySignals()
    )


def test_withdrawing_a_profile_consent_the_ledger_never_had_still_unpublishes(owner):
    """A profile published before the ledger knew of it still follows a withdrawal."""
    Profile.objects.filter(user=owner).update(
        is_published=True, is_indexable=True, public_fields=["full_name"]
    )
    assert (
        consents.consent_withdraw(
            subject=owner, purpose=ConsentPurpose.PUBLIC_PROFILE, method=ConsentMethod.STAFF
        )
        is None
    )
    profile = Profile.objects.get(user=owner)
    assert (profile.is_published, profile.is_indexable) == (False, False)
    assert ledger(owner) == []


def test_demo_recipients_are_created_once():
    first = demo_recipients_create()
    second = demo_recipients_create()
    assert [r.pk for r in first] == [r.pk for r in second]
    assert [(r.name, r.shared_with_consent) for r in Recipient.objects.order_by("name")] == [
        ("Demo Partner Label", True),
        ("YooKassa (YooMoney)", False),
    ]
