"""Retention: what is past its period is destroyed or depersonalized (issue 3, item 9).

A daily job (backgroundmusic/recurring.py → tasks.apply_retention) runs `retention_run`, driven
by the data map: each declared model names the clock of its period (registry.Clock).

1. The generic step: for every row-shaped period (a model whose clock is one of its own
   timestamp fields) the rows older than the period are deleted, or, when the fields' erasure
   strategy is Erasure.NULL, their personal fields are emptied and the row stays;
2. every registered retention handler (a period that is not row-shaped: files, chained or
   depersonalized registers, sessions; the model's clock names the handler) destroys what is due.
   Each model's step runs in its own transaction with one DestructionRecord per model or store it
   touched: counts, categories, method, reason, date; no values, no pseudonym. A step that found
   nothing writes nothing, so a quiet day leaves no rows (docs/decisions/0005-erasure.md);
3. whole accounts due for erasure (registered `erasure_due` handlers: unverified sign-ups,
   closed accounts) are queued for the same erasure as "Delete my account", with the reason
   "retention: <handler name>"; each erasure writes its own destruction record when done;
4. erasure jobs a killed worker left unfinished are queued again, and so are those a legal hold
   stopped once the holds on them changed (ended or lifted).

Legal holds (privacy.kernel.holds): the run reads the holds in force once; the generic step and
the handlers that take their rows through `unheld` leave what a hold keeps, and the report and
the destruction record of each store say how many due rows were left as held (a record with no
counts when a hold left everything due).

Running it twice in a row destroys nothing the second time.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models, transaction

from backgroundmusic.core import clock
from backgroundmusic.core.sms import sms_file_messages, sms_file_written_at
from backgroundmusic.privacy.kernel.holds import (
    HeldRows,
    held_left,
    held_persons,
    holds_observed,
    unheld,
)
from backgroundmusic.privacy.kernel.registry import (
    Category,
    Erasure,
    ModelDeclaration,
    Retention,
    Retentions,
    data_map,
)
from backgroundmusic.privacy.models import (
    DataSubjectRequest,
    DestructionRecord,
    Disclosure,
    ErasureJob,
    LegalHold,
    PolicyAcceptance,
)
from backgroundmusic.privacy.rights.erasure import (
    delete_rows,
    erasure_request,
    erasure_resume_held,
    erasure_resume_stalled,
)
from backgroundmusic.privacy.rights.export import exports_destroy
from backgroundmusic.privacy.rights.handlers import sms_is_about
from backgroundmusic.privacy.rights.rows import categories_of, subject_values

RETENTION_REASON = "retention"


@dataclass
class RetentionReport:
    destroyed: Counter[str] = field(default_factory=Counter)
    erasures: Counter[str] = field(default_factory=Counter)
    # Rows past their period left because a legal hold keeps them, per model.
    held: Counter[str] = field(default_factory=Counter)
    resumed: int = 0
    released: int = 0

    def as_counts(self) -> dict[str, int]:
        """Counts only (the task's return value): destroyed rows per model or store, rows left
        under a legal hold, accounts queued for erasure per reason, erasure jobs queued again
        (stalled, and, when there are any, those released by a legal hold)."""
        return {
            **{f"destroyed {label}": n for label, n in sorted(self.destroyed.items())},
            **{f"held {label}": n for label, n in sorted(self.held.items())},
            **{f"erasure queued: {reason}": n for reason, n in sorted(self.erasures.items())},
            "erasure jobs resumed": self.resumed,
            **({"erasure jobs released from a legal hold": self.released} if self.released else {}),
        }


def destruction_records_write(
    *,
    counts: dict[str, int],
    method: str,
    reason: str,
    at: datetime,
    held: dict[str, int] | None = None,
) -> dict[str, int]:
    """One DestructionRecord per model or store with rows destroyed or left under a legal hold
    (none when both are zero); returns the non-zero destroyed counts. Call it in the
    transaction that destroyed them."""
    counts = {label: int(n) for label, n in counts.items() if n}
    held = {label: int(n) for label, n in (held or {}).items() if n}
    for label in sorted(set(counts) | set(held)):
        DestructionRecord.objects.create(
            subject_pseudonym="",
            categories=categories_of([label]),
            counts={label: counts[label]} if label in counts else {},
            held={label: held[label]} if label in held else {},
            method=method,
            reason=f"{RETENTION_REASON}: {reason}"[:64],
            at=at,
        )
    return counts


def _empties(declaration: ModelDeclaration) -> bool:
    return all(data.erasure == Erasure.NULL for data in declaration.personal.values())


def row_retention_apply(
    *, declaration: ModelDeclaration, retention: Retention, clock_field: str, now: datetime
) -> dict[str, int]:
    """The generic step for one row-shaped period: rows whose clock field is older than the
    period lose their personal fields (Erasure.NULL, the row stays) or are deleted (every other
    strategy: what erasure keeps for the law still ends with its period). A plain QuerySet, so
    append-only models let their expired rows go through this step only."""
    model = apps.get_model(declaration.label)
    expired: models.QuerySet[models.Model] = models.QuerySet(model=model).filter(
        **{f"{clock_field}__lt": now - timedelta(days=retention.days)}
    )
    expired = unheld(expired, deleting=not _empties(declaration))
    if _empties(declaration):
        emptied = {
            model._meta.get_field(name).attname: None for name in sorted(declaration.personal)
        }
        still_set = models.Q()
        for attname in emptied:
            still_set |= models.Q(**{f"{attname}__isnull": False})
        return {declaration.label: expired.filter(still_set).update(**emptied)}
    _deleted, by_model = expired.delete()
    return dict(by_model)


def retention_run() -> RetentionReport:
    """One retention run at clock.now(); see the module docstring."""
    now = clock.now()
    report = RetentionReport()
    with holds_observed() as held:
        for declaration, retention, clock_field in data_map.row_retentions():
            with transaction.atomic():
                counts = row_retention_apply(
                    declaration=declaration, retention=retention, clock_field=clock_field, now=now
                )
                report.destroyed.update(
                    destruction_records_write(
                        counts=counts,
                        method="empty" if _empties(declaration) else "delete",
                        reason=declaration.label,
                        at=now,
                        held=_held_tally(report, held),
                    )
                )
        for handler in sorted(data_map.retention_handlers.values(), key=lambda h: h.order):
            with transaction.atomic():
                counts = handler.run(now=now)
                report.destroyed.update(
                    destruction_records_write(
                        counts=counts,
                        method=handler.method,
                        reason=handler.name,
                        at=now,
                        held=_held_tally(report, held),
                    )
                )
    user_model = get_user_model()
    for name, handler in data_map.erasure_due.items():
        due = user_model._default_manager.filter(pk__in=list(handler.run(now=now))).exclude(
            pk__in=ErasureJob.objects.values("subject_id")
        )
        for person in due.order_by("pk"):
            erasure_request(subject=person, reason=f"{RETENTION_REASON}: {name}"[:64])
            report.erasures[name] += 1
    report.resumed = erasure_resume_stalled()
    report.released = erasure_resume_held()
    return report


def _held_tally(report: RetentionReport, held: HeldRows) -> dict[str, int]:
    tally = held.take_tally()
    report.held.update(tally)
    return tally


# The privacy app's own periods (registered in privacy/privacy.py)


def destroy_expired_exports(*, now: datetime) -> dict[str, int]:
    """Export files and rows whose download link has expired (Retentions.EXPORT_FILE)."""
    return exports_destroy(expired_before=now)


def destroy_old_text_messages(*, now: datetime) -> dict[str, int]:
    """Copies of text messages in var/sms/ past their period (Retentions.TEXT_MESSAGE_COPIES),
    by the time in each file's name; those to or about a held person's contact phone stay and
    are reported as held."""
    cutoff = _before(now, Retentions.TEXT_MESSAGE_COPIES.days)
    held_phones = {
        phone
        for person in sorted(held_persons())
        for phone in subject_values(subject_id=person, category=Category.CONTACT_PHONE)
    }
    removed = held = 0
    for path, message in sms_file_messages():
        written_at = sms_file_written_at(path)
        if written_at is None or written_at >= cutoff:
            continue
        if sms_is_about(message, held_phones):
            held += 1
            continue
        path.unlink(missing_ok=True)
        removed += 1
    held_left("sms outbox", held)
    return {"sms outbox": removed} if removed else {}


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
        delete_rows(
            unheld(
                models.QuerySet(model=PolicyAcceptance).filter(
                    user__isnull=True, subject_pseudonym__in=erased
                )
            )
        )
    )
    job_cutoff = min(_before(now, Retentions.REQUEST_RECORDS.days), contract_cutoff)
    counts.update(
        delete_rows(
            unheld(
                ErasureJob.objects.filter(status=ErasureJob.Status.DONE, finished_at__lt=job_cutoff)
            )
        )
    )
    counts.update(
        delete_rows(
            unheld(
                DataSubjectRequest.objects.exclude(status=DataSubjectRequest.Status.OPEN).filter(
                    closed_at__lt=_before(now, Retentions.REQUEST_RECORDS.days)
                )
            )
        )
    )
    return dict(counts)


def depersonalize_old_records(*, now: datetime) -> dict[str, int]:
    """Registers kept past their period lose the person (Retentions.REQUEST_RECORDS): old
    disclosures (unless a legal hold still runs) keep the transfer but no longer name anyone,
    and old destruction records drop the pseudonym."""
    cutoff = _before(now, Retentions.REQUEST_RECORDS.days)
    disclosures = unheld(
        models.QuerySet(model=Disclosure)
        .filter(disclosed_on__lt=cutoff.date())
        .filter(
            models.Q(legal_hold_until__isnull=True) | models.Q(legal_hold_until__lte=now.date())
        )
        .filter(models.Q(subject__isnull=False) | ~models.Q(subject_pseudonym="")),
        deleting=False,
    ).update(subject=None, subject_pseudonym="")
    destruction_records = unheld(
        models.QuerySet(model=DestructionRecord)
        .filter(at__lt=cutoff)
        .exclude(subject_pseudonym=""),
        deleting=False,
    ).update(subject_pseudonym="")
    counts = {
        "privacy.Disclosure": disclosures,
        "privacy.DestructionRecord": destruction_records,
    }
    return {label: n for label, n in counts.items() if n}


def destroy_ended_holds(*, now: datetime) -> dict[str, int]:
    """The records of legal holds 3 years after they ended or were lifted
    (Retentions.REQUEST_RECORDS): the proof of why data stayed lasts as long as the records of
    the requests it answered. A hold in force on such a record keeps it."""
    cutoff = _before(now, Retentions.REQUEST_RECORDS.days)
    return delete_rows(
        unheld(
            LegalHold.objects.filter(
                models.Q(ends_on__lt=cutoff.date()) | models.Q(lifted_at__lt=cutoff)
            )
        )
    )
