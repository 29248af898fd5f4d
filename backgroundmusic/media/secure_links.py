"""Audio URLs that nginx checks itself, with its secure_link module (decision 0041).

With MEDIA_SECURE_LINK_SECRET set, the URLs `streaming.playable_urls` issues for the streamed
kinds are `/audio/<storage key>?e=<expires>&s=<signature>`: nginx recomputes the signature
(deploy/nginx/secure-media.conf), answers 403 to a wrong one and 410 to an expired one, and
sends the file's bytes and ranges itself, so a player's range requests never reach Python.
Entitlement is decided once, when the app issues the URL (`streaming.playable_tracks`); the
short lifetime (MEDIA_SECURE_LINK_SECONDS) bounds how long a URL outlives a licence, and the
player asks the app for a fresh one when nginx refuses (`streaming.renewed_url`).

With the media in S3-compatible storage (S3_BUCKET), the same URL goes on with the query of a
GET of the same object pre-signed by the storage's client for the same lifetime: nginx checks
the secure link, then passes the storage that query alone (deploy/nginx/secure-media-s3.conf),
and the storage checks its own signature.

`signature` is the one definition of the formula nginx is configured with:
base64url(md5(expires + path + " " + secret)) without padding. The secret never leaves this
module in a URL and is never logged; `render_nginx_snippet` writes it into the nginx snippet.
"""

import base64
import hashlib
import re
import string
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.core import checks

from backgroundmusic.core import clock
from backgroundmusic.core.storage import presigned_get_url, storage_folder_url

# The location of deploy/nginx/secure-media.conf; only rendition files lie under it.
PREFIX = "/audio/"
COVERED_FOLDER = "renditions/"
MIN_SECRET_LENGTH = 32
# Characters that need no quoting inside an nginx string and survive a shell's env file.
_SECRET_CHARACTERS = re.compile(r"^[A-Za-z0-9_-]+$")
# The nginx templates in deploy/nginx/: files on local disk, or in S3-compatible storage.
TEMPLATE_LOCAL = "secure-media.conf"
TEMPLATE_S3 = "secure-media-s3.conf"
# The longest a SigV4 pre-signed URL may live (S3's limit): a secure link on S3 cannot outlive it.
S3_PRESIGNED_MAX_SECONDS = 7 * 24 * 3600


def enabled() -> bool:
    """Secure links are issued: a secret is set."""
    return bool(settings.MEDIA_SECURE_LINK_SECRET)


def template_name() -> str:
    """The template of deploy/nginx/ that serves this install's secure links."""
    return TEMPLATE_S3 if settings.S3_BUCKET else TEMPLATE_LOCAL


def covers(storage_key: str) -> bool:
    """Is a stored file reachable through the secure-link location (renditions only)?"""
    return storage_key.startswith(COVERED_FOLDER) and ".." not in storage_key.split("/")


def signature(*, path: str, expires: int, secret: str) -> str:
    """What nginx computes from `secure_link_md5 "$secure_link_expires$uri <secret>"` for the
    decoded path `path` (`$uri`) and the expiry in Unix seconds."""
    digest = hashlib.md5(f"{expires}{path} {secret}".encode(), usedforsecurity=False).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def secure_link_url(*, storage_key: str) -> str:
    """The URL of a stored rendition file, good for MEDIA_SECURE_LINK_SECONDS from now."""
    path = PREFIX + storage_key
    expires = int(clock.now().timestamp()) + settings.MEDIA_SECURE_LINK_SECONDS
    sign = signature(path=path, expires=expires, secret=settings.MEDIA_SECURE_LINK_SECRET)
    url = f"{quote(path)}?e={expires}&s={sign}"
    # e and s first: nginx strips exactly them before passing the rest to the storage.
    presigned = presigned_get_url(storage_key, seconds=settings.MEDIA_SECURE_LINK_SECONDS)
    return url if presigned is None else f"{url}&{urlsplit(presigned).query}"


def storage_key_of(path: str) -> str | None:
    """The storage key a secure link's (decoded) path names, or None for any other path."""
    if not path.startswith(PREFIX):
        return None
    key = path.removeprefix(PREFIX)
    return key if covers(key) else None


def render_nginx_snippet(
    template: str, *, secret: str, seconds: int, media_root: str = "", renditions_url: str = ""
) -> str:
    """A template of deploy/nginx/ (`template_name`) with its placeholders filled, as `envsubst`
    would with the same variables; nginx's own `$variables` stay as they are. `media_root` fills
    secure-media.conf, `renditions_url` (the storage's URL of renditions/) secure-media-s3.conf."""
    values = {
        "MEDIA_ROOT": media_root.rstrip("/"),
        "MEDIA_SECURE_LINK_SECRET": secret,
        "MEDIA_SECURE_LINK_SECONDS": str(seconds),
        "S3_RENDITIONS_URL": renditions_url,
        "S3_HOST": urlsplit(renditions_url).netloc,
    }
    return string.Template(template).safe_substitute(values)


def render_installed_nginx_snippet() -> str:
    """This install's snippet: `template_name()` filled with its settings."""
    template = Path(settings.BASE_DIR) / "deploy" / "nginx" / template_name()
    return render_nginx_snippet(
        template.read_text(),
        secret=settings.MEDIA_SECURE_LINK_SECRET,
        seconds=settings.MEDIA_SECURE_LINK_SECONDS,
        media_root=str(settings.MEDIA_ROOT),
        renditions_url=storage_folder_url(COVERED_FOLDER) or "",
    )


def secure_link_deploy_check(**kwargs: Any) -> list[checks.CheckMessage]:
    """With secure links on, the secret must be strong, nginx-safe and its own, and the lifetime
    positive and, on S3-compatible storage, no longer than a pre-signed URL may live."""
    secret = settings.MEDIA_SECURE_LINK_SECRET
    if not secret:
        return []
    problems: list[checks.CheckMessage] = []
    if len(secret) < MIN_SECRET_LENGTH or not _SECRET_CHARACTERS.match(secret):
        problems.append(
            checks.Error(
                "MEDIA_SECURE_LINK_SECRET is too weak for signing audio URLs.",
                hint=f"Use at least {MIN_SECRET_LENGTH} characters of A-Z, a-z, 0-9, '-' and "
                "'_', e.g. `python3 -c 'import secrets; print(secrets.token_urlsafe(32))'` "
                "(docs/operations.md, 'Streaming through nginx').",
                id="media.E001",
            )
        )
    if secret == settings.SECRET_KEY:
        problems.append(
            checks.Error(
                "MEDIA_SECURE_LINK_SECRET is the SECRET_KEY: nginx's config would hold it.",
                hint="Give the audio links a secret of their own.",
                id="media.E002",
            )
        )
    if settings.S3_BUCKET and settings.MEDIA_SECURE_LINK_SECONDS > S3_PRESIGNED_MAX_SECONDS:
        problems.append(
            checks.Error(
                "MEDIA_SECURE_LINK_SECONDS is longer than S3-compatible storage lets a pre-signed "
                "URL live.",
                hint=f"Use at most {S3_PRESIGNED_MAX_SECONDS} seconds (7 days); 600 is the "
                "default.",
                id="media.E003",
            )
        )
    if settings.MEDIA_SECURE_LINK_SECONDS <= 0:
        problems.append(
            checks.Error(
                "MEDIA_SECURE_LINK_SECONDS must be a positive number of seconds.",
                id="media.E004",
            )
        )
    return problems
