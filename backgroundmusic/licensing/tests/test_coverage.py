"""The rules of coverage (licensing/coverage.py): who may register what against which licence,
links and platforms, publication dates against the days the licence was in force, tracks, and
coverage surviving the end of a subscription."""

from datetime import UTC, date, datetime

import pytest
import time_machine

from backgroundmusic.accounts.models import User
from backgroundmusic.accounts.tests.factories import UserFactory
from backgroundmusic.catalog.tests.fixtures import ready_track
from backgroundmusic.core.errors import PermissionDenied
from backgroundmusic.licensing import coverage
from backgroundmusic.licensing.coverage import CoverageRefused, InForce
from backgroundmusic.licensing.models import (
    Agreement,
    CoveredChannel,
    CoveredUse,
    PlanKind,
    Platform,
    Term,
    Use,
)
from backgroundmusic.licensing.tests.coverage_scenes import PAID_UNTIL, START, licence, moved

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
ACTIVE = Agreement.Status.ACTIVE


@pytest.fixture(autouse=True)
def at_now(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def owner() -> User:
    return UserFactory.create(username="owner")


@pytest.fixture
def subscription(owner) -> Agreement:
    return licence(user=owner)


def add_use(agreement: Agreement, user: User | None, **changes) -> CoveredUse:
    fields = {
        "platform": "",
        "url": "https://youtu.be/first",
        "published_on": date(2026, 3, 5),
        "title": "",
        "track": None,
        **changes,
    }
    return coverage.use_add(user=user, agreement=agreement, **fields)


def refused(call, *args, **kwargs) -> CoverageRefused:
    with pytest.raises(CoverageRefused) as caught:
        call(*args, **kwargs)
    return caught.value


def stretches(agreement: Agreement) -> list[tuple[datetime, datetime | None]]:
    found = coverage.coverage_of(agreement=agreement, now=NOW).stretches
    return [(stretch.start, stretch.end) for stretch in found]


def test_a_subscription_is_in_force_from_its_start_to_its_paid_date(subscription):
    assert stretches(subscription) == [(START, PAID_UNTIL)]
    assert coverage.coverage_of(agreement=subscription, now=NOW).stretches_display() == (
        "1 March 2026 – 1 April 2026"
    )


def test_a_renewal_paid_in_time_continues_the_stretch(subscription):
    moved(
        subscription,
        to=ACTIVE,
        at=datetime(2026, 3, 25, tzinfo=UTC),
        paid_until=datetime(2026, 5, 1, 10, tzinfo=UTC),
    )
    assert stretches(subscription) == [(START, datetime(2026, 5, 1, 10, tzinfo=UTC))]


def test_a_lapse_and_a_late_renewal_leave_a_gap_that_covers_nothing(subscription, owner):
    moved(subscription, to=Agreement.Status.SUSPENDED, at=datetime(2026, 4, 2, tzinfo=UTC))
    renewed_at = datetime(2026, 4, 20, 12, tzinfo=UTC)
    moved(subscription, to=ACTIVE, at=renewed_at, paid_until=datetime(2026, 5, 20, 12, tzinfo=UTC))
    assert stretches(subscription) == [
        (START, PAID_UNTIL),
        (renewed_at, datetime(2026, 5, 20, 12, tzinfo=UTC)),
    ]
    with time_machine.travel(datetime(2026, 5, 1, tzinfo=UTC), tick=False):
        error = refused(add_use, subscription, owner, published_on=date(2026, 4, 10))
        assert (error.code, error.field, error.message) == (
            "date_not_covered",
            "published_on",
            "The licence covers works published 1 March 2026 – 1 April 2026; 20 April 2026 – "
            "20 May 2026; 10 April 2026 is outside that.",
        )
        assert add_use(subscription, owner, published_on=date(2026, 4, 20)).published_on == date(
            2026, 4, 20
        )


def test_a_suspension_before_the_paid_date_ends_the_stretch_there(subscription):
    moved(subscription, to=Agreement.Status.SUSPENDED, at=datetime(2026, 3, 20, tzinfo=UTC))
    assert stretches(subscription) == [(START, datetime(2026, 3, 20, tzinfo=UTC))]


def test_a_revoked_licence_was_never_in_force_for_coverage(subscription, owner):
    add_use(subscription, owner)
    moved(subscription, to=Agreement.Status.REVOKED, at=datetime(2026, 3, 8, tzinfo=UTC))
    found = coverage.coverage_of(agreement=subscription, now=NOW)
    assert (found.stretches, found.covered_uses, found.revoked) == ([], [], True)
    assert [use.url for use in found.uses] == ["https://youtu.be/first"]


def test_a_perpetual_licence_covers_any_day_from_its_start(owner):
    perpetual = licence(
        user=owner, kind=PlanKind.SINGLE_TRACK, uses=[Use.PROJECT], track=ready_track(title="One")
    )
    assert perpetual.paid_until is None
    assert stretches(perpetual) == [(START, None)]
    with time_machine.travel(datetime(2031, 7, 1, tzinfo=UTC), tick=False):
        assert add_use(perpetual, owner, published_on=date(2031, 6, 30)).published_on == date(
            2031, 6, 30
        )
    error = refused(add_use, perpetual, owner, published_on=date(2026, 2, 28))
    assert error.message == (
        "The licence covers works published from 1 March 2026; 28 February 2026 is outside that."
    )


def test_the_last_day_is_the_day_of_the_last_moment_in_force():
    midnight = InForce(start=START, end=datetime(2026, 4, 1, tzinfo=UTC))
    assert (midnight.first_day, midnight.last_day) == (date(2026, 3, 1), date(2026, 3, 31))
    assert midnight.covers(date(2026, 3, 31)) and not midnight.covers(date(2026, 4, 1))


@pytest.mark.parametrize(
    ("published_on", "accepted"),
    [
        (date(2026, 2, 28), False),
        (date(2026, 3, 1), True),
        (date(2026, 3, 10), True),
        # Already 11 March east of UTC+10 at 12:00 UTC; 12 March is nowhere yet.
        (date(2026, 3, 11), True),
    ],
)
def test_a_work_is_accepted_when_published_on_a_day_in_force(
    subscription, owner, published_on, accepted
):
    if accepted:
        assert add_use(subscription, owner, published_on=published_on).published_on == published_on
    else:
        error = refused(add_use, subscription, owner, published_on=published_on)
        assert error.message == (
            "The licence covers works published 1 March 2026 – 1 April 2026; 28 February 2026 "
            "is outside that."
        )
        assert not CoveredUse.objects.exists()


def test_a_publication_date_in_the_future_is_refused(subscription, owner):
    error = refused(add_use, subscription, owner, published_on=date(2026, 3, 12))
    assert (error.code, error.field, error.message) == (
        "date_future",
        "published_on",
        "The publication date is in the future.",
    )


def test_coverage_of_what_was_published_while_subscribed_survives_the_end(
    subscription, owner, at_now
):
    add_use(
        subscription, owner, url="https://youtu.be/before-the-end", published_on=date(2026, 3, 5)
    )
    at_now.move_to(datetime(2026, 4, 1, 10, 0, tzinfo=UTC), tick=False)
    moved(subscription, to=Agreement.Status.EXPIRED, at=PAID_UNTIL)
    at_now.move_to(datetime(2026, 9, 15, 8, 0, tzinfo=UTC), tick=False)
    later = add_use(
        subscription, owner, url="https://youtu.be/registered-late", published_on=date(2026, 4, 1)
    )
    error = refused(
        add_use, subscription, owner, url="https://youtu.be/after", published_on=date(2026, 4, 2)
    )
    assert error.message == (
        "The licence covers works published 1 March 2026 – 1 April 2026; 2 April 2026 is outside "
        "that."
    )
    now = datetime(2026, 9, 15, 8, 0, tzinfo=UTC)
    found = coverage.coverage_of(agreement=subscription, now=now)
    assert found.in_force is False
    assert [use.url for use in found.covered_uses] == [
        "https://youtu.be/before-the-end",
        "https://youtu.be/registered-late",
    ]
    assert later.added_at == now
    assert [use.url for use in coverage.covered_uses_of(user=owner)] == [
        "https://youtu.be/registered-late",
        "https://youtu.be/before-the-end",
    ]


def test_only_the_licensee_registers_or_removes(subscription, owner):
    use = add_use(subscription, owner)
    channel = coverage.channel_add(
        user=owner, agreement=subscription, platform="", url="https://t.me/mine"
    )
    other = UserFactory.create(username="other")
    for caller in (other, None):
        with pytest.raises(PermissionDenied) as denied:
            coverage.channel_add(
                user=caller, agreement=subscription, platform="", url="https://t.me/x"
            )
        assert denied.value.message == "Only the licensee can change what this licence covers."
        with pytest.raises(PermissionDenied):
            add_use(subscription, caller, url="https://youtu.be/other")
        with pytest.raises(PermissionDenied):
            coverage.channel_remove(user=caller, channel=channel)
        with pytest.raises(PermissionDenied):
            coverage.use_remove(user=caller, use=use)
    assert list(CoveredChannel.objects.values_list("url", flat=True)) == ["https://t.me/mine"]
    assert list(CoveredUse.objects.values_list("url", flat=True)) == ["https://youtu.be/first"]
    coverage.channel_remove(user=owner, channel=channel)
    coverage.use_remove(user=owner, use=use)
    assert not CoveredChannel.objects.exists() and not CoveredUse.objects.exists()


def test_a_venue_licence_has_nothing_to_register(owner):
    venue = licence(user=owner, kind=PlanKind.VENUE, uses=[Use.PUBLIC_PERFORMANCE])
    message = (
        "This licence is for public performance at a venue: it has no channels or published "
        "works to register."
    )
    assert (
        refused(
            coverage.channel_add, user=owner, agreement=venue, platform="", url="https://t.me/x"
        ).message
        == message
    )
    assert refused(add_use, venue, owner).message == message
    with pytest.raises(coverage.CoverageNotFound):
        coverage.coverage_agreement_get(user=owner, number=venue.number)


@pytest.mark.parametrize(
    "uses",
    [
        [Use.ONLINE_VIDEO],
        [Use.PODCAST],
        [Use.COMPANY_CHANNEL],
        [Use.ADVERTISING],
        [Use.PROJECT],
        [Use.PUBLIC_PERFORMANCE, Use.ADVERTISING],
    ],
)
def test_every_licence_for_published_works_has_coverage(owner, uses):
    made = licence(user=owner, kind=PlanKind.BUSINESS, uses=uses)
    assert coverage.coverage_agreement_get(user=owner, number=made.number) == made


def test_a_revoked_licence_takes_no_registration(subscription, owner):
    moved(subscription, to=Agreement.Status.REVOKED, at=datetime(2026, 3, 8, tzinfo=UTC))
    message = "This licence was revoked: it covers nothing, so nothing can be registered."
    error = refused(
        coverage.channel_add, user=owner, agreement=subscription, platform="", url="https://t.me/x"
    )
    assert (error.code, error.field, error.message) == ("revoked", None, message)
    assert refused(add_use, subscription, owner).message == message
    assert not CoveredChannel.objects.exists() and not CoveredUse.objects.exists()


HOST_ERROR = ("url_host", "The link has no valid site name (such as youtube.com).")
SCHEME_ERROR = ("url_scheme", "The link must start with https:// or http://.")
TOO_LONG = (
    "url_too_long",
    "The link is too long: at most 500 characters, counting each letter outside ASCII as its "
    "%-escape.",
)


@pytest.mark.parametrize(
    ("url", "code", "message"),
    [
        ("", "url_missing", "Enter the link."),
        ("   ", "url_missing", "Enter the link."),
        ("youtube.com/@someone", *SCHEME_ERROR),
        ("ftp://youtube.com/x", *SCHEME_ERROR),
        ("javascript:alert(1)", *SCHEME_ERROR),
        ("data:text/html,hello", *SCHEME_ERROR),
        (
            "https://user:secret@youtube.com/x",
            "url_credentials",
            "The link must not hold a user name or password before the site's name.",
        ),
        (
            "https://youtube.com@evil.example/x",
            "url_credentials",
            "The link must not hold a user name or password before the site's name.",
        ),
        (
            "https://youtube.com:8443/x",
            "url_port",
            "The link must not name a port: give the site's usual address.",
        ),
        (
            "https://youtube.com:99999/x",
            "url_port",
            "The link must not name a port: give the site's usual address.",
        ),
        ("https://127.0.0.1/x", "url_ip", "Give the site's name, not an IP address."),
        ("https://[2001:db8::1]/x", "url_ip", "Give the site's name, not an IP address."),
        ("https://localhost/x", *HOST_ERROR),
        ("https:///x", *HOST_ERROR),
        ("https://[::1/x", *HOST_ERROR),
        ("https://exa_mple.com/x", *HOST_ERROR),
        ("https://" + "a" * 64 + ".com/", *HOST_ERROR),
        ("https://1.2.3.999/", *HOST_ERROR),
        ("https://youtube.com/a b", "url_space", "A link has no spaces."),
        ("https://youtube.com/a\u00a0b", "url_space", "A link has no spaces."),
        (
            "https://youtube.com/a\tb",
            "line_break",
            "The text holds a line break or tab (U+0009); this value is one line.",
        ),
        (
            "https://youtube.com/a\x07b",
            "control_character",
            "The text holds the control character U+0007; remove it.",
        ),
        (
            "https://youtube.com/\u202ecod.exe",
            "bidi_control",
            "The text holds the bidirectional control U+202E, which makes text read "
            "differently from what it is; remove it.",
        ),
        (
            "https://youtube.com/\ud800",
            "lone_surrogate",
            "The text holds a lone surrogate (U+D800–U+DFFF), which is not a character.",
        ),
        ("https://youtube.com/" + "a" * 481, *TOO_LONG),
        ("https://youtube.com/" + "ж" * 81, *TOO_LONG),
        ("https://you\u200dtube.com/", *HOST_ERROR),
        ("https://youtube.com/" + "a" * 5000, *TOO_LONG),
    ],
)
def test_a_link_that_is_not_a_web_address_of_a_named_site_is_refused(
    subscription, owner, url, code, message
):
    error = refused(coverage.channel_add, user=owner, agreement=subscription, platform="", url=url)
    assert (error.code, error.field, error.message) == (code, "url", message)
    error = refused(add_use, subscription, owner, url=url)
    assert (error.code, error.field, error.message) == (code, "url", message)
    assert not CoveredChannel.objects.exists() and not CoveredUse.objects.exists()


@pytest.mark.parametrize(
    ("url", "stored", "platform"),
    [
        ("https://www.youtube.com/@someone", "https://www.youtube.com/@someone", Platform.YOUTUBE),
        (
            "HTTPS://M.YouTube.COM/watch?v=Ab_1",
            "https://m.youtube.com/watch?v=Ab_1",
            Platform.YOUTUBE,
        ),
        ("https://youtu.be/Ab_1?t=30#x", "https://youtu.be/Ab_1?t=30#x", Platform.YOUTUBE),
        ("  https://vk.com/video-1_2  ", "https://vk.com/video-1_2", Platform.VK),
        ("https://vkvideo.ru/video-1_2", "https://vkvideo.ru/video-1_2", Platform.VK),
        ("https://rutube.ru/video/abc/", "https://rutube.ru/video/abc/", Platform.RUTUBE),
        ("https://t.me/channel/12", "https://t.me/channel/12", Platform.TELEGRAM),
        (
            "https://podcasts.apple.com/ru/podcast/x/id1",
            "https://podcasts.apple.com/ru/podcast/x/id1",
            Platform.PODCAST,
        ),
        ("https://music.yandex.ru/album/1", "https://music.yandex.ru/album/1", Platform.PODCAST),
        ("http://example.com/film", "http://example.com/film", Platform.OTHER),
        # Not a subdomain of youtube.com: only a name that ends in it.
        ("https://notyoutube.com/x", "https://notyoutube.com/x", Platform.OTHER),
        (
            "https://youtube.com.evil.example/x",
            "https://youtube.com.evil.example/x",
            Platform.OTHER,
        ),
        # Host names in their IDNA A-label form; letters outside ASCII %-escaped elsewhere.
        (
            "https://ЯНДЕКС.рф./видео?имя=да#раз",
            "https://xn--d1acpjx3f.xn--p1ai/%D0%B2%D0%B8%D0%B4%D0%B5%D0%BE?%D0%B8%D0%BC%D1%8F=%D0%B4%D0%B0#%D1%80%D0%B0%D0%B7",
            Platform.OTHER,
        ),
        ("https://аррӏе.com/", "https://xn--80ak6aa92e.com/", Platform.OTHER),
        ("https://you\u00adtube.com/", "https://youtube.com/", Platform.YOUTUBE),
        (
            "https://youtube.com/" + "ж" * 80,
            "https://youtube.com/" + "%D0%B6" * 80,
            Platform.YOUTUBE,
        ),
        ('https://vk.com/a<b>"c', "https://vk.com/a%3Cb%3E%22c", Platform.VK),
        ("https://youtube.com/" + "a" * 480, "https://youtube.com/" + "a" * 480, Platform.YOUTUBE),
    ],
)
def test_links_are_stored_in_one_spelling_with_the_platform_of_their_site(
    subscription, owner, url, stored, platform
):
    channel = coverage.channel_add(user=owner, agreement=subscription, platform="", url=url)
    assert (channel.url, channel.platform, channel.added_at) == (stored, platform, NOW)
    use = add_use(subscription, owner, url=url)
    assert (use.url, use.platform) == (stored, platform)


@pytest.mark.parametrize(
    ("chosen", "url", "stored", "message"),
    [
        ("youtube", "https://youtu.be/x", "youtube", None),
        ("podcast", "https://my-podcast.example/ep1", "podcast", None),
        ("other", "https://my-site.example/ep1", "other", None),
        (
            "vk",
            "https://youtu.be/x",
            None,
            "This link is on YouTube: choose YouTube, or let the platform be detected.",
        ),
        (
            "other",
            "https://t.me/x",
            None,
            "This link is on Telegram: choose Telegram, or let the platform be detected.",
        ),
        (
            "youtube",
            "https://example.com/x",
            None,
            "This link is not on YouTube: its site is example.com.",
        ),
        (
            "rutube",
            "https://rutube.ru.example/x",
            None,
            "This link is not on RUTUBE: its site is rutube.ru.example.",
        ),
        ("myspace", "https://example.com/x", None, "Choose a platform from the list."),
    ],
)
def test_a_chosen_platform_must_be_the_one_of_the_links_site(
    subscription, owner, chosen, url, stored, message
):
    if message is None:
        assert (
            coverage.channel_add(
                user=owner, agreement=subscription, platform=chosen, url=url
            ).platform
            == stored
        )
        assert add_use(subscription, owner, platform=chosen, url=url).platform == stored
        return
    error = refused(
        coverage.channel_add, user=owner, agreement=subscription, platform=chosen, url=url
    )
    assert (error.field, error.message) == ("platform", message)
    assert refused(add_use, subscription, owner, platform=chosen, url=url).message == message


def test_a_channel_or_work_is_registered_once_per_licence(subscription, owner):
    coverage.channel_add(
        user=owner, agreement=subscription, platform="", url="https://www.YouTube.com/@me"
    )
    error = refused(
        coverage.channel_add,
        user=owner,
        agreement=subscription,
        platform="",
        url="https://www.youtube.com/@me",
    )
    assert (error.code, error.field, error.message) == (
        "channel_duplicate",
        "url",
        "This channel is already registered for this licence.",
    )
    add_use(subscription, owner, url="https://youtu.be/same", published_on=date(2026, 3, 2))
    error = refused(
        add_use, subscription, owner, url="HTTPS://YOUTU.BE/same", published_on=date(2026, 3, 3)
    )
    assert (error.code, error.field, error.message) == (
        "use_duplicate",
        "url",
        "This work is already registered for this licence (published on 2 March 2026).",
    )
    # Another licence of the same person may list the same work.
    second = licence(user=owner, number="BM-2026-000043")
    assert add_use(second, owner, url="https://youtu.be/same").agreement == second
    assert CoveredUse.objects.filter(url="https://youtu.be/same").count() == 2


def test_a_licence_holds_at_most_20_channels_and_1000_works(subscription, owner):
    for number in range(20):
        coverage.channel_add(
            user=owner, agreement=subscription, platform="", url=f"https://t.me/c{number}"
        )
    error = refused(
        coverage.channel_add,
        user=owner,
        agreement=subscription,
        platform="",
        url="https://t.me/one-more",
    )
    assert (error.code, error.field, error.message) == (
        "channel_limit",
        None,
        "A licence holds at most 20 channels: remove one first.",
    )
    CoveredUse.objects.bulk_create(
        CoveredUse(
            agreement=subscription,
            platform=Platform.YOUTUBE,
            url=f"https://youtu.be/{n}",
            published_on=date(2026, 3, 2),
            added_at=NOW,
        )
        for n in range(1000)
    )
    error = refused(add_use, subscription, owner, url="https://youtu.be/one-more")
    assert (error.code, error.message) == (
        "use_limit",
        "A licence holds at most 1000 works: remove one first.",
    )
    assert CoveredChannel.objects.count() == 20 and CoveredUse.objects.count() == 1000


def test_a_single_track_licence_covers_works_with_its_track_only(owner):
    one, two = (
        ready_track(title="One", catalogue_code="BM-0001"),
        ready_track(title="Two", catalogue_code="BM-0002"),
    )
    single = licence(user=owner, kind=PlanKind.SINGLE_TRACK, uses=[Use.ONLINE_VIDEO], track=one)
    assert single.plan_edition.term == Term.PERPETUAL
    assert add_use(single, owner, url="https://youtu.be/a").track == one
    assert add_use(single, owner, url="https://youtu.be/b", track=one).track == one
    error = refused(add_use, single, owner, url="https://youtu.be/c", track=two)
    assert (error.code, error.field, error.message) == (
        "track_not_licensed",
        "track",
        "This licence covers one track only: One (BM-0001).",
    )


def test_a_catalogue_licence_names_any_published_track_by_its_code(subscription, owner):
    track = ready_track(title="Morning Light", catalogue_code="BM-0007")
    ready_track(title="Draft", catalogue_code="BM-0008", published=False)
    assert coverage.track_by_code(code=" bm-0007 ") == track
    assert add_use(subscription, owner, track=track).track == track
    for code in ("BM-0008", "BM-9999"):
        with pytest.raises(CoverageRefused) as caught:
            coverage.track_by_code(code=code)
        assert (caught.value.field, caught.value.message) == (
            "track",
            f"No published track has the catalogue code {code}.",
        )
    draft = ready_track(title="Draft 2", catalogue_code="BM-0009", published=False)
    error = refused(add_use, subscription, owner, url="https://youtu.be/draft", track=draft)
    assert error.message == "No published track has the catalogue code BM-0009."


@pytest.mark.parametrize(
    ("title", "stored", "message"),
    [
        ("  My first video  ", "My first video", None),
        ("Ёлка — «вечер» 🎄", "Ёлка — «вечер» 🎄", None),
        ("x" * 300, "x" * 300, None),
        ("x" * 301, None, "The title is too long: at most 300 characters."),
        ("one\ntwo", None, "The text holds a line break or tab (U+000A); this value is one line."),
        (
            "evil\u2067name",
            None,
            "The text holds the bidirectional control U+2067, which makes text read "
            "differently from what it is; remove it.",
        ),
    ],
)
def test_a_work_title_is_one_line_of_at_most_300_characters(
    subscription, owner, title, stored, message
):
    if message is None:
        assert add_use(subscription, owner, title=title).title == stored
    else:
        error = refused(add_use, subscription, owner, title=title)
        assert (error.field, error.message) == ("title", message)
        assert not CoveredUse.objects.exists()


def test_coverage_of_reads_in_four_queries(subscription, owner, django_assert_num_queries):
    for number in range(5):
        coverage.channel_add(
            user=owner, agreement=subscription, platform="", url=f"https://t.me/c{number}"
        )
        add_use(subscription, owner, url=f"https://youtu.be/{number}", track=ready_track())
    agreement = coverage.coverage_agreement_get(user=owner, number=subscription.number)
    with django_assert_num_queries(4):
        found = coverage.coverage_of(agreement=agreement, now=NOW)
        # The tracks came with the works: no query per row.
        titles = [use.track.title for use in found.covered_uses if use.track is not None]
    assert len(titles) == 5
    assert (len(found.channels), len(found.uses), found.in_force) == (5, 5, True)


def test_covered_uses_of_a_person_newest_first_from_every_licence_but_revoked(
    owner, django_assert_num_queries
):
    first = licence(user=owner, number="BM-2026-000001")
    second = licence(user=owner, number="BM-2026-000002")
    revoked = licence(user=owner, number="BM-2026-000003")
    add_use(first, owner, url="https://youtu.be/1", published_on=date(2026, 3, 2))
    add_use(second, owner, url="https://youtu.be/2", published_on=date(2026, 3, 9))
    add_use(first, owner, url="https://youtu.be/3", published_on=date(2026, 3, 4))
    add_use(revoked, owner, url="https://youtu.be/4", published_on=date(2026, 3, 9))
    moved(revoked, to=Agreement.Status.REVOKED, at=NOW)
    add_use(
        licence(user=UserFactory.create(username="else"), number="BM-2026-000004"),
        User.objects.get(username="else"),
        url="https://youtu.be/5",
    )
    with django_assert_num_queries(3):
        found = [use.url for use in coverage.covered_uses_of(user=owner)]
    assert found == ["https://youtu.be/2", "https://youtu.be/3", "https://youtu.be/1"]


def test_another_persons_licence_is_not_found(subscription):
    stranger = UserFactory.create(username="stranger")
    with pytest.raises(coverage.CoverageNotFound):
        coverage.coverage_agreement_get(user=stranger, number=subscription.number)
    with pytest.raises(coverage.CoverageNotFound):
        coverage.coverage_agreement_get(user=stranger, number="no-such-number")
