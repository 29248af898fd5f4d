"""A new staff member's first way in: sign in, set up two-factor sign-in once, land on the staff
pages, asked for the password only at sign-in."""

import re

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import hotp_value, yield_hotp_counters_from_time
from django.test import Client

from backgroundmusic.accounts.tests.factories import PASSWORD, StaffFactory
from backgroundmusic.staffroles.roles import StaffRole

pytestmark = pytest.mark.django_db


def current_code(secret: str) -> str:
    counter = next(iter(yield_hotp_counters_from_time()))
    return f"{hotp_value(secret, counter):06d}"


def test_sign_in_then_two_factor_set_up_leads_to_the_staff_pages_without_a_second_password(
    client: Client,
):
    member = StaffFactory.create(username="newsupport", role=StaffRole.SUPPORT, totp=False)

    signed_in = client.post("/accounts/login/", {"login": "newsupport", "password": PASSWORD})
    assert signed_in.status_code == 302

    staff_start = client.get("/staff/")
    assert staff_start.status_code == 302
    assert staff_start["Location"] == "/accounts/2fa/totp/activate/"

    set_up = client.get(staff_start["Location"])
    assert set_up.status_code == 200
    html = set_up.content.decode()
    assert 'name="password"' not in html
    shown = re.search(r'id="authenticator_secret"[^>]*value="([A-Z2-7]+)"', html)
    assert shown is not None
    secret = shown.group(1)

    activated = client.post(staff_start["Location"], {"code": current_code(secret)})
    assert Authenticator.objects.filter(user=member, type="totp").count() == 1
    assert activated.status_code == 302
    assert activated["Location"] == "/accounts/2fa/recovery-codes/"

    codes = client.get(activated["Location"])
    assert codes.status_code == 200
    codes_html = codes.content.decode()
    assert 'name="password"' not in codes_html
    assert '<a href="/staff/" id="continue-to-staff">Continue to the staff pages</a>' in codes_html

    people = client.get("/staff/")
    assert people.status_code == 200
    assert "<h1>People</h1>" in people.content.decode()


def test_a_sign_in_older_than_the_reauthentication_window_asks_for_the_password_again(
    client: Client, settings
):
    StaffFactory.create(username="oldsupport", role=StaffRole.SUPPORT, totp=False)
    client.post("/accounts/login/", {"login": "oldsupport", "password": PASSWORD})
    settings.ACCOUNT_REAUTHENTICATION_TIMEOUT = 0

    set_up = client.get("/accounts/2fa/totp/activate/")

    assert set_up.status_code == 302
    assert set_up["Location"] == (
        "/accounts/reauthenticate/?next=%2Faccounts%2F2fa%2Ftotp%2Factivate%2F"
    )
