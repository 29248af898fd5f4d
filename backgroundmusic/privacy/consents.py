"""The consent ledger, restriction of processing, and the one answer to "may we do P for S now".

Every non-essential purpose is a separate opt-in, off by default: a purpose is allowed only when
the latest ConsentRecord for (subject, purpose, recipient) says GIVEN. The ledger is append-only
(core.models.AppendOnlyModel); the services below add records and never change one. Giving what
is already given, or withdrawing what is not given, writes nothing and returns the latest record.

Restriction of processing ("blocking", policy clause 2.1) pauses the purposes in
RESTRICTED_PURPOSES without touching the ledger, so lifting it restores exactly the consents the
person had. It does not unpublish a public profile: the profile is published at the person's own
request, restriction means "process no more than storing it and what I ask for", and the person
can unpublish it separately with one click; hiding it behind their back would surprise them.

Apps react to a consent that stops (withdrawn or suspended) through listeners registered in their
privacy.py with data_map.register_consent_listener(purpose, fn); fn is called with subject_id=.
Starting a restriction stops the purposes it pauses the same way.

Every record carries its evidence (ConsentRecord.evidence, built by consent_evidence): who made
it (the person, their browser's signal, staff, or the service itself, and why), the browser's
family and truncated network for a record made in a request, the exact wording of the choice the
person saw with its language and SHA-256, and the version and hash of the privacy policy in
force. The wording is stored as text, not as a reference: it lives in code and translation
catalogues, which change between releases without an edition, so only the text itself proves
what was shown (docs/decisions/0029-consent-evidence.md).

This module imports no other app of the project; the subject is any user object.
"""

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet, Window
from django.db.models.functions import RowNumber
from django.http import HttpRequest
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import get_language, get_language_info, gettext_lazy
from django.utils.translation import gettext as _

from backgroundmusic.core import clock
from backgroundmusic.core.errors import DomainError
from backgroundmusic.core.request_info import (
    PrivacySignals,
    client_network,
    privacy_signals,
    user_agent_family,
)
from backgroundmusic.privacy import cookies
from backgroundmusic.privacy.editions import current_edition
from backgroundmusic.privacy.kernel.registry import data_map
from backgroundmusic.privacy.models import (
    ConsentAction,
    ConsentMethod,
    ConsentPurpose,
    ConsentRecord,
    DocumentKind,
    PolicyEdition,
    ProcessingRestriction,
    Recipient,
    VisitorCookieChoice,
)

Subject = AbstractBaseUser | AnonymousUser

NO_SIGNALS = PrivacySignals()

# The purposes shown in the privacy center, in order; "sharing" is shown once per recipient.
PURPOSES = (
    ConsentPurpose.NEWSLETTER,
    ConsentPurpose.PROMOTIONAL_SMS,
    ConsentPurpose.ANALYTICS,
    ConsentPurpose.RESEARCH,
    ConsentPurpose.PUBLIC_PROFILE,
    ConsentPurpose.INDEXING,
)
# Paused while processing is restricted (the public profile is not: see the module docstring).
RESTRICTED_PURPOSES = frozenset(
    {
        ConsentPurpose.NEWSLETTER,
        ConsentPurpose.PROMOTIONAL_SMS,
        ConsentPurpose.ANALYTICS,
        ConsentPurpose.RESEARCH,
        ConsentPurpose.SHARING,
    }
)
# A purpose that only makes sense while another is given: giving it needs the other; the other
# stopping stops it too.
REQUIRES = {ConsentPurpose.INDEXING: ConsentPurpose.PUBLIC_PROFILE}
DEPENDENTS = {ConsentPurpose.PUBLIC_PROFILE: (ConsentPurpose.INDEXING,)}

# What the privacy center says of each purpose, next to its label: the wording of the choice,
# quoted in the evidence of a choice made there.
PURPOSE_DESCRIPTIONS = {
    ConsentPurpose.NEWSLETTER: gettext_lazy(
        "News about the catalogue and offers, by e-mail. Every message has a one-click "
        "unsubscribe link. Giving it sends a link to your verified address: the newsletter "
        "starts once you confirm there."
    ),
    ConsentPurpose.PROMOTIONAL_SMS: gettext_lazy(
        "News about the catalogue and offers, by text message to the contact phone in your "
        "profile. Removing the phone from the profile withdraws this consent."
    ),
    ConsentPurpose.ANALYTICS: gettext_lazy(
        "An analytics cookie that tells your visits apart, so we see which pages help. Without "
        "it we only count pages, not people."
    ),
    ConsentPurpose.RESEARCH: gettext_lazy(
        "Statistics from depersonalized data, shared in aggregate with partners for targeting "
        "advertising. Never your name, e-mail or anything that singles you out."
    ),
    ConsentPurpose.PUBLIC_PROFILE: gettext_lazy(
        "A public page at your profile address with the fields you choose."
    ),
    ConsentPurpose.INDEXING: gettext_lazy(
        "Letting search engines list your public profile. Without it the page asks them not to."
    ),
}


class MadeBy(StrEnum):
    """Who made a consent record: evidence["made_by"]."""

    PERSON = "person"
    BROWSER_SIGNAL = "browser_signal"
    STAFF = "staff"
    SERVICE = "service"


# Why the service (or a signal) made a record: evidence["reason"].
REASON_POLICY_CHANGE = "policy_change"
REASON_DEPENDS_ON = "depends_on"
REASON_GPC = "gpc"
REASON_PHONE_REMOVED = "phone_removed"
REASON_STAFF_REQUEST = "staff_request"

_MADE_BY_METHOD = {
    ConsentMethod.GPC: MadeBy.BROWSER_SIGNAL,
    ConsentMethod.DNT: MadeBy.BROWSER_SIGNAL,
    ConsentMethod.STAFF: MadeBy.STAFF,
    ConsentMethod.POLICY_CHANGE: MadeBy.SERVICE,
    ConsentMethod.RESTRICTION: MadeBy.SERVICE,
}


def wording_sha256(wording: str) -> str:
    return hashlib.sha256(wording.encode("utf-8")).hexdigest()


def consent_evidence(
    *,
    request: HttpRequest | None = None,
    wording: str = "",
    made_by: MadeBy | None = None,
    reason: str = "",
    **facts: str,
) -> dict[str, str]:
    """The evidence of one consent choice, before the ledger adds the edition in force.

    From a request: the browser family and the truncated network (never the address). With
    `wording`: the exact text of the choice shown, its language (the active one) and SHA-256.
    `made_by` defaults to what the method says (_append); `reason` and `facts` (strings) say
    how a record the person did not click came about."""
    evidence: dict[str, str] = {}
    if made_by is not None:
        evidence["made_by"] = made_by
    if reason:
        evidence["reason"] = reason
    if request is not None:
        evidence["ip"] = client_network(request)
        evidence["browser"] = user_agent_family(request)
    if wording:
        evidence["wording"] = wording
        evidence["wording_sha256"] = wording_sha256(wording)
        evidence["language"] = get_language() or settings.LANGUAGE_CODE
    evidence.update(facts)
    return evidence


def consent_wording(*, purpose: str, recipient: Recipient | None = None) -> str:
    """The wording of a purpose's choice in the privacy center, in the active language: its label
    and description (for sharing: the recipient and what they do with the data)."""
    checked = ConsentPurpose(purpose)
    if recipient is not None:
        language_ru = (get_language() or "").startswith("ru")
        what = recipient.purpose_ru if language_ru else recipient.purpose_en
        return f"{checked.label}: {recipient.name}. {what}"
    return f"{checked.label}. {PURPOSE_DESCRIPTIONS.get(checked, '')}".strip()


def _purpose(purpose: str, recipient: Recipient | None) -> ConsentPurpose:
    checked = ConsentPurpose(purpose)
    if (checked == ConsentPurpose.SHARING) != (recipient is not None):
        raise ValueError("a recipient goes with the purpose 'sharing' and with no other")
    return checked


def _latest(*, subject_id: int, purpose: str, recipient_id: int | None) -> ConsentRecord | None:
    records = ConsentRecord.objects.filter(subject_id=subject_id, purpose=purpose)
    if recipient_id is None:
        records = records.filter(recipient__isnull=True)
    else:
        records = records.filter(recipient_id=recipient_id)
    return records.order_by("-at", "-pk").first()


def _is_given(record: ConsentRecord | None) -> bool:
    return record is not None and record.action == ConsentAction.GIVEN


def _append(
    *,
    subject_id: int,
    purpose: str,
    recipient_id: int | None,
    action: ConsentAction,
    method: str,
    evidence: Mapping[str, str] | None = None,
) -> ConsentRecord:
    """Appends one record; its evidence gains who made it (from the method, unless the caller
    said) and the version and hash of the privacy policy in force."""
    checked_method = ConsentMethod(method)
    edition = current_edition(kind=DocumentKind.PRIVACY_POLICY)
    edition_hash = edition.content_hash if edition is not None else ""
    full = {
        "made_by": _MADE_BY_METHOD.get(checked_method, MadeBy.PERSON),
        **(evidence or {}),
        "edition_version": edition.version if edition is not None else "",
        "edition_hash": edition_hash,
    }
    return ConsentRecord.objects.create(
        subject_id=subject_id,
        purpose=purpose,
        recipient_id=recipient_id,
        action=action,
        method=checked_method,
        edition_hash=edition_hash,
        at=clock.now(),
        evidence={key: str(value) for key, value in full.items()},
    )


def _notify_stopped(*, purpose: str, subject_id: int) -> None:
    for listener in data_map.consent_listeners_for(purpose):
        listener(subject_id=subject_id)


@transaction.atomic
def consent_give(
    *,
    subject: AbstractBaseUser,
    purpose: str,
    method: str,
    recipient: Recipient | None = None,
    evidence: Mapping[str, str] | None = None,
) -> ConsentRecord:
    """Records that the person gives consent for the purpose (and recipient, for sharing), with
    the evidence of how it was given (consent_evidence; times and hashes of a double opt-in)."""
    checked = _purpose(purpose, recipient)
    if recipient is not None and not (recipient.is_active and recipient.shared_with_consent):
        raise DomainError(
            _("Sharing with %(name)s is not something you can choose.") % {"name": recipient.name},
            code="recipient_not_offered",
        )
    required = REQUIRES.get(checked)
    if required is not None and not _is_given(
        _latest(subject_id=subject.pk, purpose=required, recipient_id=None)
    ):
        raise DomainError(
            _("Publish your public profile before allowing search engines to index it."),
            code="needs_public_profile",
        )
    recipient_id = recipient.pk if recipient is not None else None
    latest = _latest(subject_id=subject.pk, purpose=checked, recipient_id=recipient_id)
    if latest is not None and _is_given(latest):
        return latest
    return _append(
        subject_id=subject.pk,
        purpose=checked,
        recipient_id=recipient_id,
        action=ConsentAction.GIVEN,
        method=method,
        evidence=evidence,
    )


@transaction.atomic
def consent_withdraw(
    *,
    subject: AbstractBaseUser,
    purpose: str,
    method: str,
    recipient: Recipient | None = None,
    evidence: Mapping[str, str] | None = None,
) -> ConsentRecord | None:
    """Records the withdrawal with its evidence, stops what the consent allowed (listeners), and
    withdraws the purposes that depend on this one (made by the service, because of this one).
    Returns the latest record (None if there never was one)."""
    checked = _purpose(purpose, recipient)
    recipient_id = recipient.pk if recipient is not None else None
    latest = _latest(subject_id=subject.pk, purpose=checked, recipient_id=recipient_id)
    if _is_given(latest):
        latest = _append(
            subject_id=subject.pk,
            purpose=checked,
            recipient_id=recipient_id,
            action=ConsentAction.WITHDRAWN,
            method=method,
            evidence=evidence,
        )
    # Listeners are idempotent and run even when nothing was written, so the app's own state
    # (e.g. a profile published before the ledger knew of it) follows the withdrawal.
    _notify_stopped(purpose=checked, subject_id=subject.pk)
    for dependent in DEPENDENTS.get(checked, ()):
        consent_withdraw(
            subject=subject,
            purpose=dependent,
            method=method,
            evidence=consent_evidence(
                made_by=MadeBy.SERVICE, reason=REASON_DEPENDS_ON, depends_on=checked
            ),
        )
    return latest


@transaction.atomic
def consent_record_gpc(
    *, subject: AbstractBaseUser, request: HttpRequest | None = None
) -> ConsentRecord:
    """The browser sent Global Privacy Control: an opt-out of research and ad targeting.

    Written once: nothing is added when the latest research record is already a withdrawal.
    Unlike consent_withdraw, an opt-out is recorded even if consent was never given, as
    evidence of the signal (with the request's browser and network when there is one)."""
    latest = _latest(subject_id=subject.pk, purpose=ConsentPurpose.RESEARCH, recipient_id=None)
    if latest is not None and latest.action == ConsentAction.WITHDRAWN:
        return latest
    return _append(
        subject_id=subject.pk,
        purpose=ConsentPurpose.RESEARCH,
        recipient_id=None,
        action=ConsentAction.WITHDRAWN,
        method=ConsentMethod.GPC,
        evidence=consent_evidence(request=request, reason=REASON_GPC, signal="Sec-GPC: 1"),
    )


@transaction.atomic
def consents_suspend_for_edition(*, edition: PolicyEdition) -> int:
    """A published edition changed the terms of some purposes materially: every consent given
    for them is suspended until the person gives it again. Returns how many were suspended.

    One query finds the latest record of every (subject, purpose, recipient) for those purposes;
    the suspensions are inserted in bulk."""
    purposes = {ConsentPurpose(purpose) for purpose in edition.material_purposes}
    for purpose in list(purposes):
        purposes.update(DEPENDENTS.get(purpose, ()))
    if not purposes:
        return 0
    latest_rows = (
        ConsentRecord.objects.filter(purpose__in=sorted(purposes))
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("subject_id"), F("purpose"), F("recipient_id")],
                order_by=[F("at").desc(), F("pk").desc()],
            )
        )
        .filter(rank=1)
        .values_list("subject_id", "purpose", "recipient_id", "action")
    )
    given = [
        (subject_id, purpose, recipient_id)
        for subject_id, purpose, recipient_id, action in latest_rows
        if action == ConsentAction.GIVEN
    ]
    now = clock.now()
    evidence = consent_evidence(
        made_by=MadeBy.SERVICE,
        reason=REASON_POLICY_CHANGE,
        edition_version=edition.version,
        edition_hash=edition.content_hash,
    )
    ConsentRecord.objects.bulk_create(
        (
            ConsentRecord(
                subject_id=subject_id,
                purpose=purpose,
                recipient_id=recipient_id,
                action=ConsentAction.SUSPENDED,
                method=ConsentMethod.POLICY_CHANGE,
                edition_hash=edition.content_hash,
                at=now,
                evidence=evidence,
            )
            for subject_id, purpose, recipient_id in given
        ),
        batch_size=1000,
    )
    for subject_id, purpose, _recipient_id in given:
        _notify_stopped(purpose=purpose, subject_id=subject_id)
    return len(given)


@transaction.atomic
def restriction_start(*, subject: AbstractBaseUser, method: str) -> ProcessingRestriction:
    """Restricts processing; returns the open restriction (the existing one if already on)."""
    current = restriction_current(subject=subject)
    if current is not None:
        return current
    try:
        with transaction.atomic():
            restriction = ProcessingRestriction.objects.create(
                subject_id=subject.pk,
                started_at=clock.now(),
                started_method=ConsentMethod(method),
            )
    except IntegrityError:  # another request opened it a moment ago
        return ProcessingRestriction.objects.get(subject_id=subject.pk, lifted_at__isnull=True)
    # The paused purposes stop now, as if withdrawn (e.g. queued newsletters are cancelled);
    # lifting the restriction restores the consents, not what was stopped.
    for purpose in sorted(RESTRICTED_PURPOSES):
        _notify_stopped(purpose=purpose, subject_id=subject.pk)
    return restriction


@transaction.atomic
def restriction_lift(*, subject: AbstractBaseUser, method: str) -> ProcessingRestriction | None:
    """Lifts the open restriction; None (and nothing written) when there is none."""
    current = (
        ProcessingRestriction.objects.select_for_update()
        .filter(subject_id=subject.pk, lifted_at__isnull=True)
        .first()
    )
    if current is None:
        return None
    current.lifted_at = clock.now()
    current.lifted_method = ConsentMethod(method)
    current.save(update_fields=["lifted_at", "lifted_method"])
    return current


def restriction_current(*, subject: Subject) -> ProcessingRestriction | None:
    if subject.pk is None:
        return None
    return ProcessingRestriction.objects.filter(
        subject_id=subject.pk, lifted_at__isnull=True
    ).first()


def subject_is_restricted(*, subject: Subject) -> bool:
    if subject.pk is None:
        return False
    return ProcessingRestriction.objects.filter(
        subject_id=subject.pk, lifted_at__isnull=True
    ).exists()


def consent_in_ledger(*, subject_id: int, purpose: str) -> bool:
    """Whether the ledger's latest record of the purpose (no recipient) says GIVEN, whatever
    restriction or browser signals say now: what the person has given, not what may be done."""
    return _is_given(
        _latest(subject_id=subject_id, purpose=_purpose(purpose, None), recipient_id=None)
    )


def consent_allows(
    *,
    subject: Subject,
    purpose: str,
    recipient: Recipient | None = None,
    signals: PrivacySignals = NO_SIGNALS,
) -> bool:
    """THE answer to "may we do this purpose for this person now". Every feature asks here.

    False while processing is restricted (newsletter, text messages, analytics, research,
    sharing), for research when the browser sends Global Privacy Control, for analytics when it
    sends Do Not Track, for a recipient no longer offered; otherwise the latest ledger record
    decides (GIVEN or not)."""
    checked = _purpose(purpose, recipient)
    if subject.pk is None or not subject.is_authenticated:
        return False
    if recipient is not None and not (recipient.is_active and recipient.shared_with_consent):
        return False
    if checked == ConsentPurpose.RESEARCH and signals.gpc:
        return False
    if checked == ConsentPurpose.ANALYTICS and signals.dnt:
        return False
    if checked in RESTRICTED_PURPOSES and subject_is_restricted(subject=subject):
        return False
    return _is_given(
        _latest(
            subject_id=subject.pk,
            purpose=checked,
            recipient_id=recipient.pk if recipient is not None else None,
        )
    )


def subject_ids_allowed(*, purpose: str, subject_ids: Iterable[int] | None = None) -> set[int]:
    """consent_allows for many people at once, for a purpose without a recipient and with no
    browser signals (a job, not a page): the ids among `subject_ids` (everyone when None) whose
    latest record for the purpose says GIVEN and, for the purposes restriction pauses, whose
    processing is not restricted. Mailing asks it to compute a newsletter's audience."""
    checked = _purpose(purpose, None)
    records = ConsentRecord.objects.filter(purpose=checked, recipient__isnull=True)
    restrictions = ProcessingRestriction.objects.filter(lifted_at__isnull=True)
    if subject_ids is not None:
        wanted = sorted(set(subject_ids))
        if not wanted:
            return set()
        records = records.filter(subject_id__in=wanted)
        restrictions = restrictions.filter(subject_id__in=wanted)
    latest = (
        records.annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("subject_id")],
                order_by=[F("at").desc(), F("pk").desc()],
            )
        )
        .filter(rank=1)
        .values_list("subject_id", "action")
    )
    allowed = {subject_id for subject_id, action in latest if action == ConsentAction.GIVEN}
    if checked in RESTRICTED_PURPOSES and allowed:
        allowed -= set(restrictions.values_list("subject_id", flat=True))
    return allowed


def visitor_allows(*, request: HttpRequest, purpose: str) -> bool:
    """consent_allows for the person behind a request, signed in or not.

    Anonymous visitors have no ledger: only analytics can be allowed, by the consent cookie.
    A signed-in person needs their recorded consent, and a refusal stored in this browser's
    consent cookie still holds on this browser."""
    signals = privacy_signals(request)
    checked = ConsentPurpose(purpose)
    choice = cookies.cookie_choice(request)
    if checked == ConsentPurpose.ANALYTICS and choice is not None and not choice.analytics:
        return False
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return consent_allows(subject=user, purpose=checked, signals=signals)
    if checked != ConsentPurpose.ANALYTICS or signals.dnt:
        return False
    return choice is not None and choice.analytics


@transaction.atomic
def visitor_cookie_choice_record(
    *, request: HttpRequest, analytics: bool, method: str, wording: str
) -> VisitorCookieChoice:
    """The proof, on the server, of a cookie choice made without an account: appended under the
    id the browser's valid consent cookie already holds, or under a new random id (no cookie, an
    older cookie without one, or one tampered with, whose id is never trusted). The caller
    stores the returned row's choice_id in the cookie."""
    previous = cookies.cookie_choice(request)
    evidence = consent_evidence(request=request, wording=wording)
    edition = current_edition(kind=DocumentKind.PRIVACY_POLICY)
    return VisitorCookieChoice.objects.create(
        choice_id=(previous.choice_id if previous is not None else "") or cookies.new_choice_id(),
        analytics=analytics,
        method=VisitorCookieChoice.Method(method),
        edition_version=edition.version if edition is not None else "",
        edition_hash=edition.content_hash if edition is not None else "",
        language=evidence["language"],
        wording=wording,
        wording_sha256=evidence["wording_sha256"],
        ip_truncated=evidence["ip"],
        browser_family=evidence["browser"],
        at=clock.now(),
    )


def visitor_has_chosen(*, request: HttpRequest) -> bool:
    """Whether the cookie banner can stay away: a choice in this browser's consent cookie, or,
    for a signed-in person, an analytics choice in their ledger (made in another browser)."""
    if cookies.cookie_choice(request) is not None:
        return True
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    return ConsentRecord.objects.filter(
        subject_id=user.pk, purpose=ConsentPurpose.ANALYTICS, recipient__isnull=True
    ).exists()


@dataclass(frozen=True)
class ConsentState:
    """Where one consent stands: the latest record, or none (never given: off)."""

    purpose: ConsentPurpose
    recipient: Recipient | None
    action: ConsentAction | None
    at: datetime | None
    method: ConsentMethod | None

    @property
    def given(self) -> bool:
        return self.action == ConsentAction.GIVEN

    @property
    def purpose_label(self) -> str:
        return str(self.purpose.label)

    @property
    def action_label(self) -> str:
        return str(self.action.label) if self.action is not None else _("Not given")

    @property
    def method_label(self) -> str:
        return str(self.method.label) if self.method is not None else ""


def consent_state(*, subject: AbstractBaseUser) -> list[ConsentState]:
    """Each purpose, then each recipient offered for sharing (and any the person still shares
    with), with the latest record's action, time and method."""
    latest: dict[tuple[str, int | None], ConsentRecord] = {}
    for record in ConsentRecord.objects.filter(subject_id=subject.pk).order_by("-at", "-pk"):
        latest.setdefault((record.purpose, record.recipient_id), record)
    shared_ids = {
        recipient_id
        for (purpose, recipient_id), record in latest.items()
        if purpose == ConsentPurpose.SHARING and _is_given(record)
    }
    recipients = Recipient.objects.filter(shared_with_consent=True, is_active=True) | (
        Recipient.objects.filter(pk__in=shared_ids)
    )

    def state(purpose: ConsentPurpose, recipient: Recipient | None) -> ConsentState:
        record = latest.get((purpose, recipient.pk if recipient is not None else None))
        return ConsentState(
            purpose=purpose,
            recipient=recipient,
            action=ConsentAction(record.action) if record is not None else None,
            at=record.at if record is not None else None,
            method=ConsentMethod(record.method) if record is not None else None,
        )

    return [state(purpose, None) for purpose in PURPOSES] + [
        state(ConsentPurpose.SHARING, recipient)
        for recipient in recipients.distinct().order_by("name")
    ]


def _when(value: str) -> str:
    parsed = parse_datetime(value) if value else None
    return f"{timezone.localtime(parsed):%Y-%m-%d %H:%M}" if parsed is not None else ""


def _made_by_text(evidence: Mapping[str, str], method: str) -> str:
    made_by = evidence.get("made_by") or _MADE_BY_METHOD.get(
        ConsentMethod(method) if method in ConsentMethod.values else ConsentMethod.FORM,
        MadeBy.PERSON,
    )
    reason = evidence.get("reason", "")
    if made_by == MadeBy.BROWSER_SIGNAL:
        return _("Made by your browser's privacy signal (%(signal)s).") % {
            "signal": evidence.get("signal", "Global Privacy Control")
        }
    if made_by == MadeBy.STAFF:
        if evidence.get("request_id"):
            return _("Made by our staff, answering your request no. %(number)s.") % {
                "number": evidence["request_id"]
            }
        return _("Made by our staff, on your request.")
    if made_by == MadeBy.SERVICE and reason == REASON_POLICY_CHANGE:
        return _(
            "Made by the service: edition %(version)s of the privacy policy changed the terms "
            "of this purpose."
        ) % {"version": evidence.get("edition_version", "")}
    if made_by == MadeBy.SERVICE and reason == REASON_DEPENDS_ON:
        depends_on = evidence.get("depends_on", "")
        label = ConsentPurpose(depends_on).label if depends_on in ConsentPurpose.values else ""
        return _("Made by the service: it depends on “%(purpose)s”, which stopped.") % {
            "purpose": label
        }
    if made_by == MadeBy.SERVICE:
        return _("Made by the service.")
    if reason == REASON_PHONE_REMOVED:
        return _("Made by you, by removing the contact phone from your profile.")
    return _("Made by you.")


def evidence_described(evidence: Mapping[str, str], *, method: str = "") -> list[str]:
    """A record's evidence in words, one sentence a line, for the person (privacy center). A
    record older than the evidence keys says who made it by its `method`."""
    lines = [_made_by_text(evidence, method)]
    if evidence.get("browser") or evidence.get("ip"):
        lines.append(
            _("From %(browser)s, network %(network)s (the address cut to its network).")
            % {
                "browser": evidence.get("browser") or _("an unknown browser"),
                "network": evidence.get("ip") or _("unknown"),
            }
        )
    if evidence.get("confirmed_at"):
        lines.append(
            _("Confirmed by a link e-mailed to you on %(sent)s, opened on %(confirmed)s.")
            % {
                "sent": _when(evidence.get("sent_at", "")) or "—",
                "confirmed": _when(evidence["confirmed_at"]),
            }
        )
    if evidence.get("wording"):
        language = evidence.get("language", "")
        try:
            language_name = str(get_language_info(language)["name_translated"])
        except KeyError:
            language_name = language
        lines.append(
            _("Wording shown (%(language)s): “%(wording)s”")
            % {"language": language_name, "wording": evidence["wording"]}
        )
    if evidence.get("edition_version"):
        lines.append(
            _("Privacy policy in force: edition %(version)s.")
            % {"version": evidence["edition_version"]}
        )
    return lines


def consent_history(*, subject: AbstractBaseUser) -> QuerySet[ConsentRecord]:
    """Every consent record of the person, newest first."""
    return (
        ConsentRecord.objects.filter(subject_id=subject.pk)
        .select_related("recipient")
        .order_by("-at", "-pk")
    )


def sharing_recipients_offered() -> QuerySet[Recipient]:
    return Recipient.objects.filter(shared_with_consent=True, is_active=True).order_by("name")
