"""Retention: what is past its period is destroyed or depersonalized (issue 3, item 9).

A daily job (backgroundmusic/recurring.py → tasks.apply_retention) runs `retention_run`:

1. every registered retention handler (apps register theirs in their privacy.py, each for the
   periods of the data map whose start event it can see) destroys what is due, in its own
   transaction with one DestructionRecord per model or store it touched: counts, categories,
   method, reason, date; no values, no pseudonym. A handler that found nothing writes nothing,
   so a quiet day leaves no rows (docs/decisions/0005-erasure.md);
2. whole accounts due for erasure (registered `erasure_due` handlers: unverified sign-ups,
   closed accounts) are queued for the same erasure as "Delete my account", with the reason
   "retention: <handler name>"; each erasure writes its own destruction record when done;
3. erasure jobs a killed worker left unfinished are queued again.

Running it twice in a row destroys nothing the second time.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import models, transaction

from backgroundmusic.core import clock
from backgroundmusic.privacy import rights
from backgroundmusic.privacy.kernel.registry import Retentions, data_map
from backgroundmusic.privacy.models import (
    DataSubjectRequest,
    DestructionRecord,
    Disclosure,
    ErasureJob,
    PolicyAcceptance,
)

RETENTION_REASON = "retention"


@dataclass
class RetentionReport:
    destroyed: Counter[str] = field(default_factory=Counter)
    erasures: Counter[str] = field(default_factory=Counter)
    resumed: int = 0

    def as_counts(self) -> dict[str, int]:
        """Counts only (the task's return value): destroyed rows per model or store, accounts
        queued for erasure per reason, erasure jobs queued again."""
        return {
            **{f"destroyed {label}": n for label, n in sorted(self.destroyed.items())},
            **{f"erasure queued: {reason}": n for reason, n in sorted(self.erasures.items())},
            "erasure jobs resumed": self.resumed,
        }


def retention_run() -> RetentionReport:
    """One retention run at clock.now(); see the module docstring."""
    now = clock.now()
    report = RetentionReport()
    for handler in sorted(data_map.retention_handlers.values(), key=lambda h: h.order):
        with transaction.atomic():
            counts = {label: int(n) for label, n in handler.run(now=now).items() if n}
            for label, count in sorted(counts.items()):
                DestructionRecord.objects.create(
                    subject_pseudonym="",
                    categories=rights.categories_of([label]),
                    counts={label: count},
                    method=handler.method,
                    reason=f"{RETENTION_REASON}: {handler.name}"[:64],
                    at=now,
                )
        report.destroyed.update(counts)
    user_model = get_user_model()
    for name, handler in data_map.erasure_due.items():
        due = user_model._default_manager.filter(pk__in=list(handler.run(now=now))).exclude(
            pk__in=ErasureJob.objects.values("subject_id")
        )
        for person in due.order_by("pk"):
            rights.erasure_request(subject=person, reason=f"{RETENTION_REASON}: {name}"[:64])
            report.erasures[name] += 1
    report.resumed = rights.erasure_resume_stalled()
    return report


# ---------------------------------------------------------------------------------------------
# The privacy app's own periods (registered in privacy/privacy.py)


def destroy_expired_exports(*, now: datetime) -> dict[str, int]:
    """Export files and rows whose download link has expired (Retentions.EXPORT_FILE)."""
    return rights.exports_destroy(expired_before=now)


def _before(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)


def destroy_request_records(*, now: datetime) -> dict[str, int]:
    """Records kept as proof past their period (Retentions.REQUEST_RECORDS): answered requests
    and finished erasure jobs. The contract evidence of an erased person (their policy
    acceptances, kept under the pseudonym) ends with its own period counted from the erasure,
    when the agreements ended (Retentions.CONTRACT_EVIDENCE); the job is the record of that date,
    so it stays until both periods have passed."""
    counts: Counter[str] = Counter()
    contract_cutoff = _before(now, Retentions.CONTRACT_EVIDENCE.days)
    erased = ErasureJob.objects.filter(
        status=ErasureJob.Status.DONE, finished_at__lt=contract_cutoff
    ).values("subject_pseudonym")
    counts.update(
        rights.delete_rows(
            models.QuerySet(model=PolicyAcceptance).filter(
                user__isnull=True, subject_pseudonym__in=erased
            )
        )
    )
    job_cutoff = min(_before(now, Retentions.REQUEST_RECORDS.days), contract_cutoff)
    counts.update(
        rights.delete_rows(
            ErasureJob.objects.filter(status=ErasureJob.Status.DONE, finished_at__lt=job_cutoff)
        )
    )
    counts.update(
        rights.delete_rows(
            DataSubjectRequest.objects.exclude(status=DataSubjectRequest.Status.OPEN).filter(
                closed_at__lt=_before(now, Retentions.REQUEST_RECORDS.days)
            )
        )
    )
    return dict(counts)


def depersonalize_old_records(*, now: datetime) -> dict[str, int]:
    """Registers kept past their period lose the person (Retentions.REQUEST_RECORDS): old
    disclosures (unless a legal hold still runs) keep the transfer but no longer name anyone,
    and old destruction records drop the pseudonym."""
    cutoff = _before(now, Retentions.REQUEST_RECORDS.days)
    disclosures = (
        models.QuerySet(model=Disclosure)
        .filter(disclosed_on__lt=cutoff.date())
        .filter(
            models.Q(legal_hold_until__isnull=True) | models.Q(legal_hold_until__lte=now.date())
        )
        .filter(models.Q(subject__isnull=False) | ~models.Q(subject_pseudonym=""))
        .update(subject=None, subject_pseudonym="")
    )
    destruction_records = (
        models.QuerySet(model=DestructionRecord)
        .filter(at__lt=cutoff)
        .exclude(subject_pseudonym="")
        .update(subject_pseudonym="")
    )
    counts = {
        "privacy.Disclosure": disclosures,
        "privacy.DestructionRecord": destruction_records,
    }
    return {label: n for label, n in counts.items() if n}
