"""Rate limits per person and per address, counted by django-ratelimit on the shared cache.

settings.RATE_LIMITS names each limited place (a scope) and its rates in django-ratelimit's
syntax, e.g. {"person": "3/h", "address": "10/h"}. A request counts once against the signed-in
person and once against its address, truncated as the service keeps addresses (IPv4 /24,
IPv6 /48: one household or office shares a counter). Each counter has fixed windows of the
rate's period; when either is over its limit the request is refused with 429 and Retry-After,
the seconds until the later of the exceeded windows ends.

The counters need a cache whose add and incr are atomic across processes: Redis when scaled
out, the locked file cache in embedded mode (core/cache.py; decision 0014).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import wraps
from math import ceil
from typing import Any

from django.conf import settings
from django.core import checks
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_ratelimit.core import get_usage

from backgroundmusic.core.request_info import client_ip, truncate_ip

# Caches whose add and incr are atomic for every process that shares them.
ATOMIC_CACHE_BACKENDS = frozenset(
    {
        "backgroundmusic.core.cache.LockedFileBasedCache",
        "django_redis.cache.RedisCache",
        "django.core.cache.backends.redis.RedisCache",
        "django.core.cache.backends.memcached.PyMemcacheCache",
        "django.core.cache.backends.memcached.PyLibMCCache",
        # Atomic within its one process: the tests' cache.
        "django.core.cache.backends.locmem.LocMemCache",
    }
)


@checks.register(checks.Tags.caches)
def check_rate_limit_cache(**kwargs: Any) -> list[checks.CheckMessage]:
    return rate_limit_cache_problems(settings.CACHES["default"]["BACKEND"])


def rate_limit_cache_problems(backend: str) -> list[checks.CheckMessage]:
    if backend in ATOMIC_CACHE_BACKENDS:
        return []
    return [
        checks.Error(
            f"The cache backend {backend} does not count atomically across processes, so the "
            "rate limits would let through more than they allow.",
            hint="Set REDIS_URL, or keep the embedded LockedFileBasedCache.",
            id="core.E001",
        )
    ]


@dataclass(frozen=True)
class Refusal:
    retry_after: int  # seconds


def _person(request: HttpRequest) -> str | None:
    user = getattr(request, "user", None)
    return f"user:{user.pk}" if user is not None and user.is_authenticated else None


def _address(request: HttpRequest) -> str | None:
    # Without an address (a misconfigured proxy) nobody can be told apart; limiting them all as
    # one would refuse everyone, so only the person is counted then.
    return truncate_ip(client_ip(request)) or None


def rate_limit_hit(
    request: HttpRequest, *, scope: str, keys: Mapping[str, str] | None = None
) -> Refusal | None:
    """Counts the request in the scope's counters; a Refusal when one of them is over. keys:
    further counters by kind, e.g. {"email": <keyed digest of a typed address>}, each limited by
    the scope's rate of that kind."""
    rates: dict[str, str] = settings.RATE_LIMITS[scope]
    identities = [("person", _person(request)), ("address", _address(request))]
    identities += [(kind, f"{kind}:{value}") for kind, value in (keys or {}).items()]
    waits = []
    for kind, value in identities:
        rate = rates.get(kind)
        if not rate or value is None:
            continue
        usage = get_usage(
            request,
            group=f"{scope}:{kind}",
            key=lambda _group, _request, value=value: value,
            rate=rate,
            increment=True,
        )
        if usage is not None and usage["should_limit"]:
            # time_left counts to the window's last second, which still belongs to the window.
            waits.append(max(0, usage["time_left"]) + 1)
    return Refusal(retry_after=max(waits)) if waits else None


def refusal_page(request: HttpRequest, refusal: Refusal) -> HttpResponse:
    response = render(
        request,
        "429.html",
        {"retry_after_minutes": ceil(refusal.retry_after / 60)},
        status=429,
    )
    response["Retry-After"] = str(refusal.retry_after)
    return response


def rate_limited(scope: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A view decorator: counts every request that reaches the view and answers the 429 page
    instead of calling it when the scope's limit is reached. Put it below login and method
    checks, so only requests the view would act on count."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def limited(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            refusal = rate_limit_hit(request, scope=scope)
            if refusal is not None:
                return refusal_page(request, refusal)
            return view(request, *args, **kwargs)

        return limited

    return decorator
