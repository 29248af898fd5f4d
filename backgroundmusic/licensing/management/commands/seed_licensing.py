"""The demo plans and licence terms for the embedded install (licensing/demo.py)."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from backgroundmusic.licensing.demo import demo_plans_publish, demo_terms_publish


class Command(BaseCommand):
    help = (
        "Publish the demo plans (creator, business, venue, single track) and the licence terms; "
        "what is already published is left as it is. Embedded mode only."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.EMBEDDED:
            raise CommandError("seed_licensing only runs in embedded mode (DATABASE_URL unset)")
        terms = demo_terms_publish()
        editions = demo_plans_publish()
        self.stdout.write(
            f"Demo plans: {', '.join(f'{e.plan.code} {e.version}' for e in editions)}; "
            f"licence terms {terms.version}."
        )
