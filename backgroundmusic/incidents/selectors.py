"""Reads of the breach register that carry a rule: each incident's clocks and their states, and
the incidents as staff see them (guarded by staff_may_manage_incidents, as the services are)."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import models
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.translation import pgettext_lazy

from backgroundmusic.audit.refusals import refusals_audited
from backgroundmusic.core import clock
from backgroundmusic.incidents.models import Incident, LetterStatus, Notice, NoticeKind
from backgroundmusic.staffroles.selectors import Actor, staff_may_manage_incidents, staff_require

# The clocks start at detection (152-FZ art. 21 part 3.1; GDPR art. 33(1)).
CLOCK_PERIODS = {
    NoticeKind.AUTHORITY_RU: timedelta(hours=24),
    NoticeKind.RESULTS_RU: timedelta(hours=72),
    NoticeKind.AUTHORITY_GDPR: timedelta(hours=72),
}


class ClockState(models.TextChoices):
    RUNNING = "running", pgettext_lazy("incident clock", "Running")
    MET = "met", pgettext_lazy("incident clock", "Met")
    OVERDUE = "overdue", pgettext_lazy("incident clock", "Overdue")
    NOT_APPLICABLE = "not_applicable", pgettext_lazy("incident clock", "Not applicable")


@dataclass(frozen=True)
class IncidentClock:
    kind: NoticeKind
    due_at: datetime
    met_at: datetime | None
    state: ClockState

    @property
    def label(self) -> str:
        return str(self.kind.label)

    @property
    def state_label(self) -> str:
        return str(self.state.label)


def clock_state(*, incident: Incident, notice: Notice, now: datetime) -> IncidentClock:
    """One clock: due at detection plus its period; met when its notice is recorded as sent;
    the GDPR clock does not apply unless EU residents may be affected."""
    kind = NoticeKind(notice.kind)
    due_at = incident.detected_at + CLOCK_PERIODS[kind]
    if kind == NoticeKind.AUTHORITY_GDPR and not incident.eu_residents:
        state = ClockState.NOT_APPLICABLE
    elif notice.sent_at is not None:
        state = ClockState.MET
    elif now > due_at:
        state = ClockState.OVERDUE
    else:
        state = ClockState.RUNNING
    return IncidentClock(kind=kind, due_at=due_at, met_at=notice.sent_at, state=state)


def incident_clocks(*, incident: Incident, now: datetime | None = None) -> list[IncidentClock]:
    """The incident's three clocks in the order of CLOCK_PERIODS (notices prefetched or read)."""
    now = now or clock.now()
    by_kind = {notice.kind: notice for notice in incident.notices.all()}
    return [
        clock_state(incident=incident, notice=by_kind[kind], now=now)
        for kind in CLOCK_PERIODS
        if kind in by_kind
    ]


def _with_notices() -> QuerySet[Incident]:
    return Incident.objects.order_by("-detected_at", "-pk").prefetch_related(
        Prefetch("notices", queryset=Notice.objects.order_by("pk"))
    )


def incidents_with_clocks(
    incidents: Iterable[Incident], now: datetime | None = None
) -> list[tuple[Incident, list[IncidentClock]]]:
    now = now or clock.now()
    return [(incident, incident_clocks(incident=incident, now=now)) for incident in incidents]


@refusals_audited("incidents.incidents_for_staff")
def incidents_for_staff(*, actor: Actor | None) -> QuerySet[Incident]:
    """Every incident, latest detected first, with its notices (two queries)."""
    staff_require(actor=actor, may=staff_may_manage_incidents)
    return _with_notices()


@refusals_audited("incidents.incident_for_staff")
def incident_for_staff(*, actor: Actor | None, incident_id: int) -> Incident | None:
    """One incident with its notices and the counts of its letters by status, or None."""
    staff_require(actor=actor, may=staff_may_manage_incidents)
    return (
        _with_notices()
        .annotate(
            letters_total=Count("letters"),
            **{
                f"letters_{status}": Count("letters", filter=Q(letters__status=status))
                for status in LetterStatus.values
            },
        )
        .filter(pk=incident_id)
        .first()
    )


def clocks_needing_attention(
    *, now: datetime | None = None
) -> list[tuple[Incident, IncidentClock]]:
    """Every clock overdue or still running, of every incident, the nearest due first: what the
    daily digest lists."""
    now = now or clock.now()
    open_notices = Notice.objects.filter(kind__in=list(CLOCK_PERIODS), sent_at__isnull=True).values(
        "incident_id"
    )
    found = [
        (incident, ticking)
        for incident, clocks in incidents_with_clocks(
            _with_notices().filter(pk__in=open_notices), now
        )
        for ticking in clocks
        if ticking.state in (ClockState.OVERDUE, ClockState.RUNNING)
    ]
    return sorted(found, key=lambda pair: (pair[1].due_at, pair[0].pk))
