"""Analytics rows for tests, written straight to the analytics database."""

import uuid
from datetime import datetime

from backgroundmusic.analytics.models import Event, EventKind


def visits(
    *,
    at: datetime,
    path: str = "/catalog/",
    visitors: int = 1,
    views_each: int = 1,
    engaged_ms: int = 0,
    pseudonyms: list[str] | None = None,
    device: str = "desktop",
    browser: str = "Firefox",
    referrer_host: str = "",
    key_prefix: str = "k",
) -> list[Event]:
    """`visitors` distinct visitors, each viewing `path` `views_each` times (with `engaged_ms`
    of engagement per view). Identified when `pseudonyms` names them."""
    rows = []
    for number in range(visitors):
        pseudonym = pseudonyms[number] if pseudonyms else ""
        key = pseudonym or f"{key_prefix}{number:063d}"[-64:]
        for _view in range(views_each):
            view_id = uuid.uuid4()
            common = {
                "occurred_at": at,
                "view_id": view_id,
                "visitor_key": key,
                "pseudonym": pseudonym,
                "path": path,
                "browser": browser,
                "device": device,
            }
            rows.append(Event(kind=EventKind.VIEW, referrer_host=referrer_host, **common))
            if engaged_ms:
                rows.append(Event(kind=EventKind.ENGAGE, engaged_ms=engaged_ms, **common))
    return Event.objects.bulk_create(rows)
