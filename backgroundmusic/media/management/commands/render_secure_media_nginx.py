"""Writes the nginx snippet of this install's secure links (decision 0041), filled with its
values so nginx and the app sign with the same secret and lifetime: deploy/nginx/secure-media.conf
with MEDIA_ROOT for files on local disk, deploy/nginx/secure-media-s3.conf with the storage's
URL of renditions/ with S3_BUCKET. The file holds the secret: it is written with mode 0640, and
the secret is never printed."""

import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backgroundmusic.media import secure_links


class Command(BaseCommand):
    help = (
        "Write the nginx snippet that serves audio through secure links "
        "(secure-media.conf, or secure-media-s3.conf with S3_BUCKET)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", required=True, help="The file to write (mode 0640).")

    def handle(self, *args: Any, **options: Any) -> None:
        if not secure_links.enabled():
            raise CommandError("Secure links are off: set MEDIA_SECURE_LINK_SECRET.")
        problems = secure_links.secure_link_deploy_check()
        if problems:
            raise CommandError(f"{problems[0].msg} {problems[0].hint or ''}".strip())
        text = secure_links.render_installed_nginx_snippet()
        output = Path(options["output"])
        descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
        with os.fdopen(descriptor, "w") as file:
            file.write(text)
        output.chmod(0o640)
        self.stdout.write(
            f"Wrote {output} from deploy/nginx/{secure_links.template_name()} "
            "(mode 0640; it holds the secret)."
        )
