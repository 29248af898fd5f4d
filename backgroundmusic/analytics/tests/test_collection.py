"""What a beacon's fields become before anything is stored."""

import json

import pytest

from backgroundmusic.analytics.collection import (
    BeaconRejected,
    RequestFacts,
    Visitor,
    browser_and_device,
    clean_path,
    events_from_beacon,
    referrer_host,
    screen_class,
)

VIEW = "6f1c1f7e-2a53-4c1e-9a0c-1f1b2c3d4e5f"
CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("/catalog/", "/catalog/"),
        # Free-text search and unknown parameters go; facets, sort and page stay, sorted.
        ("/catalog/?q=ivan%40mail.ru&mood=calm&page=2&utm_source=x", "/catalog/?mood=calm&page=2"),
        ("/catalog/?genre=ambient&genre=jazz", "/catalog/?genre=ambient&genre=jazz"),
        # E-mail addresses anywhere: in a segment, encoded, in a kept parameter.
        ("/account/ivan.petrov@example.com/", "/account/:email/"),
        ("/account/ivan%40example.com/x", "/account/:email/x"),
        ("/catalog/?genre=ivan@example.com", "/catalog/?genre=%3Aemail"),
        # Tokens: signed values, long hex, UUIDs, long random strings.
        (
            "/privacy/export/download/AbC123xyz-QwErTy987_LongToken/",
            "/privacy/export/download/:masked/",
        ),
        ("/privacy/confirm/eyJjIjoxLCJzIjo0fQ:1tXyZa:AbC/", "/privacy/confirm/:masked/"),
        ("/stream/eyJyIjoxNjgsImsiOiJwcmV2aWV3In0:1tXyZa:AbCdEf123/", "/stream/:token/"),
        ("/reset/0123456789abcdef0123/", "/reset/:token/"),
        ("/x/6f1c1f7e-2a53-4c1e-9a0c-1f1b2c3d4e5f/", "/x/:token/"),
        (
            "/accounts/password/reset/key/4-c9k2x8b1Qz7LmN0pR5tVw/",
            "/accounts/password/reset/key/:token/",
        ),
        # Whatever follows a prefix that names a person.
        ("/u/ivan-petrov/", "/u/:masked/"),
        # Ordinary words stay, even long ones.
        (
            "/catalog/morning-light-over-the-quiet-river/",
            "/catalog/morning-light-over-the-quiet-river/",
        ),
        # Not a path of this site.
        ("https://evil.example/x", ""),
        ("//evil.example/x", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_paths_are_stored_without_personal_data(raw, kept):
    assert clean_path(raw) == kept


def test_long_paths_are_cut_to_512_characters():
    assert len(clean_path("/catalog/" + "a-" * 400)) == 512


@pytest.mark.parametrize(
    ("raw", "host"),
    [
        ("https://www.Google.com/search?q=music", "www.google.com"),
        ("https://user:secret@Example.COM:8443/x", "example.com"),
        ("https://example.com./", "example.com"),
        ("android-app://com.google.android.gm/", "com.google.android.gm"),
        # Unicode names are stored as their A-label, lowercase.
        ("https://ЯНДЕКС.рф/search", "xn--d1acpjx3f.xn--p1ai"),
        ("https://xn--d1acpjx3f.xn--p1ai/", "xn--d1acpjx3f.xn--p1ai"),
        ("https://ｅｘａｍｐｌｅ.com/", "example.com"),  # full-width letters
        ("https://faß.de/", "xn--fa-hia.de"),
        ("http://192.0.2.7:8080/", "192.0.2.7"),
        ("http://[2001:DB8:0:0::1]/", "2001:db8::1"),
        ("https://" + "a" * 63 + ".com/", "a" * 63 + ".com"),
        ("https://testserver/catalog/", ""),  # our own site
        ("https://TESTSERVER:443/", ""),
        ('http://=hyperlink("http://x","y")', ""),
        ('=hyperlink("http://x","y")', ""),
        ("https://=cmd|'/c calc'!A1/", ""),
        ('https://"quoted".com/', ""),
        ("https://exa mple.com/", ""),
        ("https://example.com/a b", ""),
        ("https://exa\tmple.com/", ""),
        ("https://example.com\r\n/", ""),
        ("https://exa\x00mple.com/", ""),
        ("https://exa\x85mple.com/", ""),
        ("https://ex\u202eample.com/", ""),
        ("https://\ud800.com/", ""),
        ("https://" + "a" * 64 + ".com/", ""),  # a label over 63 characters
        ("https://" + ".".join(["a" * 63] * 4) + "/", ""),  # a name over 253 characters
        ("https://-start.com/", ""),
        ("https://end-.com/", ""),
        ("https://exa_mple.com/", ""),
        ("https://a..b/", ""),
        ("https://xn--abc/", ""),  # not punycode
        ("https://1.2.3.999/", ""),  # ends in a number: neither a name nor an address
        ("https://ex%41mple.com/", ""),
        ("https://[::1/", ""),
        ("https://[fe80::1%25eth0]/", ""),
        ("not a url", ""),
        ("javascript:alert(1)", ""),
        ("", ""),
        (42, ""),
        (None, ""),
    ],
)
def test_referrer_is_its_host_only_and_only_a_valid_one(raw, host):
    assert referrer_host(raw, own_host="testserver") == host


@pytest.mark.parametrize(
    ("own_host", "raw"),
    [
        ("testserver:8000", "http://testserver/"),
        ("[::1]:8000", "http://[0:0::1]/"),
        ("XN--D1ACPJX3F.XN--P1AI", "https://яндекс.рф/"),
    ],
)
def test_our_own_host_is_no_referrer_in_any_spelling(own_host, raw):
    assert referrer_host(raw, own_host=own_host) == ""


@pytest.mark.parametrize(
    ("width", "kind"),
    [
        *[(320, "s"), (639, "s"), (640, "m"), (1023, "m"), (1024, "l"), (1439, "l")],
        *[(1440, "xl"), (0, ""), (-5, ""), (True, ""), ("1280", ""), (10**9, "")],
    ],
)
def test_screen_width_becomes_a_class(width, kind):
    assert screen_class(width) == kind


def test_the_user_agent_becomes_a_family_a_major_version_and_a_device_class():
    assert browser_and_device(CHROME) == ("Chrome", "126", "desktop")
    iphone = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
    )
    assert browser_and_device(iphone) == ("Mobile Safari", "17", "mobile")
    assert browser_and_device("Googlebot/2.1 (+http://www.google.com/bot.html)")[2] == "bot"
    assert browser_and_device("") == ("", "", "")


FACTS = RequestFacts(user_agent=CHROME, own_host="testserver", headers={})
VISITOR = Visitor(key="k" * 64)


def beacon(*events: dict) -> bytes:
    return json.dumps({"events": list(events)}).encode()


def test_a_view_and_its_engagement_become_two_rows():
    rows = events_from_beacon(
        beacon(
            {
                "kind": "view",
                "view": VIEW,
                "path": "/catalog/?q=secret&mood=calm",
                "referrer": "https://duckduckgo.com/?q=music",
                "width": 1280,
                "language": "ru-RU",
            },
            {"kind": "engage", "view": VIEW, "path": "/catalog/", "engaged_ms": 5300},
        ),
        facts=FACTS,
        visitor=VISITOR,
        now="2026-11-24T12:00:00Z",
    )
    view, engage = rows
    assert (view.kind, str(view.view_id), view.path, view.referrer_host) == (
        "view",
        VIEW,
        "/catalog/?mood=calm",
        "duckduckgo.com",
    )
    assert (view.browser, view.browser_major, view.device, view.screen, view.language) == (
        "Chrome",
        "126",
        "desktop",
        "l",
        "ru-RU",
    )
    assert (view.visitor_key, view.pseudonym, view.engaged_ms, view.country) == (
        "k" * 64,
        "",
        0,
        "",
    )
    assert (engage.kind, engage.engaged_ms, engage.referrer_host, engage.screen) == (
        "engage",
        5300,
        "",
        "",
    )


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"not json", "not_json"),
        (b"\xff\xfe", "not_utf8"),
        (b'{"events": [{"kind": "view", "path": "/\xed\xa0\x80"}]}', "not_utf8"),
        (beacon({"kind": "view", "view": VIEW, "path": "/a\ud800"}), "lone_surrogate"),
        (beacon({"kind": "view", "view": VIEW, "path": "/a\x00"}), "nul"),
        (beacon({"kind": "view", "view": VIEW, "path": "/a\x1b"}), "control_character"),
        (beacon({"kind": "view", "view": VIEW, "path": "/a\u202e"}), "bidi_control"),
        (beacon({"kind": "view", "view": VIEW, "path": "/", "\ud83c": 1}), "lone_surrogate"),
        (b"[" * 1000 + b"]" * 1000, "too_deep"),
        (b'{"events": [{"width": NaN}]}', "not_json"),
        (b"[]", "no_events"),
        (b'{"events": []}', "no_events"),
        (b'{"events": "x"}', "no_events"),
        (
            json.dumps({"events": [{"kind": "view", "view": VIEW, "path": "/"}] * 51}).encode(),
            "too_many",
        ),
        (b"{" + b" " * 17000 + b"}", "too_large"),
        (b'{"events": [1]}', "bad_event"),
        (beacon({"kind": "click", "view": VIEW, "path": "/"}), "bad_kind"),
        (beacon({"kind": "view", "view": VIEW, "path": "https://x.example/"}), "bad_path"),
        (beacon({"kind": "view", "view": "not-a-uuid", "path": "/"}), "bad_view"),
        (beacon({"kind": "view", "view": 7, "path": "/"}), "bad_view"),
        (beacon({"kind": "engage", "view": VIEW, "path": "/"}), "bad_engaged_ms"),
        (beacon({"kind": "engage", "view": VIEW, "path": "/", "engaged_ms": -1}), "bad_engaged_ms"),
        (
            beacon({"kind": "engage", "view": VIEW, "path": "/", "engaged_ms": 1.5}),
            "bad_engaged_ms",
        ),
        (
            beacon({"kind": "engage", "view": VIEW, "path": "/", "engaged_ms": True}),
            "bad_engaged_ms",
        ),
        (
            beacon({"kind": "engage", "view": VIEW, "path": "/", "engaged_ms": 30 * 60 * 1000 + 1}),
            "bad_engaged_ms",
        ),
        # One bad event refuses the whole beacon.
        (beacon({"kind": "view", "view": VIEW, "path": "/"}, {"kind": "x"}), "bad_kind"),
    ],
)
def test_malformed_beacons_are_refused_with_a_specific_code(body, code):
    with pytest.raises(BeaconRejected) as refused:
        events_from_beacon(body, facts=FACTS, visitor=VISITOR, now=None)
    assert refused.value.code == code


def test_country_only_from_the_configured_proxy_header(settings):
    body = beacon({"kind": "view", "view": VIEW, "path": "/"})
    facts = RequestFacts(user_agent=CHROME, own_host="x", headers={"CF-IPCountry": "de"})
    assert events_from_beacon(body, facts=facts, visitor=VISITOR, now=None)[0].country == ""
    settings.ANALYTICS_COUNTRY_HEADER = "CF-IPCountry"
    assert events_from_beacon(body, facts=facts, visitor=VISITOR, now=None)[0].country == "DE"
    unknown = RequestFacts(user_agent=CHROME, own_host="x", headers={"CF-IPCountry": "XX"})
    assert events_from_beacon(body, facts=unknown, visitor=VISITOR, now=None)[0].country == ""
