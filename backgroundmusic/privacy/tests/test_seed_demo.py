"""The demo logins of `manage.py seed_demo`: each account made once, its login kept in
var/demo_credentials.txt, and a demo account added by a later release made on the next run."""

import re
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import call_command

from backgroundmusic.accounts.models import User
from backgroundmusic.core import clock

pytestmark = pytest.mark.django_db

LOGIN = re.compile(r"^([a-z ]+):\s+(\S+) / (\S+)$", re.M)


def seed() -> None:
    with clock.frozen_at(datetime(2026, 12, 4, 12, 0, tzinfo=UTC)):
        call_command("seed_demo", stdout=StringIO())


def test_each_login_is_made_once_and_a_later_one_is_added(settings, tmp_path):
    settings.EMBEDDED = True
    settings.VAR_DIR = tmp_path
    credentials = tmp_path / "demo_credentials.txt"
    seed()
    first = credentials.read_text()
    logins = {username: (label, password) for label, username, password in LOGIN.findall(first)}
    assert {username: label for username, (label, _) in logins.items()} == {
        "demo": "demo user",
        "demo-admin": "staff administrator",
        "demo-privacy": "privacy officer",
        "demo-licensing": "licensing manager",
        "demo-newsletter": "newsletter editor",
    }
    for username, (_, password) in logins.items():
        assert User.objects.get(username=username).check_password(password)
    assert oct(credentials.stat().st_mode & 0o777) == "0o600"

    seed()
    assert credentials.read_text() == first

    # An install seeded before the newsletter editor existed: that account is made now, and the
    # other logins stay as they were.
    User.objects.filter(username="demo-newsletter").delete()
    credentials.write_text(
        "".join(line for line in first.splitlines(True) if "demo-newsletter" not in line)
    )
    seed()
    again = {username: password for _, username, password in LOGIN.findall(credentials.read_text())}
    assert {name: again[name] for name in logins if name != "demo-newsletter"} == {
        name: password for name, (_, password) in logins.items() if name != "demo-newsletter"
    }
    assert again["demo-newsletter"] != logins["demo-newsletter"][1]
    assert User.objects.get(username="demo-newsletter").check_password(again["demo-newsletter"])
    assert credentials.read_text().endswith(
        "(staff set up two-factor sign-in at their first visit to /staff/)\n"
    )
