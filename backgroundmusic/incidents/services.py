"""Every write of the breach register, for staff who may manage incidents (the privacy officer):
opening an incident, computing who it affects, changing a notice's draft, recording a notice to
an authority as sent, and queuing the letters to the people.

Each takes `actor`, asks staffroles' staff_may_manage_incidents and writes its audit row in its
transaction; a refusal is recorded by refusals_audited."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from backgroundmusic.audit.models import AuditAction
from backgroundmusic.audit.refusals import refusals_audited
from backgroundmusic.audit.services import audit_record
from backgroundmusic.core import clock
from backgroundmusic.core.errors import DomainError
from backgroundmusic.incidents import letters
from backgroundmusic.incidents.drafts import SUBJECT_MAX, notice_draft
from backgroundmusic.incidents.models import Incident, Notice, NoticeKind
from backgroundmusic.incidents.people import affected_people, personal_models
from backgroundmusic.privacy.kernel.registry import Category
from backgroundmusic.staffroles.selectors import Actor, staff_may_manage_incidents, staff_require

TEXT_MAX = 20_000
REFERENCE_MAX = 200
AUTHORITY_KINDS = (NoticeKind.AUTHORITY_RU, NoticeKind.RESULTS_RU, NoticeKind.AUTHORITY_GDPR)


class IncidentError(DomainError):
    """An incident action the rules refuse (its message says why, in the caller's language)."""


@dataclass(frozen=True)
class IncidentFacts:
    summary: str
    description: str
    consequences: str
    measures: str
    detected_at: datetime
    affected_models: list[str] = field(default_factory=list)
    affected_categories: list[str] = field(default_factory=list)
    eu_residents: bool = False
    estimated_people: int | None = None
    occurred_from: datetime | None = None
    occurred_until: datetime | None = None


@dataclass(frozen=True)
class NoticeText:
    subject_en: str
    subject_ru: str
    text_en: str
    text_ru: str


def _one_line(value: str, limit: int, what: str) -> str:
    value = value.strip()
    if not value:
        raise IncidentError(_("%(what)s is empty.") % {"what": what}, code="empty")
    if "\n" in value or "\r" in value:
        raise IncidentError(_("%(what)s is one line.") % {"what": what}, code="not_one_line")
    if len(value) > limit:
        raise IncidentError(
            _("%(what)s has at most %(limit)d characters.") % {"what": what, "limit": limit},
            code="too_long",
        )
    return value


def _text(value: str, what: str) -> str:
    value = value.strip()
    if not value:
        raise IncidentError(_("%(what)s is empty.") % {"what": what}, code="empty")
    if len(value) > TEXT_MAX:
        raise IncidentError(
            _("%(what)s has at most %(limit)d characters.") % {"what": what, "limit": TEXT_MAX},
            code="too_long",
        )
    return value


def _checked_facts(facts: IncidentFacts, now: datetime) -> IncidentFacts:
    if facts.detected_at > now:
        raise IncidentError(
            _("The time of detection cannot be in the future."), code="detected_in_future"
        )
    if facts.occurred_from and facts.occurred_until and facts.occurred_from > facts.occurred_until:
        raise IncidentError(_("The exposure cannot end before it starts."), code="window_reversed")
    if facts.occurred_from and facts.occurred_from > facts.detected_at:
        raise IncidentError(
            _("The exposure cannot start after the incident was detected."),
            code="window_after_detection",
        )
    declared = {declaration.label for declaration in personal_models()}
    unknown_models = sorted(set(facts.affected_models) - declared)
    if unknown_models:
        raise IncidentError(
            _("The data map declares no personal data in %(labels)s.")
            % {"labels": ", ".join(unknown_models)},
            code="unknown_model",
        )
    unknown_categories = sorted(set(facts.affected_categories) - set(Category))
    if unknown_categories:
        raise IncidentError(
            _("Unknown data categories: %(keys)s.") % {"keys": ", ".join(unknown_categories)},
            code="unknown_category",
        )
    if not facts.affected_models and not facts.affected_categories:
        raise IncidentError(
            _("Name the affected data, or at least one category."), code="nothing_affected"
        )
    if facts.estimated_people is not None and facts.estimated_people < 0:
        raise IncidentError(_("The estimate cannot be negative."), code="negative_estimate")
    return IncidentFacts(
        summary=_one_line(facts.summary, 200, _("The summary")),
        description=_text(facts.description, _("What happened")),
        consequences=_text(facts.consequences, _("The likely consequences")),
        measures=_text(facts.measures, _("The measures taken")),
        detected_at=facts.detected_at,
        affected_models=sorted(set(facts.affected_models)),
        affected_categories=sorted(set(facts.affected_categories)),
        eu_residents=facts.eu_residents,
        estimated_people=facts.estimated_people,
        occurred_from=facts.occurred_from,
        occurred_until=facts.occurred_until,
    )


def _compute(incident: Incident, now: datetime) -> None:
    found = affected_people(
        model_labels=incident.affected_models,
        categories=incident.affected_categories,
        occurred_from=incident.occurred_from,
        occurred_until=incident.occurred_until,
    )
    incident.computed_categories = found.categories
    incident.affected_subject_ids = found.subject_ids
    incident.affected_count = len(found.subject_ids)
    incident.unlinked_models = found.unlinked_models
    incident.computed_at = now


@refusals_audited("incidents.incident_open")
@transaction.atomic
def incident_open(*, actor: Actor | None, facts: IncidentFacts) -> Incident:
    """Records a breach: its clocks start at detection; the people and categories it affects are
    computed from the data map, and each notice is drafted in both languages."""
    staff = staff_require(actor=actor, may=staff_may_manage_incidents)
    now = clock.now()
    checked = _checked_facts(facts, now)
    incident = Incident(
        summary=checked.summary,
        description=checked.description,
        consequences=checked.consequences,
        measures=checked.measures,
        detected_at=checked.detected_at,
        occurred_from=checked.occurred_from,
        occurred_until=checked.occurred_until,
        affected_models=checked.affected_models,
        affected_categories=checked.affected_categories,
        eu_residents=checked.eu_residents,
        estimated_people=checked.estimated_people,
        opened_at=now,
    )
    _compute(incident, now)
    incident.save()
    for kind in NoticeKind:
        draft = notice_draft(incident=incident, kind=kind)
        Notice.objects.create(
            incident=incident,
            kind=kind,
            subject_en=draft.subject_en,
            subject_ru=draft.subject_ru,
            text_en=draft.text_en,
            text_ru=draft.text_ru,
            drafted_at=now,
        )
    audit_record(
        actor=staff,
        action=AuditAction.INCIDENT_OPENED,
        target=incident,
        after={
            "detected_at": incident.detected_at.isoformat(),
            "affected_models": incident.affected_models,
            "affected_categories": incident.affected_categories,
            "eu_residents": incident.eu_residents,
            "affected_count": incident.affected_count,
        },
    )
    return incident


@refusals_audited("incidents.incident_people_compute")
@transaction.atomic
def incident_people_compute(*, actor: Actor | None, incident: Incident) -> Incident:
    """Computes the people and categories again (more rows may have been found since); the
    drafts are left as staff made them."""
    staff = staff_require(actor=actor, may=staff_may_manage_incidents)
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    before = incident.affected_count
    _compute(incident, clock.now())
    incident.save(
        update_fields=[
            "computed_categories",
            "affected_subject_ids",
            "affected_count",
            "unlinked_models",
            "computed_at",
        ]
    )
    audit_record(
        actor=staff,
        action=AuditAction.INCIDENT_PEOPLE_COMPUTED,
        target=incident,
        before={"affected_count": before},
        after={"affected_count": incident.affected_count},
    )
    return incident


def _locked_notice(notice: Notice) -> Notice:
    return Notice.objects.select_for_update().select_related("incident").get(pk=notice.pk)


@refusals_audited("incidents.notice_draft_update")
@transaction.atomic
def notice_draft_update(*, actor: Actor | None, notice: Notice, text: NoticeText) -> Notice:
    """Changes a notice's draft, both languages; a notice already sent cannot change. A change
    that changes nothing writes nothing."""
    staff = staff_require(actor=actor, may=staff_may_manage_incidents)
    checked = {
        "subject_en": _one_line(text.subject_en, SUBJECT_MAX, _("The subject in English")),
        "subject_ru": _one_line(text.subject_ru, SUBJECT_MAX, _("The subject in Russian")),
        "text_en": _text(text.text_en, _("The text in English")),
        "text_ru": _text(text.text_ru, _("The text in Russian")),
    }
    notice = _locked_notice(notice)
    if notice.sent_at is not None:
        raise IncidentError(_("This notice was sent; it can no longer change."), code="sent")
    changed = [name for name, value in checked.items() if getattr(notice, name) != value]
    if not changed:
        return notice
    for name in changed:
        setattr(notice, name, checked[name])
    notice.drafted_at = clock.now()
    notice.save(update_fields=[*changed, "drafted_at"])
    audit_record(
        actor=staff,
        action=AuditAction.INCIDENT_NOTICE_DRAFTED,
        target=notice,
        after={"kind": notice.kind, "changed": changed},
    )
    return notice


@refusals_audited("incidents.notice_record_sent")
@transaction.atomic
def notice_record_sent(
    *, actor: Actor | None, notice: Notice, sent_at: datetime, reference: str
) -> Notice:
    """Records that a notice to an authority was sent, when, and the reference it was given (a
    registration number, the portal's receipt): that stops its clock."""
    staff = staff_require(actor=actor, may=staff_may_manage_incidents)
    reference = reference.strip()
    if "\n" in reference or "\r" in reference:
        raise IncidentError(_("The reference is one line."), code="not_one_line")
    if len(reference) > REFERENCE_MAX:
        raise IncidentError(
            _("The reference has at most %(limit)d characters.") % {"limit": REFERENCE_MAX},
            code="too_long",
        )
    notice = _locked_notice(notice)
    incident = notice.incident
    if notice.kind not in AUTHORITY_KINDS:
        raise IncidentError(
            _("The letters to the people are sent from this page, not recorded."),
            code="not_authority",
        )
    if notice.kind == NoticeKind.AUTHORITY_GDPR and not incident.eu_residents:
        raise IncidentError(
            _("No EU resident may be affected: the GDPR notice does not apply."),
            code="not_applicable",
        )
    if notice.sent_at is not None:
        raise IncidentError(_("This notice is already recorded as sent."), code="sent")
    if sent_at > clock.now():
        raise IncidentError(_("The time of sending cannot be in the future."), code="in_future")
    if sent_at < incident.detected_at:
        raise IncidentError(
            _("The notice cannot have been sent before the incident was detected."),
            code="before_detection",
        )
    notice.sent_at = sent_at
    notice.reference = reference
    notice.save(update_fields=["sent_at", "reference"])
    audit_record(
        actor=staff,
        action=AuditAction.INCIDENT_NOTICE_SENT,
        target=notice,
        after={"kind": notice.kind, "sent_at": sent_at.isoformat(), "reference": reference},
    )
    return notice


@refusals_audited("incidents.letters_send")
@transaction.atomic
def letters_send(*, actor: Actor | None, incident: Incident) -> int:
    """Queues the letter to every affected person, in their profile's language, and the jobs that
    send them in batches to their verified primary addresses; the letter's draft is then final.
    Returns how many letters were queued."""
    staff = staff_require(actor=actor, may=staff_may_manage_incidents)
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    notice = Notice.objects.select_for_update().get(incident=incident, kind=NoticeKind.PEOPLE)
    if notice.sent_at is not None:
        raise IncidentError(_("The letters of this incident were already sent."), code="sent")
    if not incident.affected_subject_ids:
        raise IncidentError(
            _("The data map finds nobody affected: there is no one to write to."),
            code="nobody",
        )
    now = clock.now()
    queued = letters.letters_queue(incident=incident, now=now)
    notice.sent_at = now
    notice.save(update_fields=["sent_at"])
    audit_record(
        actor=staff,
        action=AuditAction.INCIDENT_LETTERS_QUEUED,
        target=notice,
        after={"kind": notice.kind, "letters": queued},
    )
    return queued
