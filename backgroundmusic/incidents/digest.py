"""The daily incidents digest: every clock overdue or still running, e-mailed to each staff
member who may manage incidents, in the slot of the requests digest (privacy/requests.py) but as
a letter of its own (decision 0035)."""

from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.mail import send_mail
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from backgroundmusic.core import clock
from backgroundmusic.core.http import site_address
from backgroundmusic.incidents.models import Incident
from backgroundmusic.incidents.selectors import ClockState, IncidentClock, clocks_needing_attention
from backgroundmusic.privacy.calendar import CONTROLLER_TIME_ZONE, controller_today
from backgroundmusic.staffroles.roles import MANAGE_INCIDENTS

DIGEST_MARK_SECONDS = 3 * 24 * 3600
LANGUAGES = {code for code, _name in settings.LANGUAGES}


def incident_managers() -> QuerySet[Any]:
    """Active accounts holding the permission to manage incidents through a role, with an
    e-mail address (superusers only through a role)."""
    return (
        get_user_model()
        .objects.with_perm(  # type: ignore[attr-defined]
            MANAGE_INCIDENTS,
            include_superusers=False,
            backend="django.contrib.auth.backends.ModelBackend",
        )
        .exclude(email="")
        .select_related("profile")
        .order_by("pk")
    )


def _moscow(moment: datetime) -> str:
    return timezone.localtime(moment, CONTROLLER_TIME_ZONE).strftime("%Y-%m-%d %H:%M")


def incident_digest_text(*, entries: list[tuple[Incident, IncidentClock]]) -> tuple[str, str]:
    """(subject, body) in the active language: incident numbers, summaries and clocks."""
    overdue = sum(1 for _incident, ticking in entries if ticking.state == ClockState.OVERDUE)
    subject = _("Incidents: %(overdue)s clocks overdue, %(running)s running") % {
        "overdue": overdue,
        "running": len(entries) - overdue,
    }
    site = site_address()
    lines = [_("Notices still to send, nearest deadline first (Moscow time):"), ""]
    for incident, ticking in entries:
        lines.append(
            _("#%(id)s %(summary)s: %(clock)s, %(state)s, due %(due)s. %(url)s")
            % {
                "id": incident.pk,
                "summary": incident.summary,
                "clock": ticking.label,
                "state": ticking.state_label.upper()
                if ticking.state == ClockState.OVERDUE
                else ticking.state_label.lower(),
                "due": _moscow(ticking.due_at),
                "url": site + reverse("incidents_staff:incident", args=[incident.pk]),
            }
        )
    lines += ["", _("The register: %(url)s") % {"url": site + reverse("incidents_staff:incidents")}]
    return subject, "\n".join(lines) + "\n"


def incident_digest_send() -> int:
    """Sends today's digest to every incident manager not yet sent it today, in the language of
    their profile; returns how many e-mails were sent (0 when no clock is overdue or running)."""
    entries = clocks_needing_attention(now=clock.now())
    if not entries:
        return 0
    day = controller_today().isoformat()
    sent = 0
    for manager in incident_managers():
        mark = f"incidents:clock-digest:{day}:{manager.pk}"
        if cache.get(mark):
            continue
        profile = getattr(manager, "profile", None)
        language = getattr(profile, "language", "")
        with translation.override(language if language in LANGUAGES else settings.LANGUAGE_CODE):
            subject, body = incident_digest_text(entries=entries)
        send_mail(subject, body, None, [manager.email])
        cache.set(mark, 1, DIGEST_MARK_SECONDS)
        sent += 1
    return sent
