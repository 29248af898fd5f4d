import base64
import io
import os

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import (
    TOTP,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.core.management import call_command

from backgroundmusic.accounts import services

pytestmark = pytest.mark.django_db

OLD = base64.urlsafe_b64encode(os.urandom(32)).decode()
NEW = base64.urlsafe_b64encode(os.urandom(32)).decode()


@pytest.fixture
def staff_member(settings):
    settings.DATA_MASTER_KEYS = f"k1:{OLD}"
    return services.user_create(
        username="staffer", email="s@example.com", password="a-long-password-1"
    )


def current_code(secret: str) -> str:
    counter = next(iter(yield_hotp_counters_from_time()))
    return f"{hotp_value(secret, counter):06d}"


def test_totp_and_recovery_seeds_are_stored_sealed_and_still_work(staff_member):
    secret = generate_totp_secret()
    TOTP.activate(staff_member, secret)
    RecoveryCodes.activate(staff_member)

    stored = {a.type: a.data for a in Authenticator.objects.filter(user=staff_member)}
    assert stored["totp"]["secret"].startswith("mk1:k1:")
    assert secret not in str(stored["totp"])
    assert stored["recovery_codes"]["seed"].startswith("mk1:k1:")
    totp = TOTP(Authenticator.objects.get(user=staff_member, type="totp"))
    assert totp.validate_code(current_code(secret)) is True


def test_rotation_reseals_two_factor_secrets_under_the_new_master_key(settings, staff_member):
    secret = generate_totp_secret()
    TOTP.activate(staff_member, secret)
    settings.DATA_MASTER_KEYS = f"k2:{NEW},k1:{OLD}"
    out = io.StringIO()
    call_command("rotate_data_master_key", stdout=out)
    assert out.getvalue().splitlines()[-1] == "Re-sealed 1 two-factor secrets under master key k2."

    settings.DATA_MASTER_KEYS = f"k2:{NEW}"
    authenticator = Authenticator.objects.get(user=staff_member, type="totp")
    assert authenticator.data["secret"].startswith("mk1:k2:")
    assert TOTP(authenticator).validate_code(current_code(secret)) is True
