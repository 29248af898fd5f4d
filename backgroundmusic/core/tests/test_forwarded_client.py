"""The client's address behind our proxies (core.middleware.ForwardedClientMiddleware): with
PROXY_COUNT N, the N-th entry of X-Forwarded-For from the right becomes REMOTE_ADDR; anything
else leaves REMOTE_ADDR as the app server saw it, and never answers 500."""

import logging

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from hypothesis import given
from hypothesis import strategies as st

from backgroundmusic.core.middleware import ForwardedClientMiddleware
from backgroundmusic.core.request_info import client_ip, forwarded_client_address

PROXY = "127.0.0.1"
CLIENT = "203.0.113.7"
SPOOFED = "198.51.100.99"
CDN = "192.0.2.10"


def seen_by_app(forwarded_for: str | None, *, remote_addr: str = PROXY) -> str:
    """REMOTE_ADDR as the views after the middleware read it."""
    request = RequestFactory().get("/", REMOTE_ADDR=remote_addr)
    if forwarded_for is not None:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded_for
    seen: list[str] = []

    def view(request: HttpRequest) -> HttpResponse:
        seen.append(client_ip(request))
        return HttpResponse()

    ForwardedClientMiddleware(view)(request)
    return seen[0]


def test_without_proxies_the_header_is_not_read_so_a_client_cannot_choose_its_address(settings):
    settings.PROXY_COUNT = 0
    assert seen_by_app(CLIENT) == PROXY
    assert seen_by_app(f"{SPOOFED}, {CLIENT}") == PROXY
    assert seen_by_app(None) == PROXY


def test_one_proxy_gives_the_rightmost_entry(settings):
    settings.PROXY_COUNT = 1
    assert seen_by_app(CLIENT) == CLIENT
    assert seen_by_app(f"{CDN},{CLIENT}") == CLIENT


def test_two_proxies_give_the_second_entry_from_the_right(settings):
    settings.PROXY_COUNT = 2
    assert seen_by_app(f"{CLIENT}, {CDN}") == CLIENT
    assert seen_by_app(f"{SPOOFED}, {CLIENT}, {CDN}") == CLIENT


@pytest.mark.parametrize(
    "written_by_client",
    [
        SPOOFED,
        f"{SPOOFED}, 10.0.0.1",
        "garbage",
        "",
        "\ud800",
        "\x00",
        "[2001:db8::1]:443",
        ", ".join(f"198.51.100.{n % 250}" for n in range(2000)),
        "x" * 10_000,
    ],
    ids=[
        "one",
        "two",
        "garbage",
        "empty",
        "surrogate",
        "nul",
        "ipv6-port",
        "2000-entries",
        "10kB-token",
    ],
)
def test_entries_the_client_wrote_to_the_left_are_never_read(settings, written_by_client):
    settings.PROXY_COUNT = 1
    # nginx appends the address it saw to whatever the client sent.
    assert seen_by_app(f"{written_by_client}, {CLIENT}") == CLIENT


@pytest.mark.parametrize(
    "forwarded_for",
    [
        "garbage",
        "unknown",
        "",
        " ",
        ",",
        f"{CLIENT},",
        f"{CLIENT}, ",
        "[2001:db8::1]",
        "[2001:db8::1]:443",
        "2001:db8::1:443x",
        "203.0.113.7:8080",
        "203.0.113.256",
        "203.0.113",
        "0203.0.113.7",
        "fe80::1%eth0",
        "203.0.113.7\x00",
        "203.0.113.7\ud800",
        "\ud800",
        "203.0.113.7 198.51.100.1",
        "2" * 10_000,
        f"{CLIENT}, " + "x" * 10_000,
    ],
)
def test_a_malformed_or_missing_rightmost_entry_keeps_the_proxys_address(
    settings, forwarded_for, caplog
):
    settings.PROXY_COUNT = 1
    with caplog.at_level(logging.WARNING, logger="backgroundmusic.core.middleware"):
        assert seen_by_app(forwarded_for) == PROXY
    # The warning names the count, never the value, which may be anything the client sent.
    assert [record.getMessage() for record in caplog.records] == [
        "X-Forwarded-For has no address 1 entries from the right; kept REMOTE_ADDR."
    ]


def test_fewer_entries_than_proxies_keeps_the_proxys_address(settings):
    settings.PROXY_COUNT = 2
    assert seen_by_app(CLIENT) == PROXY
    assert seen_by_app(f"garbage, {CDN}") == PROXY
    settings.PROXY_COUNT = 3
    assert seen_by_app(f"{CLIENT}, {CDN}") == PROXY


def test_no_header_behind_a_proxy_keeps_the_address_quietly(settings, caplog):
    # Prometheus scrapes an app server directly (docs/operations.md "Metrics"): no header.
    settings.PROXY_COUNT = 1
    with caplog.at_level(logging.WARNING):
        assert seen_by_app(None, remote_addr="10.1.2.3") == "10.1.2.3"
    assert caplog.records == []


@pytest.mark.parametrize(
    ("entry", "address"),
    [
        ("2001:DB8:0:0::1", "2001:db8::1"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("\t203.0.113.7 ", "203.0.113.7"),
        ("2001:db8::1", "2001:db8::1"),
    ],
)
def test_addresses_are_written_the_one_way(entry, address):
    assert forwarded_client_address(f"{SPOOFED},{entry}", 1) == address


@given(st.text(max_size=300), st.integers(min_value=1, max_value=4))
def test_any_header_gives_a_valid_address_or_none(forwarded_for, proxy_count):
    address = forwarded_client_address(forwarded_for, proxy_count)
    assert address is None or forwarded_client_address(address, 1) == address
