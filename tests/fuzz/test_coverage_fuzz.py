"""Hypothesis fuzz of the coverage forms (licensing/views/coverage.py) through the test client.

Every example is one real POST through the whole middleware stack, as the licensee. The checks:
never a 5xx; a refusal writes nothing and shows the form again with an error and what was
typed; an accepted link is stored in its one spelling (http or https, a named site in IDNA
A-label form, ASCII, at most 500 characters, the platform of its site), an accepted work was
published on a day the licence was in force; well-formed input is always accepted.
"""

import html
import ipaddress
import string
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from urllib.parse import urlsplit

import pytest
from django.db import transaction
from django.test import Client
from django.utils.encoding import iri_to_uri
from hypothesis import HealthCheck, Phase, event, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from backgroundmusic.accounts.models import User
from backgroundmusic.accounts.tests.factories import UserFactory
from backgroundmusic.catalog.tests.fixtures import ready_track
from backgroundmusic.core import clock
from backgroundmusic.core.hostnames import normal_host
from backgroundmusic.core.text import TextKind, text_refusal
from backgroundmusic.licensing.coverage import PLATFORM_SITES, platform_of_host
from backgroundmusic.licensing.models import Agreement, CoveredChannel, CoveredUse, Platform
from backgroundmusic.licensing.tests.coverage_scenes import licence

pytestmark = pytest.mark.django_db

SUPPRESSED = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
PHASES = [Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink]
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
FIRST_DAY, LAST_DAY, LATEST = date(2026, 3, 1), date(2026, 4, 1), date(2026, 3, 11)
CHANNELS = "/licences/BM-2026-000042/coverage/channels/"
USES = "/licences/BM-2026-000042/coverage/uses/"

ANY_TEXT = st.text(st.characters(codec="utf-8"), max_size=40)
HOSTILE_CHARS = st.sampled_from(
    ["\x00", "\x07", "\t", "\n", "\r", "\x85", "\u2028", "\u202e", "\u2066", "\u200e", "\u200b",
     "\u00ad", "\u200d", "\ufeff", " ", "\u00a0", "@", "%", "#", "?", "/", "\\", ":", "[", "]",
     "<", ">", '"', "'", "`", "{", "}"]
)  # fmt: skip
KNOWN_HOSTS = st.sampled_from(
    [site for sites in PLATFORM_SITES.values() for site in sites]
    + ["www.youtube.com", "m.vk.com", "example.com", "xn--d1acpjx3f.xn--p1ai", "ЯНДЕКС.рф",
       "аррӏе.com", "localhost", "127.0.0.1", "[::1]", "1.2.3.999", "exa_mple.com",
       "a" * 64 + ".com", "ex--ample.com", "-bad.com"]
)  # fmt: skip
LABEL = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=12)
HOST = st.one_of(KNOWN_HOSTS, st.builds(lambda a, b: f"{a}.{b}", LABEL, LABEL))
PATH = st.lists(st.one_of(ANY_TEXT, HOSTILE_CHARS), max_size=6).map("".join)
SAFE = string.ascii_letters + string.digits + "-._~"
WELL_FORMED = st.builds(
    lambda scheme, host, path: f"{scheme}://{host}/{path}",
    st.sampled_from(["https", "http"]),
    st.one_of(
        st.sampled_from(["youtu.be", "www.youtube.com", "vk.com", "rutube.ru", "t.me"]),
        st.from_regex(r"[a-z][a-z0-9]{0,10}\.(com|ru|example|рф)", fullmatch=True),
    ),
    st.text(st.sampled_from(SAFE + "жё"), max_size=60),
)
URLS = st.one_of(
    ANY_TEXT,
    WELL_FORMED,
    # A well-formed link with hostile text after it, or in place of its host.
    st.builds(lambda url, tail: url + tail, WELL_FORMED, PATH),
    st.builds(
        lambda scheme, host: f"{scheme}://{host}/v", st.sampled_from(["https", "http"]), HOST
    ),
    st.builds(
        lambda scheme, host, port, path: f"{scheme}{host}{port}/{path}",
        st.sampled_from(
            ["https://", "http://", "HTTPS://", "ftp://", "javascript:", "", "//", "https:/"]
        ),
        HOST,
        st.sampled_from(["", "", ":443", ":8080", ":99999", ":x"]),
        PATH,
    ),
    # Very long ones, below and above the 500 characters stored.
    st.integers(min_value=400, max_value=3000).map(lambda n: "https://youtu.be/" + "v" * n),
    st.integers(min_value=50, max_value=200).map(lambda n: "https://vk.com/" + "ж" * n),
)
# Around the days in force (1 March to 11 March, "today" at the latest).
IN_FORCE_DATES = st.dates(min_value=date(2026, 2, 28), max_value=date(2026, 3, 12))
DATES = st.one_of(
    IN_FORCE_DATES.map(date.isoformat),
    st.dates().map(date.isoformat),
    st.sampled_from(["", "2026-02-30", "10.03.2026", "0000-01-01", "2026-3-5", "yesterday"]),
    ANY_TEXT,
)
PLATFORMS = st.one_of(st.sampled_from(["", *Platform.values]), ANY_TEXT)


@contextmanager
def separate_example(client: Client) -> Iterator[None]:
    """Each example starts from the same rows and leaves none; messages do not carry over."""
    for name in list(client.cookies):
        if name != "sessionid":
            del client.cookies[name]
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


@pytest.fixture
def scene(client: Client) -> tuple[Client, Agreement]:
    with clock.frozen_at(NOW):
        owner: User = UserFactory.create(username="owner")
        agreement = licence(user=owner)
        ready_track(title="Dawn", catalogue_code="BM-0001")
    client.force_login(owner)
    return client, agreement


def refused_at_the_edge(*values: str) -> bool:
    """NUL, which no row can hold, is refused for the whole request (core/middleware.py)."""
    refused = any("\x00" in value for value in values)
    if refused:
        event("refused at the edge")
    return refused


def assert_stored_link(stored: str, typed: str, platform: str, chosen: str) -> None:
    """The link as the rules store it, checked without them."""
    assert stored.isascii() and stored.isprintable() and " " not in stored
    assert len(stored) <= 500
    parts = urlsplit(stored)
    typed_parts = urlsplit(typed.strip())
    assert parts.scheme in ("http", "https") and parts.scheme == typed_parts.scheme.lower()
    assert "@" not in parts.netloc and parts.port is None
    host = parts.hostname or ""
    assert host == normal_host(typed_parts.hostname or "") != ""
    assert "." in host
    with pytest.raises(ValueError):
        ipaddress.ip_address(host)
    assert parts.path == iri_to_uri(typed_parts.path)
    assert parts.query == iri_to_uri(typed_parts.query)
    assert platform == (platform_of_host(host) or chosen or Platform.OTHER)


def assert_refused_and_kept(response, post: dict[str, str]) -> None:
    assert response.status_code == 200
    page = response.content.decode()
    assert 'class="errorlist' in page or 'class="message error"' in page
    for name in ("channel-url", "use-url", "use-title"):
        if post.get(name) and text_refusal(post[name], TextKind.LINE) is None:
            assert f'value="{html.escape(post[name])}"' in page


@hypothesis_settings(
    max_examples=200, deadline=None, suppress_health_check=SUPPRESSED, phases=PHASES
)
@given(platform=PLATFORMS, url=URLS)
@example(platform="", url="https://youtube.com@evil.example/")
@example(platform="youtube", url="https://you\u200dtube.com/")
@example(platform="", url="https://t.me/\u202ecod.exe")
@example(platform="", url="https://ЯНДЕКС.рф./видео")
def test_the_channel_form_stores_a_checked_link_or_nothing(scene, platform, url):
    client, agreement = scene
    post = {"channel-platform": platform, "channel-url": url}
    with separate_example(client), clock.frozen_at(NOW):
        response = client.post(CHANNELS, post)
        if refused_at_the_edge(platform, url):
            assert response.status_code == 400
            assert not CoveredChannel.objects.exists()
            return
        assert response.status_code in (200, 302)
        if response.status_code == 302:
            event("accepted")
            channel = CoveredChannel.objects.get()
            assert channel.agreement == agreement and channel.added_at == NOW
            assert_stored_link(channel.url, url, channel.platform, platform)
        else:
            event("refused")
            assert not CoveredChannel.objects.exists()
            assert_refused_and_kept(response, post)


HOSTILE_FIELDS = {
    "use-platform": PLATFORMS,
    "use-url": URLS,
    "use-published_on": DATES,
    "use-title": st.one_of(ANY_TEXT, HOSTILE_CHARS, st.text(min_size=290, max_size=320)),
    "use-track": st.one_of(st.sampled_from(["BM-0001", "bm-0001", " BM-0001 ", "BM-9"]), ANY_TEXT),
}


@st.composite
def work_posts(draw: st.DrawFn) -> dict[str, str]:
    """A plausible registration of a work, then some of it replaced with anything at all."""
    post = {
        "use-platform": "",
        "use-url": draw(WELL_FORMED),
        "use-published_on": draw(IN_FORCE_DATES).isoformat(),
        "use-title": draw(st.text(st.sampled_from(string.ascii_letters + " «»—Жё"), max_size=30)),
        "use-track": "",
    }
    for name in draw(st.sets(st.sampled_from(sorted(post)), max_size=3)):
        post[name] = draw(HOSTILE_FIELDS[name])
    return post


@hypothesis_settings(
    max_examples=200, deadline=None, suppress_health_check=SUPPRESSED, phases=PHASES
)
@given(post=work_posts())
def test_the_work_form_stores_a_covered_work_or_nothing(scene, post):
    client, agreement = scene
    platform, url, title, track = (
        post[name] for name in ("use-platform", "use-url", "use-title", "use-track")
    )
    with separate_example(client), clock.frozen_at(NOW):
        response = client.post(USES, post)
        if refused_at_the_edge(*post.values()):
            assert response.status_code == 400
            assert not CoveredUse.objects.exists()
            return
        assert response.status_code in (200, 302)
        if response.status_code == 302:
            event("accepted")
            use = CoveredUse.objects.select_related("track").get()
            assert use.agreement == agreement
            assert_stored_link(use.url, url, use.platform, platform)
            assert FIRST_DAY <= use.published_on <= min(LAST_DAY, LATEST)
            assert use.title == title.strip() and len(use.title) <= 300
            assert text_refusal(use.title, TextKind.LINE) is None
            assert (use.track.catalogue_code if use.track else "") == track.strip().upper()
        else:
            event("refused")
            assert not CoveredUse.objects.exists()
            assert_refused_and_kept(response, post)


@hypothesis_settings(
    max_examples=100, deadline=None, suppress_health_check=SUPPRESSED, phases=PHASES
)
@given(
    url=WELL_FORMED,
    published_on=st.dates(min_value=FIRST_DAY, max_value=LATEST),
    title=st.text(st.sampled_from(string.ascii_letters + " «»—ЖЁё"), max_size=80),
)
def test_well_formed_input_is_always_accepted(scene, url, published_on, title):
    client, _agreement = scene
    with separate_example(client), clock.frozen_at(NOW):
        response = client.post(CHANNELS, {"channel-platform": "", "channel-url": url})
        assert response.status_code == 302
        response = client.post(
            USES,
            {
                "use-platform": "",
                "use-url": url,
                "use-published_on": published_on.isoformat(),
                "use-title": title,
                "use-track": "",
            },
        )
        assert response.status_code == 302
        assert CoveredUse.objects.get().published_on == published_on
