"""The cookieless visitor key: HMAC-SHA256 of (the day's random salt, truncated IP, browser).

One salt per UTC day, made on first use and never for a past day; `salts_purge` deletes salts
older than 48 hours, after which nobody (us included) can tell whether two old events came
from the same address and browser, nor recompute a key from an address.
"""

import hashlib
import hmac
import secrets
import threading
from datetime import date, timedelta

from django.db import IntegrityError, transaction

from backgroundmusic.analytics.models import VisitorSalt
from backgroundmusic.core import clock

SALT_LIFETIME = timedelta(hours=48)

_cache = threading.local()


def _today() -> date:
    return clock.now().date()


def salt_for_today() -> bytes:
    """Today's salt (UTC), made if needed; remembered in this thread for the day."""
    today = _today()
    cached = getattr(_cache, "salt", None)
    if cached is not None and cached[0] == today:
        return bytes(cached[1])
    secret = _load(today)
    if secret is None:
        try:
            with transaction.atomic(using=VisitorSalt.objects.db):
                VisitorSalt.objects.create(
                    day=today, secret=secrets.token_bytes(32), created_at=clock.now()
                )
        except IntegrityError:
            pass  # another process made it a moment ago
        secret = _load(today)
    assert secret is not None
    _cache.salt = (today, secret)
    return secret


def _load(day: date) -> bytes | None:
    row = VisitorSalt.objects.filter(day=day).values_list("secret", flat=True).first()
    return bytes(row) if row is not None else None


def forget_cached_salt() -> None:
    _cache.salt = None


def visitor_key(*, salt: bytes, truncated_ip: str, browser: str) -> str:
    message = f"{truncated_ip}\x1f{browser}".encode()
    return hmac.new(salt, message, hashlib.sha256).hexdigest()


def visitor_key_for_day(*, day: date, truncated_ip: str, browser: str) -> str | None:
    """The key a visitor had on `day`, or None once that day's salt is gone."""
    secret = _load(day)
    if secret is None:
        return None
    return visitor_key(salt=secret, truncated_ip=truncated_ip, browser=browser)


def salts_purge() -> int:
    """Deletes the salts made more than 48 hours ago; returns how many."""
    deleted, _ = VisitorSalt.objects.filter(created_at__lt=clock.now() - SALT_LIFETIME).delete()
    forget_cached_salt()
    return deleted
