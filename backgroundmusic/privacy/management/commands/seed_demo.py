"""Demo accounts for the embedded install, signed up under the demo policy editions, and the demo
recipients; refuses to run against a production database. Here, in the privacy center, because
it stands above accounts and publishes the editions the demo user accepted."""

import secrets
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from backgroundmusic.accounts import services
from backgroundmusic.accounts.models import AccountType, User
from backgroundmusic.accounts.staff import staff_role_assign
from backgroundmusic.privacy import demo as privacy_demo
from backgroundmusic.staffroles.roles import StaffRole

DEMO_USERNAME = "demo"
ADMIN_USERNAME = "demo-admin"
PRIVACY_OFFICER_USERNAME = "demo-privacy"
LICENSING_MANAGER_USERNAME = "demo-licensing"
NEWSLETTER_EDITOR_USERNAME = "demo-newsletter"
# The demo staff holding one role each.
DEMO_ROLES = {
    PRIVACY_OFFICER_USERNAME: StaffRole.PRIVACY_OFFICER,
    LICENSING_MANAGER_USERNAME: StaffRole.LICENSING_MANAGER,
    NEWSLETTER_EDITOR_USERNAME: StaffRole.NEWSLETTER_EDITOR,
}
DEMO_LOGINS = (
    (DEMO_USERNAME, "demo user"),
    (ADMIN_USERNAME, "staff administrator"),
    (PRIVACY_OFFICER_USERNAME, "privacy officer"),
    (LICENSING_MANAGER_USERNAME, "licensing manager"),
    (NEWSLETTER_EDITOR_USERNAME, "newsletter editor"),
)
STAFF_NOTE = "(staff set up two-factor sign-in at their first visit to /staff/)"


class Command(BaseCommand):
    help = "Create the demo user and demo staff (embedded mode only) and print their logins"

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.EMBEDDED:
            raise CommandError("seed_demo only runs in embedded mode (DATABASE_URL unset)")
        # The project's own privacy policy (an earlier and the current edition) and user
        # agreement, published before any user exists (idempotent).
        privacy_demo.demo_editions_publish()
        credentials_file = settings.VAR_DIR / "demo_credentials.txt"
        known = credentials_file.read_text() if credentials_file.exists() else ""
        logins = [line for line in known.splitlines() if line and line != STAFF_NOTE]
        # A login is made once; a demo account added in a later release is made on the next run.
        for username, label in DEMO_LOGINS:
            if User.objects.filter(username=username).exists():
                continue
            password = secrets.token_urlsafe(12)
            self._create(username, password)
            logins.append(f"{label + ':':22} {username} / {password}")
        credentials_file.write_text("\n".join([*logins, STAFF_NOTE]) + "\n")
        credentials_file.chmod(0o600)
        privacy_demo.demo_recipients_create()  # sharing toggles in the privacy center (idempotent)
        self.stdout.write("Demo logins (embedded mode only):\n" + credentials_file.read_text())

    def _create(self, username: str, password: str) -> None:
        email = f"{username}@example.com"
        if username == ADMIN_USERNAME:
            services.staff_administrator_create(username=username, email=email, password=password)
            return
        user = services.user_create(
            username=username, email=email, password=password, email_verified=True
        )
        if username in DEMO_ROLES:
            staff_role_assign(actor=None, user=user, role=DEMO_ROLES[username])
        else:
            # As if they signed up under the earlier privacy policy: the notice of the
            # current edition shows at their first sign-in.
            privacy_demo.demo_signup_record(user=user)
            # A licence agreement names its licensee: with a name, the demo user can check out.
            services.profile_update(
                user=user,
                data=services.ProfileData(
                    username=username,
                    full_name="Demo User",
                    account_type=AccountType.NATURAL,
                    company_name="",
                    tax_id="",
                    address_country="",
                    address_region="",
                    address_city="",
                    address_street="",
                    address_postcode="",
                    social_links=[],
                ),
            )
