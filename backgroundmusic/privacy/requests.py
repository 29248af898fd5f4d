"""Data-subject requests that reach staff by e-mail or letter: logging, deadlines, identity,
actions and closing.

Two deadlines run from the day of receipt (the Moscow date, see calendar.CONTROLLER_TIME_ZONE),
which is never in the future nor before the day the service started (`service_started_on`, the
operator's configured detail):
- 152-FZ (art. 14, 20, 21): 10 working days of the Russian production calendar, extendable once
  by up to 5 working days with a reason, and only before the 10 days have run out;
- GDPR (art. 12(3)): one month, extendable once by up to two more months with a reason, told
  within the first month.
Each extension queues, in its transaction, a notice to the requester with the reason and the new
dates (ExtensionNotice, sent by the job send_extension_notice to the linked account's verified
address, else the address the request came from, in the requester's language).
A request is due soon when a deadline is at most two working days away, and overdue the day after
a deadline. Closing a request after either deadline needs an explanation of the delay: it is kept
in the outcome, after the answer, behind LATE_ANSWER_MARKER.

Actions on a request run the very services of the self-service paths (consents, rights), and only
once the requester's identity is verified and the request is linked to an account.

Every service here acts for a staff member, `actor`, and refuses (core.errors.ActionRefused,
recorded as `service.denied`) anyone staffroles.selectors.staff_may_handle_requests does not
allow, whoever calls it: a page, the API or a command. The system never acts on or closes a
request. It has three paths of its own, audited with actor None and taking no actor at all:
- request_log_received: the inbox (backgroundmusic/inbox/) logs a request that arrived as a
  letter to the privacy address, as staff would log it with request_log;
- request_confirm_by_link: the sender of such a letter followed the link we sent to an account's
  verified address, which links the request to that account and verifies the identity
  (reason CONFIRMED_BY_LINK_REASON);
- request_log_by_form: someone filed the public request form and typed the one-time code sent
  to their address (privacy/requests_public.py); an account whose verified primary address it
  is gets linked with the identity verified (reason CODE_VERIFIED_REASON).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import checks
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.mail import EmailMultiAlternatives, send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Case, F, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce, Least, Lower
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from backgroundmusic.accounts.selectors import (
    account_with_verified_primary_address,
    message_address,
    verified_addresses_lowercase,
)
from backgroundmusic.audit.models import AuditAction
from backgroundmusic.audit.refusals import refusals_audited
from backgroundmusic.audit.services import audit_record
from backgroundmusic.core import clock
from backgroundmusic.core.errors import DomainError
from backgroundmusic.core.mail import job_message_id
from backgroundmusic.core.operator import operator_details
from backgroundmusic.privacy import consents
from backgroundmusic.privacy.calendar import (
    add_months,
    add_one_month,
    add_working_days,
    controller_date,
    controller_today,
    working_days_between,
)
from backgroundmusic.privacy.models import (
    ConsentMethod,
    ConsentPurpose,
    DataSubjectRequest,
    ExtensionNotice,
    Recipient,
    RequestKind,
)
from backgroundmusic.privacy.rights.erasure import erasure_request
from backgroundmusic.privacy.rights.export import export_request
from backgroundmusic.staffroles.selectors import staff_may_handle_requests, staff_require

# A user of the AUTH_USER_MODEL; typed loosely because the privacy app imports no other app.
Person = Any

DUE_RU_WORKING_DAYS = 10
EXTENSION_WORKING_DAYS = 5  # 152-FZ art. 14(3), 20, 21: at most 5 more working days
EXTENSION_MONTHS_GDPR = 2  # GDPR art. 12(3): at most two further months
DUE_SOON_WORKING_DAYS = 2
REQUESTER_CONTACT_MAX_LENGTH = 1000
REASON_MAX_LENGTH = 2000
LATE_ANSWER_MARKER = "Answered after the deadline because: "

Identity = DataSubjectRequest.Identity
Status = DataSubjectRequest.Status
Channel = DataSubjectRequest.Channel


class RequestAction(StrEnum):
    EXPORT = "export"
    ERASE = "erase"
    RESTRICT = "restrict"
    WITHDRAW_CONSENT = "withdraw_consent"


ACTION_LABELS = {
    RequestAction.EXPORT: gettext_lazy("Prepare a download of the person's data"),
    RequestAction.ERASE: gettext_lazy("Erase the account"),
    RequestAction.RESTRICT: gettext_lazy("Restrict processing"),
    RequestAction.WITHDRAW_CONSENT: gettext_lazy("Withdraw a consent"),
}

# What each kind of request can be answered with. A rectification is made by the person on
# their profile page (or by staff in the accounts tools) and then closed with its outcome.
ACTIONS_BY_KIND: dict[str, tuple[RequestAction, ...]] = {
    RequestKind.ACCESS: (RequestAction.EXPORT,),
    RequestKind.RECTIFICATION: (),
    RequestKind.ERASURE: (RequestAction.ERASE,),
    RequestKind.RESTRICTION: (RequestAction.RESTRICT,),
    RequestKind.OBJECTION: (RequestAction.RESTRICT, RequestAction.WITHDRAW_CONSENT),
    RequestKind.CONSENT_WITHDRAWAL: (RequestAction.WITHDRAW_CONSENT,),
    # Staff read the letter and answer it, or log a request of the kind it turns out to be.
    RequestKind.OTHER: (),
}


def effective_due_ru(request: DataSubjectRequest) -> date:
    return request.extended_due_ru or request.due_ru


def effective_due_gdpr(request: DataSubjectRequest) -> date:
    return request.extended_due_gdpr or request.due_gdpr


@dataclass(frozen=True)
class Deadline:
    due: date
    # Working days (152-FZ) or calendar days (GDPR) from the reference day to the deadline;
    # negative when it has passed (by that many working or calendar days).
    days_left: int
    overdue: bool
    due_soon: bool

    @property
    def overdue_by(self) -> int:
        return max(0, -self.days_left)


@dataclass(frozen=True)
class RequestDeadlines:
    ru: Deadline
    gdpr: Deadline
    # The day the flags are computed for: today for an open request, its closing day otherwise.
    on: date

    @property
    def overdue(self) -> bool:
        return self.ru.overdue or self.gdpr.overdue

    @property
    def due_soon(self) -> bool:
        return not self.overdue and (self.ru.due_soon or self.gdpr.due_soon)

    @property
    def nearest(self) -> date:
        return min(self.ru.due, self.gdpr.due)


def _deadline(due: date, on: date, *, working_days: bool) -> Deadline:
    overdue = on > due
    soon = not overdue and working_days_between(on, due) <= DUE_SOON_WORKING_DAYS
    if working_days:
        left = -working_days_between(due, on) if overdue else working_days_between(on, due)
    else:
        left = (due - on).days
    return Deadline(due=due, days_left=left, overdue=overdue, due_soon=soon)


def request_deadlines(*, request: DataSubjectRequest) -> RequestDeadlines:
    """Both deadlines of a request with days left and flags: as of today while it is open, as of
    its closing day once closed (so a late answer stays marked late)."""
    on = (
        controller_date(request.closed_at)
        if request.status != Status.OPEN and request.closed_at is not None
        else controller_today()
    )
    return RequestDeadlines(
        ru=_deadline(effective_due_ru(request), on, working_days=True),
        gdpr=_deadline(effective_due_gdpr(request), on, working_days=False),
        on=on,
    )


def _nearest_due() -> Least:
    """The earlier of the two deadlines, as a database expression."""
    return Least(Coalesce("extended_due_ru", "due_ru"), Coalesce("extended_due_gdpr", "due_gdpr"))


def requests_overdue() -> QuerySet[DataSubjectRequest]:
    """Open requests past either deadline, the most overdue first."""
    return (
        DataSubjectRequest.objects.filter(status=Status.OPEN)
        .annotate(nearest_due=_nearest_due())
        .filter(nearest_due__lt=controller_today())
        .order_by("nearest_due", "pk")
    )


def requests_needing_attention() -> QuerySet[DataSubjectRequest]:
    """Open requests overdue or due within DUE_SOON_WORKING_DAYS working days: the daily digest."""
    horizon = add_working_days(controller_today(), DUE_SOON_WORKING_DAYS)
    return (
        DataSubjectRequest.objects.filter(status=Status.OPEN)
        .annotate(nearest_due=_nearest_due())
        .filter(nearest_due__lte=horizon)
        .order_by("nearest_due", "pk")
    )


@dataclass(frozen=True)
class InboxEntry:
    request: DataSubjectRequest
    deadlines: RequestDeadlines


def request_extensions_open(*, request: DataSubjectRequest) -> tuple[bool, bool]:
    """Whether the 152-FZ and the GDPR deadline can still be extended today: each once, the
    first before its 10 working days run out, the second within the first month."""
    if request.status != Status.OPEN:
        return False, False
    today = controller_today()
    return (
        request.extended_due_ru is None and today <= request.due_ru,
        request.extended_due_gdpr is None and today <= request.due_gdpr,
    )


def requests_inbox(*, include_closed: bool = False) -> list[InboxEntry]:
    """Open requests by nearest deadline (either one), then, if asked, closed ones newest first."""
    requests = DataSubjectRequest.objects.select_related("subject")
    if not include_closed:
        requests = requests.filter(status=Status.OPEN)
    ordered = requests.annotate(
        nearest_due=_nearest_due(),
        is_closed=Case(When(status=Status.OPEN, then=Value(0)), default=Value(1)),
    ).order_by("is_closed", "nearest_due", F("closed_at").desc(nulls_last=True), "pk")
    return [InboxEntry(request=r, deadlines=request_deadlines(request=r)) for r in ordered]


@dataclass(frozen=True)
class RequestAnswer:
    """What the requester was told when the request closed: the answer and, for a late one,
    the explanation of the delay ("" when it was in time)."""

    text: str
    delay_explanation: str


def request_answer(*, request: DataSubjectRequest) -> RequestAnswer | None:
    """The answer of a closed request, split from the explanation of a delay; None while open."""
    if request.status == Status.OPEN:
        return None
    text, _marker, explanation = request.outcome.partition(f"\n\n{LATE_ANSWER_MARKER}")
    return RequestAnswer(text=text, delay_explanation=explanation)


@dataclass(frozen=True)
class SubjectRequestEntry:
    """One of a person's requests as the privacy center shows it: the deadlines while it is
    open, the answer once it is closed."""

    request: DataSubjectRequest
    received_on: date  # in Moscow, as the deadlines count it
    closed_on: date | None
    deadlines: RequestDeadlines | None
    answer: RequestAnswer | None


def requester_view(*, request: DataSubjectRequest) -> SubjectRequestEntry:
    """A request as its requester sees it (the privacy center, the form's confirmation)."""
    is_open = request.status == Status.OPEN
    return SubjectRequestEntry(
        request=request,
        received_on=controller_date(request.received_at),
        closed_on=controller_date(request.closed_at) if request.closed_at is not None else None,
        deadlines=request_deadlines(request=request) if is_open else None,
        answer=request_answer(request=request),
    )


def requests_of_subject(*, user: Person) -> list[SubjectRequestEntry]:
    """Every request a person filed, newest first: those linked to their account, and those made
    on the public form from one of their verified addresses (any case), which the form links
    only for the verified primary address of the moment. One query."""
    from_their_addresses = Q(channel=Channel.WEB_FORM) & Q(
        contact_lowercase__in=verified_addresses_lowercase(user_id=user.pk)
    )
    found = (
        DataSubjectRequest.objects.annotate(contact_lowercase=Lower("requester_contact"))
        .filter(Q(subject_id=user.pk) | from_their_addresses)
        .order_by("-received_at", "-pk")
    )
    return [requester_view(request=request) for request in found]


def request_get(*, request_id: int) -> DataSubjectRequest | None:
    return DataSubjectRequest.objects.select_related("subject").filter(pk=request_id).first()


def request_actions_available(*, request: DataSubjectRequest) -> tuple[RequestAction, ...]:
    """The actions a request can be answered with now: none until it is open, the requester's
    identity is verified and an account is linked."""
    if (
        request.status != Status.OPEN
        or request.identity != Identity.VERIFIED
        or request.subject_id is None
    ):
        return ()
    return ACTIONS_BY_KIND.get(request.kind, ())


def subject_lookup(*, query: str) -> Person | None:
    """An account by exact user id or exact username (case-insensitive); None when none matches.
    Loads only the id and the username."""
    query = query.strip()
    if not query:
        return None
    users = get_user_model().objects.only("pk", get_user_model().USERNAME_FIELD)
    if query.isdecimal():
        found = users.filter(pk=int(query)).first()
        if found is not None:
            return found
    return users.filter(**{f"{get_user_model().USERNAME_FIELD}__iexact": query}).first()


def _actor_id(actor: Person) -> int:
    """The handler's id, once staffroles allows them to handle requests."""
    actor_id: int = staff_require(actor=actor, may=staff_may_handle_requests).pk
    return actor_id


def _locked(request: DataSubjectRequest) -> DataSubjectRequest:
    """The request re-read under a row lock, so two staff members cannot act on it at once."""
    return DataSubjectRequest.objects.select_for_update().get(pk=request.pk)


def _require_open(request: DataSubjectRequest) -> None:
    if request.status != Status.OPEN:
        raise DomainError(
            _("Request #%(id)s is closed; nothing can be changed on it any more.")
            % {"id": request.pk},
            code="request_closed",
        )


@refusals_audited("privacy.request_log")
@transaction.atomic
def request_log(
    *,
    actor: Person,
    kind: str,
    channel: str,
    received_at: datetime,
    subject: Person | None = None,
    requester_contact: str,
) -> DataSubjectRequest:
    """Logs a request received outside the site and computes both deadlines from its receipt.
    The request form's channel is the system's alone (its address is proven by the code)."""
    actor_id = _actor_id(actor)
    if channel == Channel.WEB_FORM:
        raise DomainError(_("Choose how the request arrived."), code="invalid_channel")
    request = _request_create(
        kind=kind,
        channel=channel,
        received_at=received_at,
        subject=subject,
        requester_contact=requester_contact,
        handled_by_id=actor_id,
    )
    audit_record(
        actor=actor,
        action=AuditAction.REQUEST_LOGGED,
        target=request,
        after={"kind": kind, "channel": channel, "subject_linked": subject is not None},
    )
    return request


CONFIRMED_BY_LINK_REASON = "confirmed by a link sent to the account's verified address"
CODE_VERIFIED_REASON = "identity: e-mail address verified by a one-time code"


SERVICE_START_UNSET = (
    "OPERATOR_SERVICE_STARTED_ON is not set: the day the service started (YYYY-MM-DD), before "
    "which no data-subject request can have been received."
)


def service_started_on() -> date:
    """The day the service started (the operator's detail `service_started_on`, set by
    OPERATOR_SERVICE_STARTED_ON; 2025-06-01 in the embedded demo): no request can have been
    received before it. The deploy check privacy.E050 makes sure a deployment sets it."""
    started = operator_details().service_started_on
    if started is None:
        raise ImproperlyConfigured(SERVICE_START_UNSET)
    return started


def service_start_deploy_check(**kwargs: Any) -> list[checks.CheckMessage]:
    if operator_details().service_started_on is None:
        return [checks.Error(SERVICE_START_UNSET, id="privacy.E050")]
    return []


def received_at_problem(received_at: datetime) -> DomainError | None:
    """Why a moment cannot be a request's receipt: in the future, or before the service started
    (service_started_on, in Moscow time); None when it can."""
    if received_at > clock.now():
        return DomainError(
            _("The request cannot have been received in the future."), code="received_in_future"
        )
    started = service_started_on()
    if controller_date(received_at) < started:
        return DomainError(
            _("The request cannot have been received before %(date)s, when the service started.")
            % {"date": started.isoformat()},
            code="received_before_service",
        )
    return None


def _request_create(
    *,
    kind: str,
    channel: str,
    received_at: datetime,
    subject: Person | None,
    requester_contact: str,
    handled_by_id: int | None,
    details: str = "",
    language: str = "",
) -> DataSubjectRequest:
    if kind not in RequestKind.values:
        raise DomainError(_("Choose the kind of request."), code="invalid_kind")
    if channel not in Channel.values:
        raise DomainError(_("Choose how the request arrived."), code="invalid_channel")
    if received_at.tzinfo is None:
        raise ValueError("received_at must be an aware datetime")
    problem = received_at_problem(received_at)
    if problem is not None:
        raise problem
    requester_contact = requester_contact.strip()
    if not requester_contact:
        raise DomainError(
            _("Write down how to answer the requester (an e-mail or postal address)."),
            code="contact_required",
        )
    if len(requester_contact) > REQUESTER_CONTACT_MAX_LENGTH:
        raise DomainError(
            _("The requester's contact is too long (at most %(max)s characters).")
            % {"max": REQUESTER_CONTACT_MAX_LENGTH},
            code="contact_too_long",
        )
    received_on = controller_date(received_at)
    return DataSubjectRequest.objects.create(
        kind=kind,
        channel=channel,
        received_at=received_at,
        subject=subject,
        requester_contact=requester_contact,
        due_ru=add_working_days(received_on, DUE_RU_WORKING_DAYS),
        due_gdpr=add_one_month(received_on),
        handled_by_id=handled_by_id,
        details=details,
        language=language,
    )


@transaction.atomic
def request_log_received(
    *, kind: str, received_at: datetime, requester_contact: str
) -> DataSubjectRequest:
    """The system's path: a request that arrived by e-mail at the privacy address, logged by the
    inbox with both deadlines from its arrival and no account linked (the sender's address proves
    nothing until they follow the confirmation link). Audited with actor None."""
    request = _request_create(
        kind=kind,
        channel=Channel.EMAIL,
        received_at=received_at,
        subject=None,
        requester_contact=requester_contact,
        handled_by_id=None,
    )
    audit_record(
        actor=None,
        action=AuditAction.REQUEST_LOGGED,
        target=request,
        after={"kind": kind, "channel": Channel.EMAIL, "subject_linked": False},
    )
    return request


@transaction.atomic
def request_confirm_by_link(*, request_id: int, subject: Person) -> DataSubjectRequest:
    """The system's path: the sender followed the link we sent to `subject`'s verified address,
    so the request is the account holder's. Links the account and verifies the identity, audited
    with actor None and CONFIRMED_BY_LINK_REASON. Following the link again changes nothing; a
    closed request, or one staff have meanwhile linked to another account or already settled the
    identity of, is refused."""
    request = DataSubjectRequest.objects.select_for_update().get(pk=request_id)
    if request.subject_id == subject.pk and request.identity == Identity.VERIFIED:
        return request
    _require_open(request)
    if request.subject_id not in (None, subject.pk) or request.identity != Identity.UNVERIFIED:
        raise DomainError(
            _("This request is already being handled by our staff; they will write to you."),
            code="request_taken",
        )
    before = {"identity": request.identity}
    request.subject = subject
    request.identity = Identity.VERIFIED
    request.save(update_fields=["subject", "identity"])
    audit_record(
        actor=None,
        action=AuditAction.REQUEST_SUBJECT_LINKED,
        target=request,
        before=before,
        after={"identity": Identity.UNVERIFIED, "subject_changed": True},
        reason=CONFIRMED_BY_LINK_REASON,
    )
    audit_record(
        actor=None,
        action=AuditAction.REQUEST_IDENTITY_VERIFIED,
        target=request,
        before={"identity": Identity.UNVERIFIED},
        after={"identity": Identity.VERIFIED},
        reason=CONFIRMED_BY_LINK_REASON,
    )
    return request


@transaction.atomic
def request_log_by_form(
    *, kind: str, address: str, details: str, language: str, received_at: datetime
) -> DataSubjectRequest:
    """The system's path: the public request form, its address proven by the one-time code typed
    back (privacy/requests_public.py). Logged with both deadlines from `received_at`, the answer
    going to `address`; when `address` is the verified primary address of an active account, the
    request is linked to it with the identity verified, as request_confirm_by_link does. Every
    step is audited with actor None and CODE_VERIFIED_REASON."""
    subject = account_with_verified_primary_address(address=address)
    request = _request_create(
        kind=kind,
        channel=Channel.WEB_FORM,
        received_at=received_at,
        subject=subject,
        requester_contact=address,
        handled_by_id=None,
        details=details,
        language=language,
    )
    audit_record(
        actor=None,
        action=AuditAction.REQUEST_LOGGED,
        target=request,
        after={"kind": kind, "channel": Channel.WEB_FORM, "subject_linked": subject is not None},
        reason=CODE_VERIFIED_REASON,
    )
    if subject is not None:
        request.identity = Identity.VERIFIED
        request.save(update_fields=["identity"])
        audit_record(
            actor=None,
            action=AuditAction.REQUEST_SUBJECT_LINKED,
            target=request,
            before={"identity": Identity.UNVERIFIED},
            after={"identity": Identity.UNVERIFIED, "subject_changed": True},
            reason=CODE_VERIFIED_REASON,
        )
        audit_record(
            actor=None,
            action=AuditAction.REQUEST_IDENTITY_VERIFIED,
            target=request,
            before={"identity": Identity.UNVERIFIED},
            after={"identity": Identity.VERIFIED},
            reason=CODE_VERIFIED_REASON,
        )
    return request


@refusals_audited("privacy.request_link_subject")
@transaction.atomic
def request_link_subject(
    *, actor: Person, request: DataSubjectRequest, subject: Person
) -> DataSubjectRequest:
    """Links the account the request is about. Changing the account resets the identity check,
    which is about the person of that account; once identity is verified the link is fixed."""
    actor_id = _actor_id(actor)
    request = _locked(request)
    _require_open(request)
    if request.identity == Identity.VERIFIED:
        raise DomainError(
            _(
                "The requester's identity is already verified for the linked account, "
                "so the account can no longer be changed."
            ),
            code="identity_already_verified",
        )
    before = {"identity": request.identity}
    subject_changed = request.subject_id != subject.pk
    if subject_changed:
        request.subject = subject
        request.identity = Identity.UNVERIFIED
    request.handled_by_id = actor_id
    request.save(update_fields=["subject", "identity", "handled_by_id"])
    audit_record(
        actor=actor,
        action=AuditAction.REQUEST_SUBJECT_LINKED,
        target=request,
        before=before,
        # Which account is on the request row; the trail keeps no person's id in before/after.
        after={"identity": request.identity, "subject_changed": subject_changed},
    )
    return request


@refusals_audited("privacy.request_verify_identity")
@transaction.atomic
def request_verify_identity(
    *, actor: Person, request: DataSubjectRequest, verified: bool
) -> DataSubjectRequest:
    """Records the outcome of checking that the requester is who they say they are. A failed
    check can be repeated (new documents arrive); a verified one is final."""
    actor_id = _actor_id(actor)
    request = _locked(request)
    _require_open(request)
    if request.identity == Identity.VERIFIED:
        raise DomainError(
            _("The requester's identity is already verified."), code="identity_already_verified"
        )
    before = {"identity": request.identity}
    request.identity = Identity.VERIFIED if verified else Identity.FAILED
    request.handled_by_id = actor_id
    request.save(update_fields=["identity", "handled_by_id"])
    audit_record(
        actor=actor,
        action=AuditAction.REQUEST_IDENTITY_VERIFIED
        if verified
        else AuditAction.REQUEST_IDENTITY_FAILED,
        target=request,
        before=before,
        after={"identity": request.identity},
    )
    return request


@refusals_audited("privacy.request_extend")
@transaction.atomic
def request_extend(
    *,
    actor: Person,
    request: DataSubjectRequest,
    reason: str,
    ru_working_days: int = EXTENSION_WORKING_DAYS,
    gdpr_months: int = 0,
) -> DataSubjectRequest:
    """Extends the 152-FZ deadline by up to 5 working days (while the 10 have not run out) and/or
    the GDPR deadline by up to two months (announced within the first month), each once, with a
    reason; queues the notice that tells the requester the reason and the new dates."""
    actor_id = _actor_id(actor)
    request = _locked(request)
    _require_open(request)
    if ru_working_days < 0 or gdpr_months < 0 or (ru_working_days == 0 and gdpr_months == 0):
        raise DomainError(
            _("Choose which deadline to extend, and by how much."), code="nothing_to_extend"
        )
    if ru_working_days > EXTENSION_WORKING_DAYS:
        raise DomainError(
            _("152-FZ allows at most %(days)s more working days.")
            % {"days": EXTENSION_WORKING_DAYS},
            code="extension_too_long_ru",
        )
    if gdpr_months > EXTENSION_MONTHS_GDPR:
        raise DomainError(
            _("The GDPR allows at most %(months)s more months.")
            % {"months": EXTENSION_MONTHS_GDPR},
            code="extension_too_long_gdpr",
        )
    reason = reason.strip()
    if not reason:
        raise DomainError(
            _("Give the reason for the extension: the requester must be told why."),
            code="reason_required",
        )
    if len(reason) > REASON_MAX_LENGTH:
        raise DomainError(
            _("The reason is too long (at most %(max)s characters).") % {"max": REASON_MAX_LENGTH},
            code="reason_too_long",
        )
    today = controller_today()
    if ru_working_days:
        if request.extended_due_ru is not None:
            raise DomainError(
                _(
                    "The 152-FZ deadline was already extended to %(date)s; it can be extended "
                    "only once."
                )
                % {"date": request.extended_due_ru.isoformat()},
                code="already_extended",
            )
        if today > request.due_ru:
            raise DomainError(
                _(
                    "The 10-working-day deadline passed on %(date)s; it can be extended only "
                    "before it runs out."
                )
                % {"date": request.due_ru.isoformat()},
                code="deadline_passed",
            )
    if gdpr_months:
        if request.extended_due_gdpr is not None:
            raise DomainError(
                _(
                    "The GDPR deadline was already extended to %(date)s; it can be extended "
                    "only once."
                )
                % {"date": request.extended_due_gdpr.isoformat()},
                code="already_extended_gdpr",
            )
        if today > request.due_gdpr:
            raise DomainError(
                _(
                    "The first month ended on %(date)s: the GDPR lets the requester be told of "
                    "an extension only within it."
                )
                % {"date": request.due_gdpr.isoformat()},
                code="first_month_passed",
            )
    before = {
        "due_ru": effective_due_ru(request).isoformat(),
        "due_gdpr": effective_due_gdpr(request).isoformat(),
    }
    fields = ["extension_reason", "handled_by_id"]
    if ru_working_days:
        request.extended_due_ru = add_working_days(request.due_ru, ru_working_days)
        fields.append("extended_due_ru")
    if gdpr_months:
        received_on = controller_date(request.received_at)
        request.extended_due_gdpr = add_months(received_on, 1 + gdpr_months)
        fields.append("extended_due_gdpr")
    request.extension_reason = reason
    request.handled_by_id = actor_id
    request.save(update_fields=fields)
    notice = ExtensionNotice.objects.create(
        request=request,
        reason=reason,
        extended_due_ru=request.extended_due_ru if ru_working_days else None,
        extended_due_gdpr=request.extended_due_gdpr if gdpr_months else None,
        queued_at=clock.now(),
    )
    audit_record(
        actor=actor,
        action=AuditAction.REQUEST_EXTENDED,
        target=request,
        before=before,
        after={
            "due_ru": effective_due_ru(request).isoformat(),
            "due_gdpr": effective_due_gdpr(request).isoformat(),
            "notice": notice.pk,
        },
    )
    from backgroundmusic.privacy import tasks  # tasks import this module

    tasks.send_extension_notice.enqueue(notice_id=notice.pk)
    return request


def _requester_address(request: DataSubjectRequest) -> tuple[str, str] | None:
    """(address, language) for letters to the requester: the linked account's verified primary
    address in its language, else the e-mail address the request came from (by e-mail or the
    form) in the request's language; None when there is no e-mail address (a postal letter)."""
    if request.subject_id is not None:
        target = message_address(user_id=request.subject_id)
        if target is not None:
            return target.address, target.language
    if request.channel in (Channel.EMAIL, Channel.WEB_FORM):
        address = request.requester_contact.strip()
        try:
            validate_email(address)
        except ValidationError:
            return None
        return address, request.language or settings.LANGUAGE_CODE
    return None


def extension_notice_send(*, notice_id: int) -> str:
    """The job: e-mails the extension notice (text and HTML) unless it went already; returns what
    happened. Marked in the transaction that sends, so a job killed after sending and before
    committing sends once more, never zero times."""
    with transaction.atomic():
        notice = (
            ExtensionNotice.objects.select_for_update(of=("self",))
            .select_related("request")
            .filter(pk=notice_id)
            .first()
        )
        if notice is None:
            return "gone"
        if notice.delivery != ExtensionNotice.Delivery.QUEUED:
            return str(notice.delivery)
        request = notice.request
        target = _requester_address(request)
        if target is None:
            notice.delivery = ExtensionNotice.Delivery.NO_ADDRESS
            notice.save(update_fields=["delivery"])
            return str(notice.delivery)
        address, language = target
        context = {
            "number": request.pk,
            "kind": request.get_kind_display,
            "received_on": controller_date(request.received_at),
            "reason": notice.reason,
            "due_ru": effective_due_ru(request),
            "due_gdpr": effective_due_gdpr(request),
            "extended_ru": notice.extended_due_ru is not None,
            "extended_gdpr": notice.extended_due_gdpr is not None,
            "privacy_address": settings.PRIVACY_ADDRESS,
        }
        with translation.override(language):
            subject = render_to_string("privacy/extension_notice_subject.txt", context).strip()
            message = EmailMultiAlternatives(
                subject=subject,
                body=render_to_string("privacy/extension_notice.txt", context),
                to=[address],
                headers=job_message_id("extension-notice", notice.pk),
            )
            message.attach_alternative(
                render_to_string("privacy/extension_notice.html", context), "text/html"
            )
        message.send()
        notice.delivery = ExtensionNotice.Delivery.SENT
        notice.sent_at = clock.now()
        notice.save(update_fields=["delivery", "sent_at"])
        return str(notice.delivery)


def extension_notices(*, request: DataSubjectRequest) -> list[ExtensionNotice]:
    return list(request.extension_notices.order_by("queued_at", "pk"))


def request_is_late(*, request: DataSubjectRequest) -> bool:
    """Whether closing the request today would be after one of its deadlines."""
    on = controller_today()
    return on > effective_due_ru(request) or on > effective_due_gdpr(request)


@refusals_audited("privacy.request_close")
@transaction.atomic
def request_close(
    *,
    actor: Person,
    request: DataSubjectRequest,
    outcome: str,
    status: str,
    delay_explanation: str = "",
) -> DataSubjectRequest:
    """Closes a request as done or refused with the answer given. "Done" needs a verified
    identity. After a deadline, the delay must be explained; the explanation is kept in the
    outcome after LATE_ANSWER_MARKER."""
    actor_id = _actor_id(actor)
    request = _locked(request)
    _require_open(request)
    if status not in (Status.DONE, Status.REFUSED):
        raise DomainError(_("Choose whether the request was done or refused."), code="bad_status")
    outcome = outcome.strip()
    if not outcome:
        raise DomainError(
            _("Write down the outcome: what was done or why the request was refused."),
            code="outcome_required",
        )
    if status == Status.DONE and request.identity != Identity.VERIFIED:
        raise DomainError(
            _(
                "A request can be closed as done only after the requester's identity is "
                "verified; otherwise refuse it and say why."
            ),
            code="identity_not_verified",
        )
    delay_explanation = delay_explanation.strip()
    if max(len(outcome), len(delay_explanation)) > REASON_MAX_LENGTH:
        raise DomainError(
            _("The outcome and the explanation may have at most %(max)s characters each.")
            % {"max": REASON_MAX_LENGTH},
            code="outcome_too_long",
        )
    if request_is_late(request=request):
        if not delay_explanation:
            raise DomainError(
                _(
                    "This request is past its deadline: explain the delay before closing it "
                    "(the explanation is kept with the outcome)."
                ),
                code="delay_explanation_required",
            )
        outcome = f"{outcome}\n\n{LATE_ANSWER_MARKER}{delay_explanation}"
    before = {"status": request.status}
    request.status = status
    request.outcome = outcome
    request.closed_at = clock.now()
    request.handled_by_id = actor_id
    request.save(update_fields=["status", "outcome", "closed_at", "handled_by_id"])
    audit_record(
        actor=actor,
        action=AuditAction.REQUEST_CLOSED,
        target=request,
        before=before,
        after={"status": status, "late": bool(delay_explanation)},
    )
    return request


@refusals_audited("privacy.request_act")
@transaction.atomic
def request_act(
    *,
    actor: Person,
    request: DataSubjectRequest,
    action: str,
    purpose: str | None = None,
    recipient: Recipient | None = None,
    site_url: str = "",
) -> object:
    """Runs the self-service action that answers the request, for its linked account, with the
    staff method: the same service the person would run from the privacy center. Returns what
    that service returns (a DataExport, an ErasureJob, a ProcessingRestriction, a ConsentRecord).
    site_url: scheme and host for links e-mailed to the person (the export's download link)."""
    _actor_id(actor)
    request = _locked(request)
    _require_open(request)
    if action not in request_actions_available(request=request):
        raise DomainError(_action_refusal(request), code="action_not_available")
    subject = request.subject
    runner = _ACTION_RUNNERS[RequestAction(action)]
    result = runner(request, subject, purpose, recipient, site_url)
    audit_record(
        actor=actor,
        action=AuditAction.REQUEST_ACTED,
        target=request,
        after={"action": str(action), "purpose": purpose or ""},
    )
    return result


def _action_refusal(request: DataSubjectRequest) -> str:
    if request.subject_id is None:
        return _("Link the request to an account first.")
    if request.identity != Identity.VERIFIED:
        return _("Verify the requester's identity first.")
    return _("This action does not answer this kind of request.")


def _run_export(
    request: DataSubjectRequest,
    subject: Person,
    purpose: str | None,
    recipient: Recipient | None,
    site_url: str,
) -> object:
    return export_request(subject=subject, method=ConsentMethod.STAFF, site_url=site_url)


def _run_erasure(
    request: DataSubjectRequest,
    subject: Person,
    purpose: str | None,
    recipient: Recipient | None,
    site_url: str,
) -> object:
    return erasure_request(subject=subject, reason=f"request #{request.pk}")


def _run_restriction(
    request: DataSubjectRequest,
    subject: Person,
    purpose: str | None,
    recipient: Recipient | None,
    site_url: str,
) -> object:
    return consents.restriction_start(subject=subject, method=ConsentMethod.STAFF)


def _run_consent_withdrawal(
    request: DataSubjectRequest,
    subject: Person,
    purpose: str | None,
    recipient: Recipient | None,
    site_url: str,
) -> object:
    if purpose not in ConsentPurpose.values:
        raise DomainError(_("Choose the consent to withdraw."), code="purpose_required")
    if (purpose == ConsentPurpose.SHARING) != (recipient is not None):
        raise DomainError(
            _("Sharing is withdrawn per recipient: choose the recipient (and only for sharing)."),
            code="recipient_mismatch",
        )
    return consents.consent_withdraw(
        subject=subject,
        purpose=ConsentPurpose(purpose),
        method=ConsentMethod.STAFF,
        recipient=recipient,
        evidence=consents.consent_evidence(
            reason=consents.REASON_STAFF_REQUEST, request_id=str(request.pk)
        ),
    )


_ACTION_RUNNERS: dict[RequestAction, Callable[..., object]] = {
    RequestAction.EXPORT: _run_export,
    RequestAction.ERASE: _run_erasure,
    RequestAction.RESTRICT: _run_restriction,
    RequestAction.WITHDRAW_CONSENT: _run_consent_withdrawal,
}


HANDLE_REQUESTS_PERMISSION = "privacy.handle_datasubjectrequest"
DIGEST_MARK_SECONDS = 3 * 24 * 3600


def request_handlers() -> QuerySet[Any]:
    """Active accounts holding the permission to handle requests (the privacy officers), with
    an e-mail address. Superusers are not included unless they hold it through a role."""
    return (
        get_user_model()
        .objects.with_perm(  # type: ignore[attr-defined]
            HANDLE_REQUESTS_PERMISSION,
            include_superusers=False,
            backend="django.contrib.auth.backends.ModelBackend",
        )
        .exclude(email="")
        .order_by("pk")
    )


def request_digest_text(*, entries: list[InboxEntry]) -> tuple[str, str]:
    """(subject, body) of the digest: request numbers, kinds and deadlines, no personal data."""
    overdue = sum(1 for entry in entries if entry.deadlines.overdue)
    subject = _(
        "Data-subject requests: %(overdue)s overdue, %(soon)s due within two working days"
    ) % {"overdue": overdue, "soon": len(entries) - overdue}
    lines = [
        _("Open requests that need an answer soon, nearest deadline first:"),
        "",
    ]
    for entry in entries:
        item, deadlines = entry.request, entry.deadlines
        state = _("OVERDUE") if deadlines.overdue else _("due soon")
        lines.append(
            _(
                "#%(id)s %(kind)s (%(state)s): 152-FZ deadline %(due_ru)s, GDPR deadline "
                "%(due_gdpr)s. %(path)s"
            )
            % {
                "id": item.pk,
                "kind": item.get_kind_display(),
                "state": state,
                "due_ru": deadlines.ru.due.isoformat(),
                "due_gdpr": deadlines.gdpr.due.isoformat(),
                "path": reverse("privacy:staff_request", kwargs={"request_id": item.pk}),
            }
        )
    lines += ["", _("The inbox: %(path)s") % {"path": reverse("privacy:staff_requests")}]
    return subject, "\n".join(lines) + "\n"


def request_digest_send() -> int:
    """Sends today's digest to every privacy officer not yet sent it today; returns how many
    e-mails were sent (0 when no request needs attention)."""
    entries = [
        InboxEntry(request=item, deadlines=request_deadlines(request=item))
        for item in requests_needing_attention()
    ]
    if not entries:
        return 0
    subject, body = request_digest_text(entries=entries)
    day = controller_today().isoformat()
    sent = 0
    for officer in request_handlers():
        mark = f"privacy:request-digest:{day}:{officer.pk}"
        if cache.get(mark):
            continue
        send_mail(subject, body, None, [officer.email])
        cache.set(mark, 1, DIGEST_MARK_SECONDS)
        sent += 1
    return sent
