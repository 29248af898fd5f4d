"""Analytics in the data map; the person's identified events in their export and erasure.

Events are about a person only through AnalyticsIdentity (pseudonym → account), so the generic,
subject-path driven export and erasure cannot find them: the exporter and eraser below do.
Cookieless events name nobody once their day's salt is gone (48 h), and aggregates name nobody.
"""

from datetime import datetime

from django.db.models import Model

from backgroundmusic.privacy.kernel.registry import (
    Category,
    Clock,
    Erasure,
    ErasureSubject,
    LegalBasis,
    PersonalData,
    Purpose,
    Retentions,
    Source,
    Subjects,
    Use,
    data_map,
    declare,
)

# The research release (analytics/research.py) reads the identified events of people who consent
# to research, found through their pseudonyms, into cells of month and site section.
RESEARCH = (Use(purpose=Purpose.RESEARCH, legal_basis=LegalBasis.CONSENT),)

# The link of a pseudonym to an account: kept while the account is, erased with it.
MAPPING = PersonalData(
    category=Category.COOKIE_ID,
    purpose=Purpose.ANALYTICS,
    legal_basis=LegalBasis.CONSENT,
    retention=Retentions.ACCOUNT,
    erasure=Erasure.DELETE,
    further_uses=RESEARCH,
    source=Source.GENERATED,
)


def _analytics(
    category: Category,
    legal_basis: LegalBasis = LegalBasis.LEGITIMATE_INTEREST,
    further_uses: tuple[Use, ...] = (),
) -> PersonalData:
    """Counting pages without telling visitors apart is a legitimate interest; linking visits
    by the pseudonym needs consent."""
    return PersonalData(
        category=category,
        purpose=Purpose.ANALYTICS,
        legal_basis=legal_basis,
        retention=Retentions.ANALYTICS_EVENTS,
        erasure=Erasure.DELETE,
        further_uses=further_uses,
        source=Source.GENERATED,
    )


declare(
    "analytics.Event",
    subject="",
    subjects=(Subjects.VISITORS, Subjects.USERS),
    personal={
        "pseudonym": _analytics(Category.COOKIE_ID, LegalBasis.CONSENT, RESEARCH),
        "visitor_key": _analytics(Category.UNIQUE_ID),
        "path": _analytics(Category.BROWSING, further_uses=RESEARCH),
        "occurred_at": _analytics(Category.BROWSING, further_uses=RESEARCH),
        "engaged_ms": _analytics(Category.BROWSING, further_uses=RESEARCH),
        "referrer_host": _analytics(Category.BROWSING),
        "browser": _analytics(Category.DEVICE),
        "browser_major": _analytics(Category.DEVICE),
        "device": _analytics(Category.DEVICE),
        "screen": _analytics(Category.DEVICE),
        "country": _analytics(Category.DEVICE),
        "language": _analytics(Category.DEVICE),
    },
    not_personal=["id", "kind", "view_id"],
    clock=Clock(rule="analytics events"),
    note="A person's events are those whose pseudonym an AnalyticsIdentity of theirs names; "
    "cookieless events carry a daily key that cannot be recomputed after 48 hours.",
)
declare(
    "analytics.AnalyticsIdentity",
    subject="user",
    personal={"pseudonym": MAPPING, "linked_at": MAPPING},
    not_personal=["id", "user"],
    clock=Clock(rule="account closed"),
)
declare("analytics.VisitorSalt", subject="", not_personal=["id", "day", "secret", "created_at"])
declare(
    "analytics.DailyPageStat",
    subject="",
    not_personal=["id", "day", "path", "page_views", "visitors", "engaged_ms"],
)
declare(
    "analytics.DailyDimensionStat",
    subject="",
    not_personal=["id", "day", "dimension", "value", "page_views", "visitors"],
)
declare(
    "analytics.ResearchExport",
    subject="",
    not_personal=[
        "id",
        "recipient",
        "period_start",
        "period_end",
        "created_at",
        "created_by_id",
        "subjects",
        "cells_released",
        "cells_suppressed",
        "dataset_csv",
        "sha256",
    ],
    note="Cells of at least 20 people; each person included is told through the disclosure "
    "register.",
)


def _pseudonyms(subject_id: int) -> list[str]:
    from backgroundmusic.analytics.models import AnalyticsIdentity

    return list(
        AnalyticsIdentity.objects.filter(user_id=subject_id).values_list("pseudonym", flat=True)
    )


def export_events(*, subject_id: int) -> dict[str, list[Model]]:
    from backgroundmusic.analytics.models import Event

    pseudonyms = _pseudonyms(subject_id)
    if not pseudonyms:
        return {}
    return {
        "analytics.Event": list(
            Event.objects.filter(pseudonym__in=pseudonyms).order_by("occurred_at", "pk")
        )
    }


def erase_events(*, subject: ErasureSubject) -> dict[str, int]:
    """The person's identified events (analytics database), then the mapping to them."""
    from backgroundmusic.analytics.buffer import event_buffer
    from backgroundmusic.analytics.models import AnalyticsIdentity, Event

    event_buffer.flush()
    pseudonyms = _pseudonyms(subject.subject_id)
    destroyed: dict[str, int] = {}
    if pseudonyms:
        events, _ = Event.objects.filter(pseudonym__in=pseudonyms).delete()
        if events:
            destroyed["analytics.Event"] = events
    links, _ = AnalyticsIdentity.objects.filter(user_id=subject.subject_id).delete()
    if links:
        destroyed["analytics.AnalyticsIdentity"] = links
    return destroyed


data_map.register_exporter(
    "analytics: identified events", export_events, models=["analytics.Event"]
)
data_map.register_eraser(
    "analytics: identified events and mapping",
    erase_events,
    order=65,
    models=["analytics.Event", "analytics.AnalyticsIdentity"],
)


def destroy_expired_events(*, now: datetime) -> dict[str, int]:
    """Raw events past Retentions.ANALYTICS_EVENTS, their days aggregated first."""
    from backgroundmusic.analytics import aggregates

    return aggregates.destroy_expired_events(now=now)


data_map.register_retention("analytics events", destroy_expired_events, models=["analytics.Event"])
