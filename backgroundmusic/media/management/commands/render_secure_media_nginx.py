"""Writes deploy/nginx/secure-media.conf filled with this install's MEDIA_ROOT, secure-link
secret and lifetime (decision 0041), so nginx and the app sign with the same values. The file
holds the secret: it is written with mode 0640, and the secret is never printed."""

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from backgroundmusic.media import secure_links

TEMPLATE = Path(settings.BASE_DIR) / "deploy" / "nginx" / "secure-media.conf"


class Command(BaseCommand):
    help = "Write the nginx snippet that serves audio through secure links (secure-media.conf)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", required=True, help="The file to write (mode 0640).")

    def handle(self, *args: Any, **options: Any) -> None:
        if not secure_links.enabled():
            raise CommandError(
                "Secure links are off: set MEDIA_SECURE_LINK_SECRET (and keep the media on local "
                "disk, not S3_BUCKET)."
            )
        problems = secure_links.secure_link_deploy_check()
        if problems:
            raise CommandError(f"{problems[0].msg} {problems[0].hint or ''}".strip())
        text = secure_links.render_nginx_snippet(
            TEMPLATE.read_text(),
            media_root=str(settings.MEDIA_ROOT),
            secret=settings.MEDIA_SECURE_LINK_SECRET,
            seconds=settings.MEDIA_SECURE_LINK_SECONDS,
        )
        output = Path(options["output"])
        descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
        with os.fdopen(descriptor, "w") as file:
            file.write(text)
        output.chmod(0o640)
        self.stdout.write(f"Wrote {output} (mode 0640; it holds the secret).")
