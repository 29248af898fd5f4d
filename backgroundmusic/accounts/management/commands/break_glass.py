"""Superuser status for a stated reason and a bounded time, recorded (accounts/break_glass.py).

manage.py break_glass grant --user NAME --reason TEXT --minutes N
manage.py break_glass revoke --user NAME [--reason TEXT]
"""

import getpass
import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backgroundmusic.accounts import break_glass
from backgroundmusic.core.errors import DomainError


def operator() -> str:
    """Who runs the command: the person behind sudo when there is one, else the login name."""
    return os.environ.get("SUDO_USER") or getpass.getuser()


class Command(BaseCommand):
    help = "Give an account superuser status for a stated reason and time, or take it back"

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        grant = actions.add_parser("grant", help="make the account a superuser until it expires")
        grant.add_argument("--user", required=True, help="username of the account")
        grant.add_argument("--reason", required=True, help="why, e.g. the incident ticket")
        grant.add_argument(
            "--minutes",
            type=int,
            required=True,
            help=f"how long, 1 to {break_glass.MAX_MINUTES}",
        )
        revoke = actions.add_parser("revoke", help="end the account's grant now")
        revoke.add_argument("--user", required=True, help="username of the account")
        revoke.add_argument("--reason", default="", help="why it ends (optional)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "grant":
                grant = break_glass.break_glass_grant(
                    username=options["user"],
                    reason=options["reason"],
                    minutes=options["minutes"],
                    operator=operator(),
                )
                self.stdout.write(
                    f"{options['user']} is a superuser until {grant.expires_at:%Y-%m-%d %H:%M} "
                    f"UTC (grant #{grant.pk}). End it earlier with: "
                    f"manage.py break_glass revoke --user {options['user']}"
                )
            else:
                grant = break_glass.break_glass_revoke(
                    username=options["user"], reason=options["reason"], operator=operator()
                )
                self.stdout.write(
                    f"{options['user']} is no longer a superuser (grant #{grant.pk})."
                )
        except DomainError as refused:
            raise CommandError(refused.message) from None
