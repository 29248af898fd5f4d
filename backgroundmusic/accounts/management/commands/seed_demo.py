"""Demo accounts for the embedded install; refuses to run against a production database."""

import secrets
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from backgroundmusic.accounts import services
from backgroundmusic.accounts.models import User

DEMO_USERNAME = "demo"
ADMIN_USERNAME = "demo-admin"


class Command(BaseCommand):
    help = "Create the demo user and a staff administrator and print their logins"

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.EMBEDDED:
            raise CommandError("seed_demo only runs in embedded mode (DATABASE_URL unset)")
        credentials_file = settings.VAR_DIR / "demo_credentials.txt"
        if not credentials_file.exists():
            demo_password = secrets.token_urlsafe(12)
            admin_password = secrets.token_urlsafe(12)
            if not User.objects.filter(username=DEMO_USERNAME).exists():
                services.user_create(
                    username=DEMO_USERNAME,
                    email="demo@example.com",
                    password=demo_password,
                    email_verified=True,
                )
            if not User.objects.filter(username=ADMIN_USERNAME).exists():
                services.staff_administrator_create(
                    username=ADMIN_USERNAME, email="admin@example.com", password=admin_password
                )
            credentials_file.write_text(
                f"demo user:          {DEMO_USERNAME} / {demo_password}\n"
                f"staff administrator: {ADMIN_USERNAME} / {admin_password}\n"
            )
            credentials_file.chmod(0o600)
        self.stdout.write("Demo logins (embedded mode only):\n" + credentials_file.read_text())
