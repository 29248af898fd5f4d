"""Depersonalized research datasets for a named partner (policy clause 6.1).

Only people who consent to research now (`consent_allows`, which already refuses a restricted
person and a Global Privacy Control opt-out, recorded in the ledger as a research withdrawal),
only their identified analytics events (through AnalyticsIdentity), aggregated into cells of
(month, site section) counting distinct people. A cell covering fewer than MIN_SUBJECTS people
is never released; when no cell qualifies, nothing is released or recorded. Each release is kept
(ResearchExport, with the CSV) and written into the disclosure register, one entry per person
whose data went into a released cell, so each sees it in their privacy center. A release to a
recipient abroad needs a transfer record in force, as any disclosure does
(privacy.transfers.transfer_record_require).
"""

import hashlib
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _

from backgroundmusic.analytics.aggregates import day_bounds
from backgroundmusic.analytics.models import AnalyticsIdentity, Event, EventKind, ResearchExport
from backgroundmusic.audit.refusals import refusals_audited
from backgroundmusic.core import clock
from backgroundmusic.core.csv_export import CsvWriter
from backgroundmusic.core.errors import DomainError
from backgroundmusic.privacy.calendar import controller_today
from backgroundmusic.privacy.consents import consent_allows
from backgroundmusic.privacy.kernel.pseudonyms import subject_pseudonym
from backgroundmusic.privacy.kernel.registry import Category
from backgroundmusic.privacy.models import (
    ConsentPurpose,
    Disclosure,
    LegalBasisForDisclosure,
    Recipient,
)
from backgroundmusic.privacy.transfers import transfer_record_require
from backgroundmusic.staffroles.selectors import Actor, staff_may_export_research, staff_require

MIN_SUBJECTS = 20
MAX_PERIOD_DAYS = 366
CSV_HEADER = ["month", "section", "people", "page_views", "engaged_seconds"]


def research_subjects() -> dict[str, int]:
    """pseudonym → user id, for every pseudonym of a person who consents to research now."""
    links: dict[int, list[str]] = defaultdict(list)
    for pseudonym, user_id in AnalyticsIdentity.objects.values_list("pseudonym", "user_id"):
        links[user_id].append(pseudonym)
    people = get_user_model()._default_manager.filter(pk__in=list(links), is_active=True)
    return {
        pseudonym: person.pk
        for person in people
        if consent_allows(subject=person, purpose=ConsentPurpose.RESEARCH)
        for pseudonym in links[person.pk]
    }


def section_of(path: str) -> str:
    """The site section of a stored path: its first segment ("/catalog/x/?q" → "/catalog/")."""
    first = path.split("?", 1)[0].strip("/").split("/", 1)[0]
    return f"/{first}/" if first else "/"


@dataclass
class Cell:
    people: set[int] = field(default_factory=set)
    page_views: int = 0
    engaged_ms: int = 0


def research_cells(
    *, start: date, end: date, subjects: dict[str, int]
) -> dict[tuple[str, str], Cell]:
    cells: dict[tuple[str, str], Cell] = defaultdict(Cell)
    pseudonyms = list(subjects)
    since, _ignored = day_bounds(start)
    _ignored, until = day_bounds(end)
    for offset in range(0, len(pseudonyms), 500):
        chunk = pseudonyms[offset : offset + 500]
        rows = Event.objects.filter(
            pseudonym__in=chunk, occurred_at__gte=since, occurred_at__lt=until
        ).values_list("pseudonym", "occurred_at", "path", "kind", "engaged_ms")
        for pseudonym, occurred_at, path, kind, engaged_ms in rows.iterator(chunk_size=2000):
            cell = cells[(occurred_at.strftime("%Y-%m"), section_of(path))]
            cell.people.add(subjects[pseudonym])
            if kind == EventKind.VIEW:
                cell.page_views += 1
            cell.engaged_ms += engaged_ms
    return cells


@refusals_audited("analytics.research_export_create")
def research_export_create(
    *, actor: Actor | None, recipient: Recipient, start: date, end: date
) -> ResearchExport:
    staff_id = staff_require(actor=actor, may=staff_may_export_research).pk
    if end < start:
        raise DomainError(_("The period ends before it starts."), code="bad_period")
    if (end - start).days >= MAX_PERIOD_DAYS:
        raise DomainError(
            _("A research period covers at most %(n)d days.") % {"n": MAX_PERIOD_DAYS},
            code="bad_period",
        )
    if not recipient.is_active:
        raise DomainError(_("This recipient is no longer active."), code="recipient_inactive")
    transfer_record_require(
        recipient=recipient, country=recipient.country.code, on=controller_today()
    )
    cells = research_cells(start=start, end=end, subjects=research_subjects())
    released = {
        key: cell for key, cell in sorted(cells.items()) if len(cell.people) >= MIN_SUBJECTS
    }
    if not released:
        raise DomainError(
            _(
                "No cell of this period covers %(n)d or more people who consent to research; "
                "nothing was released."
            )
            % {"n": MIN_SUBJECTS},
            code="too_few_subjects",
        )
    out = io.StringIO()
    writer = CsvWriter(out)
    writer.writerow(CSV_HEADER)
    for (month, section), cell in released.items():
        writer.writerow(
            [month, section, len(cell.people), cell.page_views, round(cell.engaged_ms / 1000)]
        )
    dataset = out.getvalue()
    included = sorted({person for cell in released.values() for person in cell.people})
    now = clock.now()
    with transaction.atomic():
        export = ResearchExport.objects.create(
            recipient=recipient,
            period_start=start,
            period_end=end,
            created_at=now,
            created_by_id=staff_id,
            subjects=len(included),
            cells_released=len(released),
            cells_suppressed=len(cells) - len(released),
            dataset_csv=dataset,
            sha256=hashlib.sha256(dataset.encode()).hexdigest(),
        )
        Disclosure.objects.bulk_create(
            [
                Disclosure(
                    subject_id=person,
                    subject_pseudonym=subject_pseudonym(subject_id=person),
                    recipient=recipient,
                    recipient_name=recipient.name,
                    country=recipient.country,
                    legal_basis=LegalBasisForDisclosure.USER_CONSENT,
                    categories=[Category.BROWSING.value],
                    reference_document=f"Research export #{export.pk}: aggregated statistics, "
                    f"cells of at least {MIN_SUBJECTS} people",
                    disclosed_on=controller_today(),
                    recorded_at=now,
                    recorded_by_id=staff_id,
                )
                for person in included
            ],
            batch_size=500,
        )
    return export


def research_exports() -> list[ResearchExport]:
    return list(ResearchExport.objects.select_related("recipient").order_by("-created_at", "-pk"))
