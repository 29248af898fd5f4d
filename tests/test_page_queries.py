"""A query budget for every page (issue 10, section 7).

Each test pins the exact number of database queries a page makes, and makes it twice over: with
3 and with 30 of the things the page lists (tracks, collections, editions, requests, …). The
same number both times proves a page does not run a query per row. The first request of each
test warms what a process keeps once (content types, the site, translations); the second one is
counted. A page that needs one more query must say so here.
"""

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client

from backgroundmusic.accounts.models import Profile, SocialLink, User
from backgroundmusic.accounts.staff import staff_person_read
from backgroundmusic.accounts.tests.factories import StaffFactory, UserFactory
from backgroundmusic.catalog import page_cache
from backgroundmusic.catalog.models import Collection, Genre, Track
from backgroundmusic.catalog.selectors import track_search
from backgroundmusic.catalog.services import collection_create, facet_create
from backgroundmusic.catalog.tests.fixtures import make_facets, ready_track
from backgroundmusic.core import clock
from backgroundmusic.inbox.services import confirmation_token, inbound_record
from backgroundmusic.inbox.tests.letters import letter
from backgroundmusic.incidents import services as incident_services
from backgroundmusic.incidents.tests.scene import FACTS as INCIDENT_FACTS
from backgroundmusic.licensing import demo as licensing_demo
from backgroundmusic.licensing import editions as plan_editions
from backgroundmusic.licensing.models import CoveredChannel, CoveredUse, PlanKind
from backgroundmusic.licensing.tests import coverage_scenes
from backgroundmusic.mailing import services as mailing
from backgroundmusic.mailing.models import Campaign, UnsubscribeToken
from backgroundmusic.mailing.services import unsubscribe_tokens_ensure
from backgroundmusic.media.models import Master
from backgroundmusic.privacy import disclosures, holds, optin, policies, transfers
from backgroundmusic.privacy import requests as dsr
from backgroundmusic.privacy.consents import consent_give
from backgroundmusic.privacy.kernel.pseudonyms import unsubscribe_token
from backgroundmusic.privacy.models import (
    ConsentMethod,
    ConsentPurpose,
    DataSubjectRequest,
    DocumentKind,
    Recipient,
    RequestKind,
)
from backgroundmusic.staffroles.roles import StaffRole

pytestmark = pytest.mark.django_db

SIZES = [3, 30]
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen_at(NOW):
        yield


def assert_page_queries(
    client: Client, path: str, expected: int, django_assert_num_queries: Callable
) -> str:
    """GETs `path` twice (200 both times) and counts the queries of the second; the page."""
    assert client.get(path).status_code == 200
    with django_assert_num_queries(expected):
        response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


def tracks(count: int, **fields) -> list[Track]:
    if not Genre.objects.exists():
        make_facets()
    return [
        ready_track(
            genres=["ambient"],
            moods=["calm", "uplifting"],
            instruments=["piano"],
            tempo_bpm=90,
            duration_seconds=150,
            preview_seconds=0.2,
            **fields,
        )
        for _ in range(count)
    ]


def editions(count: int) -> None:
    for number in range(1, count + 1):
        with clock.frozen_at(NOW - timedelta(days=count - number + 1)):
            policies.edition_publish(
                actor=None,
                kind=DocumentKind.PRIVACY_POLICY,
                version=f"v{number}",
                title_en="Privacy policy",
                title_ru="Политика конфиденциальности",
                body_en=f"## Who we are\n\nEdition {number}.",
                body_ru=f"## Кто мы\n\nРедакция {number}.",
                change_summary_en=f"Change {number}." if number > 1 else "",
                change_summary_ru=f"Изменение {number}." if number > 1 else "",
                effective_at=None,
                material_purposes=[],
            )


def signed_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def staff(client: Client, role: StaffRole) -> User:
    member = StaffFactory.create(role=role)
    client.force_login(member)
    return member


def featured(count: int) -> list[Track]:
    """`count` tracks, and `count` featured collections each opening with one of them."""
    listed = tracks(count)
    for number, track in enumerate(listed):
        collection_create(
            actor=None,
            kind=Collection.Kind.CURATED,
            title=f"Set {number}",
            is_published=True,
            is_featured=True,
            track_ids=[track.pk, *(other.pk for other in listed if other != track)],
        )
    return listed


@pytest.mark.parametrize("count", SIZES)
def test_home(count, client, django_assert_num_queries):
    """The newest tracks and the featured ones (each with its facets and its preview), the
    featured collections."""
    featured(count)
    page = assert_page_queries(client, "/", 7, django_assert_num_queries)
    assert page.count('class="track-row"') == 2 * min(count, 6)
    assert page.count('href="/catalog/collections/set-') == min(count, 6)


@pytest.mark.parametrize("count", SIZES)
def test_home_signed_in(count, client, django_assert_num_queries):
    """Beside the anonymous page's seven and what every signed-in page asks: the person's current
    licences and their renewal (the editions on sale, the renewal orders waiting), the
    confirmed address, the profile, and their favourites for the rows' stars."""
    featured(count)
    owner = UserFactory.create()
    licences_held(owner, count, paid_at=NOW - timedelta(days=28))
    page = assert_page_queries(signed_in(client, owner), "/", 26, django_assert_num_queries)
    # Subscriptions (even places) paid 28 days ago end within the week; every third from the
    # second is revoked.
    renewable = [n for n in range(0, count, 2) if n % 3 != 1]
    assert page.count('data-step="renew"') == len(renewable)
    # The newest include the tracks of the one-track licences.
    newest = min(Track.objects.count(), 6)
    assert page.count('class="track-row"') == newest + min(count, 6)


@pytest.mark.parametrize(
    ("query", "rendered", "kept"),
    [
        ("", 4, 0),
        ("?genre=ambient&mood=calm&sort=title&bpm_min=10&energy_max=9", 8, 0),
        # A search with text is never kept (catalog/page_cache.py); it looks up the terms one
        # edit away from its words (catalog/search_terms.py).
        ("?q=track&sort=newest", 5, 5),
        ("?instrument=piano&sort=duration", 6, 0),
    ],
)
@pytest.mark.parametrize("count", SIZES)
def test_catalogue(count, query, rendered, kept, client, django_assert_num_queries):
    """The listing rendered, and then read from the page cache. The search index and its
    audience are made apart: once per process and catalogue version (two queries,
    catalog/tests/test_page_cache.py)."""
    tracks(count)
    path = f"/catalog/{query}"
    assert client.get(path).status_code == 200
    page_cache.listing_changed()
    track_search(user=AnonymousUser(), page_size=1)
    with django_assert_num_queries(rendered):
        response = client.get(path)
    assert response.status_code == 200
    page = assert_page_queries(client, path, kept, django_assert_num_queries)
    main = re.compile(r"<main.*</main>", re.DOTALL)
    (listing,) = main.findall(response.content.decode())
    assert main.findall(page) == [listing]
    shown = min(count, 24)
    assert page.count('class="track-row"') == shown
    assert page.count('class="play-preview"') == shown


@pytest.mark.parametrize("count", SIZES)
def test_track_page(count, client, django_assert_num_queries):
    track = tracks(count, tags=[f"tag{n}" for n in range(count)])[0]
    # The fifth: the plans on sale that license the track.
    page = assert_page_queries(client, f"/catalog/{track.slug}/", 5, django_assert_num_queries)
    assert page.count("?q=tag") == count


@pytest.mark.parametrize("count", SIZES)
def test_collections(count, client, django_assert_num_queries):
    listed = tracks(2)
    for number in range(count):
        collection_create(
            actor=None,
            kind=Collection.Kind.CURATED,
            title=f"Set {number}",
            is_published=True,
            track_ids=[track.pk for track in listed],
        )
    page = assert_page_queries(client, "/catalog/collections/", 2, django_assert_num_queries)
    assert page.count("/catalog/collections/set-") == count


@pytest.mark.parametrize("count", SIZES)
def test_collection(count, client, django_assert_num_queries):
    listed = tracks(count)
    collection_create(
        actor=None,
        kind=Collection.Kind.ALBUM,
        title="Album",
        slug="album",
        is_published=True,
        track_ids=[track.pk for track in listed],
    )
    page = assert_page_queries(client, "/catalog/collections/album/", 4, django_assert_num_queries)
    assert page.count('class="track-row"') == count


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/privacy-policy/", 2),
        ("/privacy-policy/editions/", 2),
        ("/privacy-policy/editions/v2/", 2),
        ("/cookies/", 0),
        # The recipients, and the transfer records in force for those abroad.
        ("/privacy/processing/", 2 + 1),
    ],
)
@pytest.mark.parametrize("count", SIZES)
def test_privacy_pages(count, path, expected, client, django_assert_num_queries):
    editions(count)
    tracks(count)
    assert_page_queries(client, path, expected, django_assert_num_queries)


@pytest.mark.parametrize("count", SIZES)
def test_profile(count, client, django_assert_num_queries):
    owner = UserFactory.create()
    profile = Profile.objects.get(user=owner)
    for number in range(count):
        SocialLink.objects.create(profile=profile, url=f"https://example.org/{number}")
    # The data key that opens the sealed fields is read from the key store, not counted here.
    page = assert_page_queries(
        signed_in(client, owner), "/account/profile/", 15, django_assert_num_queries
    )
    assert "https://example.org/" in page


@pytest.mark.parametrize("count", SIZES)
def test_privacy_center(count, client, django_assert_num_queries):
    owner = UserFactory.create()
    officer = StaffFactory.create(role=StaffRole.PRIVACY_OFFICER)
    for number in range(count):
        disclosures.disclosure_record(
            actor=officer,
            subject=owner,
            recipient_name=f"Court {number}",
            country="RU",
            legal_basis="court_decision",
            categories=["user.contact.email"],
            reference_document=f"Decision {number}",
            disclosed_on=date(2026, 2, 5),
        )
    # "The data we hold" reads each model of the data map that names a person once (licensing's
    # eleven and media's downloads took it from 48 to 60; licensing's letters, mailing's messages
    # and unsubscribe token, the inbox's letters and their sealed copies and the newsletter's
    # pending confirmations to 66, the letters about incidents to 67): it grows with the map, not
    # the rows. One more asks whether the profile has a phone, for the text-message consent's
    # row; the newsletter row asks for a confirmation waiting and for the verified address (2
    # more). The transfers abroad: one. "Corrections you made" reads the person's corrections in
    # the audit trail (1 more). The extension notices of the person's requests: one. "Your
    # requests" reads the person's requests, those linked and those made on the request form from
    # one of their verified addresses (a subquery), in one query. The library's favourites,
    # playlists and their entries: one each, as every declared model (77).
    for number in range(count):
        with clock.frozen_at(NOW - timedelta(days=number + 1)):
            filed = dsr.request_log(
                actor=officer,
                kind=RequestKind.ACCESS,
                channel=DataSubjectRequest.Channel.LETTER,
                received_at=clock.now(),
                subject=owner,
                requester_contact=f"Letter {number}",
            )
            if number % 2:
                dsr.request_close(
                    actor=officer,
                    request=filed,
                    status=DataSubjectRequest.Status.REFUSED,
                    outcome=f"Answer {number}",
                )
    page = assert_page_queries(signed_in(client, owner), "/privacy/", 77, django_assert_num_queries)
    # Each disclosure names its recipient twice (the list and its details).
    assert page.count("Court ") == 2 * count
    assert page.count("<li data-request-id=") == count
    assert page.count("<dt>Our answer</dt><dd>Answer ") == count // 2


@pytest.mark.parametrize("count", SIZES)
def test_newsletter_confirmation_page(count, client, django_assert_num_queries):
    """The page of the link that confirms the newsletter, signed out, with `count` links asked
    for: the request, the verified address of the active account, the ledger, the restriction."""
    owner = UserFactory.create()
    asked = [optin.newsletter_optin_request(subject=owner) for _ in range(count)]
    token = optin.confirmation_token(asked[-1])
    page = assert_page_queries(client, f"/privacy/confirm/{token}/", 4, django_assert_num_queries)
    assert "Confirm: send me the newsletter" in page


@pytest.mark.parametrize("count", SIZES)
def test_sessions(count, client, django_assert_num_queries):
    owner = UserFactory.create()
    for _ in range(count):
        Client().force_login(owner)
    assert_page_queries(
        signed_in(client, owner), "/accounts/sessions/", 16, django_assert_num_queries
    )


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/staff/catalogue/", 21),
        ("/staff/catalogue/collections/", 20),
        ("/staff/catalogue/facets/", 20),
        ("/staff/catalogue/masters/", 23),
    ],
)
@pytest.mark.parametrize("count", SIZES)
def test_content_manager_pages(count, path, expected, client, django_assert_num_queries):
    listed = tracks(count)
    tracks(count, status=Master.Status.FAILED, published=False)
    collection_create(
        actor=None,
        kind=Collection.Kind.ALBUM,
        title="Album",
        is_published=True,
        track_ids=[track.pk for track in listed],
    )
    staff(client, StaffRole.CONTENT_MANAGER)
    assert_page_queries(client, path, expected, django_assert_num_queries)


@pytest.mark.parametrize(
    ("role", "path", "expected"),
    [
        # Naming staff by username and roles ({% staff_actor %}, the people list's roles) loads
        # every staff member and their role groups once per page: 2 more, however many rows.
        (StaffRole.SUPPORT, "/staff/", 22),
        # Each staff section the role holds asks for two-factor sign-in once per navigation
        # (staff_sections renders twice): the audit trail's, the incidents', the recipients', the
        # transfers' and the legal holds' sections added 2 each for privacy officers. The staff
        # labels add 2, and whether to offer "Verify chain" asks for two-factor sign-in once more.
        (StaffRole.PRIVACY_OFFICER, "/staff/access-log/", 44),
    ],
)
@pytest.mark.parametrize("count", SIZES)
def test_people_and_access_log(count, role, path, expected, client, django_assert_num_queries):
    support = StaffFactory.create(role=StaffRole.SUPPORT)
    for person in [UserFactory.create() for _ in range(count)]:
        staff_person_read(actor=support, subject_id=person.pk, reason="ticket 1")
    staff(client, role)
    assert_page_queries(client, path, expected, django_assert_num_queries)


@pytest.mark.parametrize(
    ("path", "expected"),
    # The incidents', the recipients', the transfers' and the legal holds' sections in the
    # navigation: 2 more each (see above). The register of recipients is one query, however many.
    [
        ("/staff/requests/", 40),
        ("/staff/disclosures/", 41),
        ("/staff/policies/", 43),
        ("/staff/transfers/", 41),
        ("/staff/recipients/", 40),
    ],
)
@pytest.mark.parametrize("count", SIZES)
def test_privacy_officer_pages(count, path, expected, client, django_assert_num_queries):
    officer = staff(client, StaffRole.PRIVACY_OFFICER)
    editions(count)
    for number in range(count):
        person = UserFactory.create()
        dsr.request_log(
            actor=officer,
            kind=RequestKind.ACCESS,
            channel=DataSubjectRequest.Channel.EMAIL,
            received_at=NOW - timedelta(days=number),
            subject=person,
            requester_contact=f"person{number}@example.org",
        )
        disclosures.disclosure_record(
            actor=officer,
            subject=person,
            recipient_name=f"Court {number}",
            country="RU",
            legal_basis="court_decision",
            categories=["user.contact.email"],
            reference_document=f"Decision {number}",
            disclosed_on=date(2026, 2, 5),
        )
        transfers.transfer_record_add(
            actor=officer,
            recipient=Recipient.objects.create(
                name=f"Partner {number}", country="DE", purpose_en="x", purpose_ru="x"
            ),
            country="DE",
            basis="contract",
            safeguards="Contract clauses",
            authority_notified_on=date(2026, 2, 2),
        )
    assert_page_queries(client, path, expected, django_assert_num_queries)


@pytest.mark.parametrize("count", SIZES)
def test_audit_trail(count, client, django_assert_num_queries):
    manager = StaffFactory.create(role=StaffRole.CONTENT_MANAGER)
    for number in range(count):
        facet_create(actor=manager, kind="genre", name_en=f"G{number}", name_ru=f"Ж{number}")
    staff(client, StaffRole.ADMINISTRATOR)
    # The page's one write: the audit.viewed row of its own reading; the staff labels 2 more.
    assert_page_queries(client, "/staff/audit/", 37, django_assert_num_queries)


def plans(count: int) -> None:
    """`count` venue plans, each with an edition in force and an upcoming one, and the terms."""
    licensing_demo.demo_terms_publish()
    rule = plan_editions.KIND_RULES[PlanKind.VENUE]
    for number in range(count):
        plan = plan_editions.plan_create(
            actor=None, code=f"plan-{number}", kind=PlanKind.VENUE, position=number
        )
        for version, effective_at in (("1", None), ("2", NOW + timedelta(days=1))):
            plan_editions.plan_edition_publish(
                actor=None,
                plan=plan,
                version=version,
                title_en=f"Plan {number}",
                title_ru=f"Тариф {number}",
                description_en="Music for *venues*.",
                description_ru="Музыка для *заведений*.",
                uses=list(rule.uses),
                territory="RU",
                scope=rule.scope,
                term=rule.term,
                quantity_unit=rule.quantity_unit,
                min_quantity=1,
                max_quantity=10,
                price_rub=Decimal("1500.00"),
                price_eur=Decimal("15.00"),
                vat_rate=Decimal("20.00"),
                effective_at=effective_at,
            )


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/pricing/", 1),
        ("/pricing/plan-1/", 2),
        ("/licence-terms/", 2),
        ("/licence-terms/1/", 3),
    ],
)
@pytest.mark.parametrize("count", SIZES)
def test_pricing_pages(count, path, expected, client, django_assert_num_queries):
    plans(count)
    page = assert_page_queries(client, path, expected, django_assert_num_queries)
    if path == "/pricing/":
        assert page.count('class="plan-card"') == count


@pytest.mark.parametrize("count", SIZES)
def test_licensing_manager_pages(count, client, django_assert_num_queries):
    plans(count)
    staff(client, StaffRole.LICENSING_MANAGER)
    # 24: the staff navigation asks a predicate each for the plans, agreements and orders pages.
    page = assert_page_queries(client, "/staff/licensing/plans/", 24, django_assert_num_queries)
    assert page.count('data-status="upcoming"') == count


@pytest.mark.parametrize("count", SIZES)
def test_licence_coverage(count, client, django_assert_num_queries):
    owner = UserFactory.create()
    agreement = coverage_scenes.licence(user=owner, starts_at=NOW - timedelta(days=20))
    # More channels than a licence may hold: the page must not care.
    for number, track in enumerate(tracks(count)):
        CoveredChannel.objects.create(
            agreement=agreement, platform="telegram", url=f"https://t.me/c{number}", added_at=NOW
        )
        CoveredUse.objects.create(
            agreement=agreement,
            platform="youtube",
            url=f"https://youtu.be/{number}",
            published_on=date(2026, 2, 20),
            title=f"Video {number}",
            track=track,
            added_at=NOW,
        )
    page = assert_page_queries(
        signed_in(client, owner),
        f"/licences/{agreement.number}/coverage/",
        17,
        django_assert_num_queries,
    )
    assert page.count('class="coverage-url"') == 2 * count
    assert page.count('class="coverage-track"') == count


def licences_held(owner: User, count: int, *, paid_at: datetime, revoked_from: int = 1) -> list:
    """`count` licences of the owner paid at `paid_at`: creator subscriptions (even positions)
    and one-track licences (each for a track of its own), every third from `revoked_from`
    revoked."""
    from backgroundmusic.licensing import agreements
    from backgroundmusic.licensing.tests.factories import plan_edition
    from backgroundmusic.licensing.tests.paid_orders import paid_order
    from backgroundmusic.media.tests.streaming_fixtures import playable_track

    single = plan_edition(kind=PlanKind.SINGLE_TRACK, uses=["project"])
    creator = plan_edition()
    lines = [
        {"edition": single, "track": playable_track(kinds=["mp3_320", "flac"])}
        if number % 2
        else {"edition": creator}
        for number in range(count)
    ]
    concluded = agreements.agreements_conclude(
        order=paid_order(user=owner, lines=lines, paid_at=paid_at), now=paid_at
    )
    for agreement in concluded[revoked_from::3]:
        agreements.agreement_revoke(actor=None, agreement=agreement, reason="refund", now=paid_at)
    return concluded


@pytest.mark.parametrize("count", SIZES)
def test_track_page_of_a_licensee(count, client, django_assert_num_queries):
    """The full track for the player and the download block cost one query each (the opus
    rendition the licensee may hear, the files they may download), however many licences they
    hold; so do the plans on sale and the person's licences that cover the track. Whether the
    track is a favourite and the person's playlists: one each."""
    from backgroundmusic.media.tests.streaming_fixtures import playable_track

    owner = UserFactory.create()
    licences_held(owner, count, paid_at=NOW - timedelta(days=1))
    track = playable_track(kinds=["preview", "mp3_320", "flac"])
    page = assert_page_queries(
        signed_in(client, owner), f"/catalog/{track.slug}/", 23, django_assert_num_queries
    )
    assert page.count('data-kind="') == 2
    assert 'class="track-licences-held"' in page


@pytest.mark.parametrize("count", SIZES)
def test_licence_page_with_downloads(count, client, django_assert_num_queries):
    """A licence's page with `count` downloads under it and `count` other licences of the
    person: its files and the page of downloads cost the same however many there are. Beside
    the agreement and its history: its renewal (the editions on sale, the renewal orders
    waiting), the agreements it continues or is continued by, the person's licences with
    downloads and their histories, the count and the page of downloads (a one-track licence
    has no renewal but asks for its files)."""
    from backgroundmusic.media.models import Download
    from backgroundmusic.media.tests.streaming_fixtures import playable_track

    owner = UserFactory.create()
    held = licences_held(owner, count, paid_at=NOW - timedelta(days=10), revoked_from=2)
    track = playable_track(kinds=["mp3_320", "flac"])
    Download.objects.bulk_create(
        Download(
            user=owner,
            track=track,
            kind="flac",
            token_sha256=f"token-{number}",
            at=NOW - timedelta(hours=number + 1),
        )
        for number in range(count)
    )
    page = assert_page_queries(
        signed_in(client, owner), f"/licences/{held[0].number}/", 21, django_assert_num_queries
    )
    assert page.count('class="download-row"') == count
    one_track = held[1]
    page = assert_page_queries(
        client, f"/licences/{one_track.number}/", 20, django_assert_num_queries
    )
    assert page.count('data-kind="') == 2


@pytest.mark.parametrize("count", SIZES)
def test_my_licences_with_renewals(count, client, django_assert_num_queries):
    """My licences with `count` licences, the subscriptions due for renewal and one renewal
    order waiting for payment: the renewals cost two queries for all the cards."""
    from backgroundmusic.licensing import orders
    from backgroundmusic.licensing.tests.checkout_scene import profile_set
    from backgroundmusic.licensing.tests.factories import terms_edition

    owner = UserFactory.create()
    profile_set(owner)
    # Paid until three days from now: renewal is open.
    held = licences_held(owner, count, paid_at=NOW - timedelta(days=25))
    terms = terms_edition()
    orders.renewal_order_place(
        user=owner,
        agreement=held[2],
        currency="RUB",
        payment_method="bank_transfer",
        accept_terms_edition_id=terms.pk,
        ip="",
        user_agent="",
    )
    page = assert_page_queries(
        signed_in(client, owner), "/licences/", 15, django_assert_num_queries
    )
    assert page.count('class="licence-card"') == count
    assert page.count("Pay the renewal") == 1
    open_subscriptions = [n for n in range(count) if n % 2 == 0 and n % 3 != 1 and n != 2]
    assert page.count('/renew/">Renew</a>') == len(open_subscriptions)
    renew = assert_page_queries(
        client, f"/licences/{held[0].number}/renew/", 17, django_assert_num_queries
    )
    assert "Place the renewal order" in renew


@pytest.mark.parametrize("count", SIZES)
def test_unsubscribe_page(count, client, django_assert_num_queries):
    readers = [UserFactory.create(username=f"reader{n}") for n in range(count)]
    unsubscribe_tokens_ensure(user_ids=[reader.pk for reader in readers])
    token = unsubscribe_token(seed=UnsubscribeToken.objects.get(user=readers[-1]).seed)
    assert_page_queries(client, f"/mail/unsubscribe/{token}/", 1, django_assert_num_queries)


@pytest.mark.parametrize("count", SIZES)
def test_request_confirmation_page(count, client, django_assert_num_queries):
    person = UserFactory.create()
    letters = [
        inbound_record(raw=letter(sender=person.email, subject=f"Delete {n}"), received_at=NOW)
        for n in range(count)
    ]
    path = f"/privacy/requests/confirm/{confirmation_token(message=letters[-1])}/"
    assert_page_queries(client, path, 2, django_assert_num_queries)


def campaigns(count: int, editor: User) -> Campaign:
    """`count` people who take the newsletter, and `count` campaigns each sent to all of them;
    returns a draft."""
    for _ in range(count):
        consent_give(
            subject=UserFactory.create(),
            purpose=ConsentPurpose.NEWSLETTER,
            method=ConsentMethod.FORM,
        )
    text = mailing.CampaignText("News", "Новости", "# Hello\n\n*Calm* tracks.", "# Привет")
    for _ in range(count):
        sent = mailing.campaign_schedule(
            actor=editor, campaign=mailing.campaign_create(actor=editor, text=text)
        )
        mailing.campaign_start(campaign_id=sent.pk)
    return mailing.campaign_create(actor=editor, text=text)


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ("", 20),
        ("new/", 17),
        # The campaign and the audience a campaign would reach now (consents, addresses,
        # suppressions): each one query whatever the number of people.
        ("{draft}/", 24),
        ("{draft}/edit/", 19),
        ("{draft}/preview/", 22),
    ],
)
@pytest.mark.parametrize("count", SIZES)
def test_newsletter_editor_pages(count, page, expected, client, django_assert_num_queries):
    editor = staff(client, StaffRole.NEWSLETTER_EDITOR)
    draft = campaigns(count, editor)
    path = "/staff/mailing/" + page.format(draft=draft.pk)
    html = assert_page_queries(client, path, expected, django_assert_num_queries)
    if page == "":
        assert html.count('data-status="sending"') == count
    if page == "{draft}/":
        assert f'<dd id="campaign-audience-now">{count} people</dd>' in html


def incidents(count: int, officer: User) -> int:
    """`count` incidents affecting `count` people, each with its letters sent; returns the last
    incident's id."""
    for _ in range(count):
        UserFactory.create()
    last = None
    for n in range(count):
        last = incident_services.incident_open(
            actor=officer, facts=replace(INCIDENT_FACTS, summary=f"Incident {n}")
        )
        incident_services.letters_send(actor=officer, incident=last)
    assert last is not None
    return last.pk


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        # The privacy officer's navigation asks two-factor sign-in once per section it may open
        # (the recipients' section added 2).
        # The incidents and their notices: one query each, whatever their number.
        ("", 43),
        ("new/", 39),
        # The incident with its letters counted by status, and its notices.
        ("{incident}/", 42),
        ("{incident}/notices/authority_ru/", 42),
    ],
)
@pytest.mark.parametrize("count", SIZES)
def test_incident_pages(count, page, expected, client, django_assert_num_queries):
    officer = staff(client, StaffRole.PRIVACY_OFFICER)
    incident = incidents(count, officer)
    path = "/staff/incidents/" + page.format(incident=incident)
    html = assert_page_queries(client, path, expected, django_assert_num_queries)
    if page == "":
        assert html.count('data-clock="authority_ru" data-state="running"') == count
    if page == "{incident}/":
        assert f'<dd id="incident-people">{count + 1} accounts in our records</dd>' in html
        assert f"<li>Queued: {count + 1}</li>" in html


@pytest.mark.parametrize("count", SIZES)
def test_sitemap(count, client, django_assert_num_queries):
    listed = tracks(count)
    collection_create(
        actor=None,
        kind=Collection.Kind.CURATED,
        title="Set",
        is_published=True,
        track_ids=[track.pk for track in listed],
    )
    for number in range(count):
        user = UserFactory.create(username=f"public{number}")
        Profile.objects.filter(user=user).update(is_published=True, is_indexable=True)
    page = assert_page_queries(client, "/sitemap.xml", 3, django_assert_num_queries)
    assert page.count("/u/public") == count
    # Home, catalogue, collections, contact, policy, user agreement, request form; the tracks,
    # the collection, the profiles.
    assert page.count("<loc>") == 7 + count + 1 + count


@pytest.mark.parametrize("count", SIZES)
def test_legal_holds_page(count, client, django_assert_num_queries):
    officer = staff(client, StaffRole.PRIVACY_OFFICER)
    for number in range(count):
        hold = holds.legal_hold_place(
            actor=officer,
            reason=f"Claim {number}",
            ends_on=date(2026, 6, 1),
            subject=UserFactory.create(),
        )
        if number % 2:
            holds.legal_hold_lift(actor=officer, hold=hold, reason="Settled")
    # Who placed and lifted each hold ({% staff_actor %}): every staff member, loaded once, 2.
    page = assert_page_queries(client, "/staff/legal-holds/", 44, django_assert_num_queries)
    assert page.count("data-hold-id=") == count


@pytest.mark.parametrize("count", SIZES)
def test_favourites_page(count, client, django_assert_num_queries):
    """The favourites with what each may play, for all rows at once: the rows, the person's
    permissions (whether they manage the catalogue, asked once), the full-track and the preview
    renditions they may play, and which tracks the catalogue still shows (5 queries); the rest
    is every signed-in page's."""
    from backgroundmusic.library import services as library

    owner = UserFactory.create()
    for track in tracks(count):
        library.favourite_add(person=owner, slug=track.slug)
    page = assert_page_queries(
        signed_in(client, owner), "/account/favourites/", 17, django_assert_num_queries
    )
    assert page.count('class="track-row library-row"') == count


@pytest.mark.parametrize("count", SIZES)
def test_playlists_page(count, client, django_assert_num_queries):
    from backgroundmusic.library import services as library

    owner = UserFactory.create()
    for number in range(count):
        library.playlist_create(person=owner, name=f"Playlist {number}")
    page = assert_page_queries(
        signed_in(client, owner), "/account/playlists/", 13, django_assert_num_queries
    )
    assert page.count('class="playlist-card"') == count


@pytest.mark.parametrize("count", SIZES)
def test_playlist_page(count, client, django_assert_num_queries):
    """A playlist of `count` tracks: the playlist, its entries, and what each may play as on the
    favourites page."""
    from backgroundmusic.library import services as library

    owner = UserFactory.create()
    playlist = library.playlist_create(person=owner, name="Lobby")
    for track in tracks(count):
        library.playlist_entry_add(person=owner, playlist_id=playlist.pk, slug=track.slug)
    page = assert_page_queries(
        signed_in(client, owner),
        f"/account/playlists/{playlist.pk}/",
        18,
        django_assert_num_queries,
    )
    assert page.count('class="track-row library-row"') == count


@pytest.mark.parametrize("count", SIZES)
def test_track_page_signed_in_with_playlists(count, client, django_assert_num_queries):
    """The track page of a signed-in person: whether the track is a favourite and their
    playlists for "Add to playlist" cost one query each, however many playlists they have; so do
    the plans on sale and the person's licences that cover the track."""
    from backgroundmusic.library import services as library

    owner = UserFactory.create()
    for number in range(count):
        library.playlist_create(person=owner, name=f"Playlist {number}")
    track = tracks(1)[0]
    page = assert_page_queries(
        signed_in(client, owner), f"/catalog/{track.slug}/", 23, django_assert_num_queries
    )
    select = re.search(r'<select id="playlist-add-select".*?</select>', page, re.S)
    assert select is not None and select.group().count("<option ") == count
