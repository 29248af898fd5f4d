"""Legal holds, read: which rows retention and erasure must leave alone now.

A hold in force (not lifted, its end date not reached, Moscow time) keeps its target row, or,
on a person, every row the data map links to them through a subject path. Those rows are
*held*: neither deleted nor changed. Rows whose deletion would reach a held row (a parent whose
delete cascades to it or empties its link) are *kept*: they may be emptied, never deleted.

Retention and erasure take the rows they are about to destroy through `unheld` (deletions) or
`unheld(..., deleting=False)` (updates), inside `holds_observed()`, which reads the holds once
and tallies what each call left, per model, for the run's report and destruction records. Any
app's retention handler may call it (the kernel is below every app); outside a run it reads the
holds itself and tallies nothing.

Stores that are not rows of a declared model (session store entries, the access log's chain,
analytics events, files) ask `held_persons()` whom to keep and report what they left with
`held_left(label, n)`.

Placing and lifting holds is the privacy center's (privacy/holds.py): it needs the staff roles
and the audit trail, which sit above the kernel.
"""

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from django.apps import apps
from django.db import models

from backgroundmusic.core import clock
from backgroundmusic.privacy.kernel.models import LegalHold
from backgroundmusic.privacy.kernel.registry import data_map

# The controller's time zone (privacy/calendar.py, which the kernel may not import): a hold ends
# at the start of its date there, as a disclosure's hold does.
HOLD_TIME_ZONE = ZoneInfo("Europe/Moscow")

# What deleting a parent does to a child row that leaves it as it was.
_HARMLESS_ON_DELETE = {models.PROTECT, models.RESTRICT, models.DO_NOTHING}


def hold_today() -> date:
    return clock.now().astimezone(HOLD_TIME_ZONE).date()


def holds_in_force(*, on: date | None = None) -> models.QuerySet[LegalHold]:
    """Holds not lifted whose end date is after `on` (today in Moscow by default)."""
    day = on or hold_today()
    return LegalHold.objects.filter(lifted_at__isnull=True, ends_on__gt=day)


def person_rows(label: str, subject_id: int) -> models.QuerySet[Any]:
    """The person's rows of a declared model through its subject path (a plain QuerySet, so
    append-only models answer too); none for a model without one."""
    declaration = data_map.models[label]
    model = apps.get_model(label)
    if not declaration.subject:
        return models.QuerySet(model=model).none()
    lookup = "pk" if declaration.subject == "pk" else declaration.subject
    return models.QuerySet(model=model).filter(**{lookup: subject_id})


@dataclass
class HeldRows:
    """The rows holds in force keep, read once: primary keys (as text) per model label."""

    persons: set[int] = field(default_factory=set)
    held: dict[str, set[str]] = field(default_factory=dict)
    kept: dict[str, set[str]] = field(default_factory=dict)
    # Rows a call of `unheld` left, per model label, since the tally was last taken.
    skipped: Counter[str] = field(default_factory=Counter)

    def excluded(self, label: str, *, deleting: bool) -> set[str]:
        found = set(self.held.get(label, ()))
        if deleting:
            found |= self.kept.get(label, set())
        return found

    def take_tally(self) -> dict[str, int]:
        taken = {label: n for label, n in sorted(self.skipped.items()) if n}
        self.skipped.clear()
        return taken

    def of_subject(self, subject_id: int) -> dict[str, int]:
        """How many of the person's rows each declared model holds back (held or kept)."""
        found: dict[str, int] = {}
        for label in sorted(set(self.held) | set(self.kept)):
            if label not in data_map.models:
                continue
            pks = self.held.get(label, set()) | self.kept.get(label, set())
            count = person_rows(label, subject_id).filter(pk__in=pks).count()
            if count:
                found[label] = count
        return found


def held_rows_read(*, on: date | None = None) -> HeldRows:
    """Every row a hold in force keeps (see the module docstring); a few queries per hold."""
    snapshot = HeldRows()
    for hold in holds_in_force(on=on).only("target_label", "target_id", "subject_id"):
        if hold.subject_id is not None:
            snapshot.persons.add(hold.subject_id)
        else:
            snapshot.held.setdefault(hold.target_label, set()).add(hold.target_id)
    for subject_id in sorted(snapshot.persons):
        for label, declaration in data_map.models.items():
            if not declaration.subject:
                continue
            pks = {str(pk) for pk in person_rows(label, subject_id).values_list("pk", flat=True)}
            if pks:
                snapshot.held.setdefault(label, set()).update(pks)
    _keep_parents(snapshot)
    return snapshot


def _keep_parents(snapshot: HeldRows) -> None:
    """Marks as kept every row whose deletion would delete or change a held or kept row."""
    pending = [(label, set(pks)) for label, pks in snapshot.held.items()]
    while pending:
        label, pks = pending.pop()
        model = apps.get_model(label)
        for model_field in model._meta.concrete_fields:
            remote = getattr(model_field, "remote_field", None)
            if not model_field.many_to_one and not model_field.one_to_one:
                continue
            if remote is None or remote.on_delete in _HARMLESS_ON_DELETE:
                continue
            parent = model_field.related_model
            values = {
                value
                for value in models.QuerySet(model=model)
                .filter(pk__in=pks)
                .values_list(model_field.attname, flat=True)
                if value is not None
            }
            target = model_field.target_field  # type: ignore[attr-defined]
            if not target.primary_key:
                values = set(
                    models.QuerySet(model=parent)
                    .filter(**{f"{target.attname}__in": values})
                    .values_list("pk", flat=True)
                )
            parent_label = parent._meta.label  # type: ignore[union-attr]
            new = {str(v) for v in values} - snapshot.kept.get(parent_label, set())
            if new:
                snapshot.kept.setdefault(parent_label, set()).update(new)
                pending.append((parent_label, new))


_observed: ContextVar[HeldRows | None] = ContextVar("legal_holds_observed", default=None)


@contextmanager
def holds_observed(*, on: date | None = None) -> Iterator[HeldRows]:
    """Reads the holds in force once for a retention or erasure run; `unheld` calls inside use
    them and add what they leave to its tally."""
    snapshot = held_rows_read(on=on)
    token = _observed.set(snapshot)
    try:
        yield snapshot
    finally:
        _observed.reset(token)


def unheld(rows: models.QuerySet[Any], *, deleting: bool = True) -> models.QuerySet[Any]:
    """`rows` without those a hold keeps: held rows, and for a deletion also the rows whose
    deletion would reach one. Counts what it left in the observing run's tally (one query, only
    when the model has rows held back)."""
    snapshot = _observed.get() or held_rows_read()
    excluded = snapshot.excluded(rows.model._meta.label, deleting=deleting)
    if not excluded:
        return rows
    left = rows.filter(pk__in=excluded).count()
    if left:
        snapshot.skipped[rows.model._meta.label] += left
    return rows.exclude(pk__in=excluded)


def held_persons() -> set[int]:
    """The ids of the persons a hold in force is on: the observing run's, else read now."""
    snapshot = _observed.get()
    if snapshot is not None:
        return set(snapshot.persons)
    return {
        subject_id
        for subject_id in holds_in_force().values_list("subject_id", flat=True).distinct()
        if subject_id is not None
    }


def held_record_ids(label: str) -> set[str]:
    """The primary keys (as text) of the `label` rows a hold keeps from any change (for a model
    without a subject path, those a hold names): the observing run's, else read now."""
    snapshot = _observed.get() or held_rows_read()
    return set(snapshot.held.get(label, set()))


def held_left(label: str, n: int) -> None:
    """Adds to the observing run's tally `n` items of `label` left because a hold keeps them
    (a handler whose store `unheld` cannot filter); nothing outside a run."""
    snapshot = _observed.get()
    if snapshot is not None and n:
        snapshot.skipped[label] += n
