"""Audio URLs that nginx checks itself, with its secure_link module (decision 0041).

With MEDIA_SECURE_LINK_SECRET set, the URLs `streaming.playable_urls` issues for the streamed
kinds are `/audio/<storage key>?e=<expires>&s=<signature>`: nginx recomputes the signature
(deploy/nginx/secure-media.conf), answers 403 to a wrong one and 410 to an expired one, and
sends the file's bytes and ranges itself, so a player's range requests never reach Python.
Entitlement is decided once, when the app issues the URL (`streaming.playable_tracks`); the
short lifetime (MEDIA_SECURE_LINK_SECONDS) bounds how long a URL outlives a licence, and the
player asks the app for a fresh one when nginx refuses (`streaming.renewed_url`).

`signature` is the one definition of the formula nginx is configured with:
base64url(md5(expires + path + " " + secret)) without padding. The secret never leaves this
module in a URL and is never logged; `render_nginx_snippet` writes it into the nginx snippet.
"""

import base64
import hashlib
import re
import string
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.core import checks

from backgroundmusic.core import clock

# The location of deploy/nginx/secure-media.conf; only rendition files lie under it.
PREFIX = "/audio/"
COVERED_FOLDER = "renditions/"
MIN_SECRET_LENGTH = 32
# Characters that need no quoting inside an nginx string and survive a shell's env file.
_SECRET_CHARACTERS = re.compile(r"^[A-Za-z0-9_-]+$")
PLACEHOLDERS = ("MEDIA_ROOT", "MEDIA_SECURE_LINK_SECRET", "MEDIA_SECURE_LINK_SECONDS")


def enabled() -> bool:
    """Secure links are issued: a secret is set and the files are on a disk nginx reads."""
    return bool(settings.MEDIA_SECURE_LINK_SECRET) and not settings.S3_BUCKET


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
    return f"{quote(path)}?e={expires}&s={sign}"


def storage_key_of(path: str) -> str | None:
    """The storage key a secure link's (decoded) path names, or None for any other path."""
    if not path.startswith(PREFIX):
        return None
    key = path.removeprefix(PREFIX)
    return key if covers(key) else None


def render_nginx_snippet(template: str, *, media_root: str, secret: str, seconds: int) -> str:
    """deploy/nginx/secure-media.conf with its placeholders filled, as `envsubst` would with
    the same three variables; nginx's own `$variables` stay as they are."""
    values = {
        "MEDIA_ROOT": media_root.rstrip("/"),
        "MEDIA_SECURE_LINK_SECRET": secret,
        "MEDIA_SECURE_LINK_SECONDS": str(seconds),
    }
    return string.Template(template).safe_substitute(values)


def secure_link_deploy_check(**kwargs: Any) -> list[checks.CheckMessage]:
    """With secure links on, the secret must be strong, nginx-safe, its own, and the files on
    a disk nginx reads (not S3-compatible storage)."""
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
    if settings.S3_BUCKET:
        problems.append(
            checks.Error(
                "Secure links need the media on a disk nginx reads, not S3-compatible storage.",
                hint="Unset MEDIA_SECURE_LINK_SECRET and keep MEDIA_ACCEL_REDIRECT_PREFIX "
                "(deploy/nginx/protected-s3.conf).",
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
