"""Delete my account: the erasure engine. Ordered, idempotent steps, each in its own
transaction, then one destruction record (docs/decisions/0005-erasure.md).

Legal holds (privacy.kernel.holds, docs/decisions/0034-legal-holds.md): the data map's steps
leave the rows a hold keeps; a registered eraser is left for later when the person is held or
one of its models holds back a row of theirs, and so are the data key and the user row while
anything of theirs is held (the held rows' sealed values need the key). The job then stops as
HELD with one destruction record of what was done and what was held; when the holds on it
change, the daily retention run queues it again (erasure_resume_held) and the steps left run.
"""

import logging
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.db.models.deletion import Collector
from django.utils.translation import gettext as _

from backgroundmusic.core import clock
from backgroundmusic.core.errors import DomainError
from backgroundmusic.privacy.kernel.holds import HeldRows, holds_observed, unheld
from backgroundmusic.privacy.kernel.ledger import erasure_ledger_append
from backgroundmusic.privacy.kernel.pseudonyms import subject_pseudonym
from backgroundmusic.privacy.kernel.registry import (
    Erasure,
    ErasureSubject,
    ModelDeclaration,
    data_map,
)
from backgroundmusic.privacy.models import DestructionRecord, ErasureJob
from backgroundmusic.privacy.rights.rows import (
    Person,
    categories_of,
    covered_labels,
    declarations_with_subject,
    model_of,
    subject_rows,
)

logger = logging.getLogger(__name__)

# Erasure: registered erasers take any order; the generic data-map steps run at DATA_MAP_ORDER
# (after the steps that still need the person's e-mail and username, before the data key goes),
# and the user row itself last.
DATA_MAP_ORDER = 500
DATA_KEY_ORDER = 800
USER_ROW_ORDER = 900
ERASURE_METHOD = "erasure"
SELF_SERVICE_REASON = "privacy center"
REASON_MAX_LENGTH = 64  # ErasureJob.reason and DestructionRecord.reason


def erasure_pending(*, subject_id: int) -> bool:
    return ErasureJob.objects.filter(subject_id=subject_id).exists()


def erasure_of(*, subject: Person) -> ErasureJob | None:
    return ErasureJob.objects.filter(subject_id=subject.pk).order_by("-requested_at").first()


@transaction.atomic
def erasure_request(*, subject: Person, reason: str = SELF_SERVICE_REASON) -> ErasureJob:
    """Queues the erasure of the person's account and the job that runs it.

    reason: why, as written in the destruction record ("privacy center", "request #12",
    "retention: unverified sign-up"): never personal data, at most 64 characters. Asking again
    returns the job already asked for (queued, running or done).
    """
    from backgroundmusic.privacy import tasks

    if subject is None or getattr(subject, "pk", None) is None:
        raise DomainError(_("There is no account to delete."), code="no_subject")
    reason = reason.strip()
    if not reason or len(reason) > REASON_MAX_LENGTH:
        raise DomainError(_("Give a short reason for the erasure."), code="reason_invalid")
    existing = (
        ErasureJob.objects.select_for_update()
        .filter(subject_id=subject.pk)
        .order_by("-requested_at")
        .first()
    )
    if existing is not None:
        return existing
    job = ErasureJob.objects.create(
        subject_id=subject.pk,
        subject_pseudonym=subject_pseudonym(subject_id=subject.pk),
        reason=reason,
        requested_at=clock.now(),
    )
    tasks.erase_account.enqueue(job_id=job.pk)
    # Once the request is committed: a restore of an older backup erases the person again even
    # if the job had not run yet (erasure_run records it too, for jobs made elsewhere).
    transaction.on_commit(
        partial(erasure_ledger_append, subject_id=subject.pk, erasure_job_id=job.pk)
    )
    return job


def erasure_replay(*, subject_id: int, reason: str) -> ErasureJob:
    """Erases again, in a database restored from a backup, a person the erasure ledger says was
    erased after the backup was taken: a job in the restored database (the one it holds, if the
    backup caught the erasure half-way) run to the end at once. The steps are idempotent, so
    whatever the backup held of the person goes, and whatever was already gone stays gone."""
    job = (
        ErasureJob.objects.filter(subject_id=subject_id)
        .exclude(status=ErasureJob.Status.DONE)
        .order_by("-requested_at")
        .first()
    )
    if job is None:
        job = ErasureJob.objects.create(
            subject_id=subject_id,
            subject_pseudonym=subject_pseudonym(subject_id=subject_id),
            reason=reason,
            requested_at=clock.now(),
        )
    finished = erasure_run(job_id=job.pk)
    assert finished is not None  # the job was just found or made
    return finished


@dataclass(frozen=True)
class ErasureStep:
    name: str
    order: int
    run: Callable[..., Mapping[str, int]]
    # The models a registered eraser names; None for the data map's own steps, which leave held
    # rows themselves.
    models: tuple[str, ...] | None = None


def erasure_steps() -> list[ErasureStep]:
    """Every step of an erasure in the order it runs: the registered erasers by their order,
    one generic step per declared model with a subject path that no eraser covers (at
    DATA_MAP_ORDER, in declaration order), and the user row last."""
    handlers = list(data_map.erasers.values())
    covered = covered_labels(handlers)
    steps = [
        ErasureStep(name=h.name, order=h.order, run=h.run, models=tuple(h.models)) for h in handlers
    ]
    for declaration in declarations_with_subject():
        if declaration.label in covered or not _erasure_changes(declaration):
            continue
        steps.append(
            ErasureStep(
                name=f"data map: {declaration.label}",
                order=USER_ROW_ORDER if declaration.subject == "pk" else DATA_MAP_ORDER,
                run=partial(_erase_declared, declaration),
            )
        )
    return sorted(steps, key=lambda step: step.order)


def _erasure_changes(declaration: ModelDeclaration) -> set[Erasure]:
    return {data.erasure for data in declaration.personal.values()} - {Erasure.KEEP_FOR_LAW}


def erased_value(model: type[models.Model], name: str, erasure: Erasure, pseudonym: str) -> Any:
    """What an erased field holds afterwards: empty (NULL when the column allows it, else "")
    or the pseudonym."""
    model_field = model._meta.get_field(name)
    if erasure == Erasure.PSEUDONYMIZE:
        return pseudonym
    if getattr(model_field, "null", False):
        return None
    if isinstance(model_field, models.CharField | models.TextField):
        return ""
    raise ImproperlyConfigured(
        f"{model._meta.label}.{name}: Erasure.NULL needs a nullable column or a text column"
    )


def delete_rows(rows: models.QuerySet[Any]) -> dict[str, int]:
    """Deletes rows with Django's collector (cascades included) and returns counts per model.

    The collector deletes by primary key without going through QuerySet.delete(), so rows of
    append-only models leave with their subject; only primary keys are loaded, so sealed values
    are never opened.
    """
    rows = rows.only(rows.model._meta.pk.name)
    collector = Collector(using=rows.db, origin=rows)
    collector.collect(rows)  # type: ignore[arg-type]  # a QuerySet is what Django passes too
    _total, counts = collector.delete()
    return {label: count for label, count in counts.items() if count}


def _erase_declared(declaration: ModelDeclaration, *, subject: ErasureSubject) -> dict[str, int]:
    """The data map's own erasure of one model: rows with a DELETE field go; otherwise fields
    marked NULL are emptied and PSEUDONYMIZE fields get the pseudonym; KEEP_FOR_LAW stays."""
    rows = subject_rows(declaration, subject.subject_id)
    strategies = {name: data.erasure for name, data in declaration.personal.items()}
    deleting = Erasure.DELETE in strategies.values()
    rows = unheld(rows, deleting=deleting)
    if deleting:
        return delete_rows(rows)
    model = model_of(declaration)
    changes = {
        name: erased_value(model, name, erasure, subject.pseudonym)
        for name, erasure in strategies.items()
        if erasure in (Erasure.NULL, Erasure.PSEUDONYMIZE)
    }
    changed = rows.update(**changes) if changes else 0
    return {declaration.label: changed} if changed else {}


def _completed(job: ErasureJob) -> set[str]:
    """Steps done; a step that left rows under a legal hold runs again once the hold ends."""
    return {entry["step"] for entry in job.completed_steps if not entry.get("held")}


def erasure_completed_steps(*, job: ErasureJob) -> list[str]:
    """Names of the steps done so far, in the order they finished."""
    return [entry["step"] for entry in job.completed_steps]


def _held_summary(rows: Mapping[str, int], steps: list[str]) -> dict[str, Any]:
    return {"rows": dict(sorted(rows.items())), "steps": steps} if rows or steps else {}


def _step_held_back(
    step: ErasureStep, *, held: HeldRows, subject_id: int, held_here: Mapping[str, int]
) -> bool:
    """Whether a step must wait for the holds: a registered eraser while the person is held or
    one of its models holds back a row of theirs; the data key and the user row while anything
    of theirs is held."""
    if held_here and step.order >= DATA_KEY_ORDER:
        return True
    if step.models is None:
        return False
    return subject_id in held.persons or any(label in held_here for label in step.models)


def erasure_run(*, job_id: int) -> ErasureJob | None:
    """Runs the steps of an erasure job that are not done yet, each in its own transaction with
    its record in completed_steps; then writes the destruction record and marks the job done (or
    held, when a legal hold kept something), in one transaction. Safe to run again at any point:
    done steps are skipped, a done job is left alone, a held job whose holds have not changed
    too, and a step interrupted half-way rolls back and runs again."""
    job = ErasureJob.objects.filter(pk=job_id).first()
    if job is None or job.status == ErasureJob.Status.DONE:
        return job
    subject = ErasureSubject(
        subject_id=job.subject_id, pseudonym=job.subject_pseudonym, reason=job.reason
    )
    erasure_ledger_append(subject_id=job.subject_id, erasure_job_id=job.pk)
    with holds_observed() as held:
        held_here = held.of_subject(job.subject_id)
        if job.status == ErasureJob.Status.HELD and job.held.get("rows", {}) == held_here:
            return job
        left_for_later: list[str] = []
        done = _completed(job)
        for step in erasure_steps():
            if step.name in done:
                continue
            if _step_held_back(step, held=held, subject_id=job.subject_id, held_here=held_here):
                left_for_later.append(step.name)
                continue
            with transaction.atomic():
                locked = ErasureJob.objects.select_for_update().get(pk=job_id)
                if locked.status == ErasureJob.Status.DONE or step.name in _completed(locked):
                    continue
                held.take_tally()
                counts = {label: int(n) for label, n in step.run(subject=subject).items() if n}
                entry: dict[str, Any] = {"step": step.name, "counts": counts}
                step_held = held.take_tally()
                if step_held:
                    entry["held"] = step_held
                    left_for_later.append(step.name)
                locked.completed_steps = [*locked.completed_steps, entry]
                locked.status = ErasureJob.Status.RUNNING
                locked.save(update_fields=["completed_steps", "status"])
    with transaction.atomic():
        locked = ErasureJob.objects.select_for_update().get(pk=job_id)
        if locked.status == ErasureJob.Status.DONE:
            return locked
        totals: Counter[str] = Counter()
        for entry in locked.completed_steps[locked.steps_recorded :]:
            totals.update(entry["counts"])
        now = clock.now()
        summary = _held_summary(held_here, left_for_later)
        DestructionRecord.objects.create(
            subject_pseudonym=locked.subject_pseudonym,
            categories=categories_of(totals),
            counts=dict(sorted(totals.items())),
            held=summary,
            method=ERASURE_METHOD,
            reason=locked.reason,
            at=now,
        )
        locked.status = ErasureJob.Status.HELD if summary else ErasureJob.Status.DONE
        locked.held = summary
        locked.steps_recorded = len(locked.completed_steps)
        locked.finished_at = now
        locked.save(update_fields=["status", "held", "steps_recorded", "finished_at"])
    logger.info("erasure job #%s %s", job_id, locked.status)
    return locked


def erasure_resume_stalled(*, older_than: timedelta = timedelta(hours=1)) -> int:
    """Enqueues again the erasure jobs not done an hour after they were asked for (a worker
    killed mid-way leaves its job behind); running one twice is harmless."""
    from backgroundmusic.privacy import tasks

    stalled = list(
        ErasureJob.objects.exclude(status__in=[ErasureJob.Status.DONE, ErasureJob.Status.HELD])
        .filter(requested_at__lt=clock.now() - older_than)
        .values_list("pk", flat=True)
    )
    for job_id in stalled:
        tasks.erase_account.enqueue(job_id=job_id)
    return len(stalled)


def erasure_resume_held() -> int:
    """Enqueues again the erasure jobs a legal hold stopped whose holds have changed since (ended,
    lifted, or another placed): the job then runs the steps it left. Called by the daily
    retention run."""
    from backgroundmusic.privacy import tasks

    released = 0
    with holds_observed() as held:
        for job in ErasureJob.objects.filter(status=ErasureJob.Status.HELD).order_by("pk"):
            if job.held.get("rows", {}) != held.of_subject(job.subject_id):
                tasks.erase_account.enqueue(job_id=job.pk)
                released += 1
    return released
