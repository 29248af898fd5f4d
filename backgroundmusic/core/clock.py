"""The one source of "now", so time-dependent rules can be tested with a frozen clock."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

# The controller works in Moscow time: deadlines count Moscow dates, and staff pages show times
# in this zone, saying so (core/templatetags/times.py).
CONTROLLER_TIME_ZONE = ZoneInfo("Europe/Moscow")

_frozen: datetime | None = None


def now() -> datetime:
    return _frozen if _frozen is not None else timezone.now()


@contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    global _frozen
    previous, _frozen = _frozen, moment
    try:
        yield
    finally:
        _frozen = previous
