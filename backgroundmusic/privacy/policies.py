"""Policy editions (policy clause 8): publishing, the edition in force, acceptance and
acknowledgement.

An edition is immutable once published. Its content hash is a sha256 over a canonical JSON of
everything it says (kind, version, titles, bodies, change summaries, material consent purposes,
effective date), stored with the edition and with every acceptance of it, so the evidence names
exactly the text a person saw. `editions.edition_hash_matches` recomputes it to detect a row
changed behind the service's back.

The privacy policy is information: a person *acknowledges* having read it. The user agreement is
a contract: a person *accepts* it. Neither is a consent; consents live in the consent ledger.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from backgroundmusic.audit.models import AuditAction
from backgroundmusic.audit.refusals import refusals_audited
from backgroundmusic.audit.services import audit_record
from backgroundmusic.core import clock
from backgroundmusic.core.errors import DomainError
from backgroundmusic.core.markdown import markdown_html
from backgroundmusic.core.operator import (
    operator_details,
    operator_placeholders_fill,
    unresolved_placeholders,
)
from backgroundmusic.core.request_info import truncate_ip
from backgroundmusic.privacy.consents import consents_suspend_for_edition
from backgroundmusic.privacy.editions import current_edition, edition_content_hash
from backgroundmusic.privacy.kernel.pseudonyms import subject_pseudonym
from backgroundmusic.privacy.models import (
    AcceptanceAction,
    ConsentAction,
    ConsentPurpose,
    ConsentRecord,
    DocumentKind,
    PolicyAcceptance,
    PolicyEdition,
)
from backgroundmusic.staffroles.selectors import Actor, staff_may_publish_policy, staff_require

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

# What a person does with each kind of document when they agree to it.
ACTION_FOR_KIND: dict[str, AcceptanceAction] = {
    DocumentKind.PRIVACY_POLICY: AcceptanceAction.ACKNOWLEDGED,
    DocumentKind.TERMS_OF_USE: AcceptanceAction.ACCEPTED,
}
# Letters, digits, dots and hyphens, starting with a letter or digit: "2026-11-01", "3.1".
VERSION_PATTERN = re.compile(r"[0-9A-Za-z][0-9A-Za-z.\-]{0,31}")
TITLE_MAX_LENGTH = 200
USER_AGENT_FAMILY_MAX_LENGTH = 64
# Who published an edition that the demo data (or another command) put in, not a staff member.
SEEDED_ACTOR_ID = None


class EditionError(DomainError):
    code = "policy_edition"


def _paused_annotation(purpose: str) -> str:
    return f"paused_{purpose}"


def pending_acknowledgement(*, user: "AbstractBaseUser") -> PolicyEdition | None:
    """The edition in force that this user has not acknowledged (privacy policy) or accepted
    (user agreement) yet; the privacy policy first. One query; bodies are not loaded.

    The edition comes annotated with `paused_<purpose>` for every consent purpose: whether the
    consent ledger suspended this user's consent to it because of this edition; and with
    `read_earlier`: whether the user acknowledged or accepted an earlier edition of the same
    document, which is what makes this one new to them (an account made without the sign-up
    form, a seeded staff member's, has read none)."""
    if not user.is_authenticated:
        return None
    now = clock.now()

    def in_force(kind: DocumentKind) -> Subquery:
        return Subquery(
            PolicyEdition.objects.filter(
                kind=kind, published_at__isnull=False, effective_at__lte=now
            )
            .order_by("-effective_at", "-pk")
            .values("pk")[:1]
        )

    paused = {
        _paused_annotation(purpose): Exists(
            ConsentRecord.objects.filter(
                subject=user.pk,
                purpose=purpose,
                action=ConsentAction.SUSPENDED,
                edition_hash=OuterRef("content_hash"),
            )
        )
        for purpose in ConsentPurpose.values
    }
    return (
        PolicyEdition.objects.filter(
            Q(pk=in_force(DocumentKind.PRIVACY_POLICY)) | Q(pk=in_force(DocumentKind.TERMS_OF_USE))
        )
        .filter(~Exists(PolicyAcceptance.objects.filter(user=user.pk, edition=OuterRef("pk"))))
        .annotate(
            **paused,
            read_earlier=Exists(
                PolicyAcceptance.objects.filter(user=user.pk, edition__kind=OuterRef("kind"))
            ),
        )
        .defer("body_en", "body_ru")
        .order_by("kind")
        .first()
    )


@dataclass(frozen=True)
class PolicyNotice:
    """What the notice of a new edition shows a signed-in user."""

    edition: PolicyEdition
    title: str
    change_summary: str
    changed_purposes: list[str]  # labels of the consent purposes the edition changed materially
    paused_purposes: list[str]  # labels of this user's consents it paused
    # Whether the user read an earlier edition: only then is this one "new" to them, and only
    # then does what changed since that edition mean anything to them.
    is_new: bool

    @property
    def is_terms(self) -> bool:
        return self.edition.kind == DocumentKind.TERMS_OF_USE


def policy_notice_for(*, user: "AbstractBaseUser", language: str | None) -> PolicyNotice | None:
    """The notice to show this user now, in the language, or None. One query when signed in,
    none otherwise."""
    edition = pending_acknowledgement(user=user)
    if edition is None:
        return None
    russian = _is_russian(language)
    is_new = bool(getattr(edition, "read_earlier", False))
    paused = [
        purpose
        for purpose in ConsentPurpose.values
        if getattr(edition, _paused_annotation(purpose), False)
    ]
    return PolicyNotice(
        edition=edition,
        title=edition.title_ru if russian else edition.title_en,
        change_summary=(edition.change_summary_ru if russian else edition.change_summary_en)
        if is_new
        else "",
        changed_purposes=material_purpose_labels(purposes=edition.material_purposes)
        if is_new
        else [],
        paused_purposes=material_purpose_labels(purposes=paused),
        is_new=is_new,
    )


def acceptances_of(*, user: "AbstractBaseUser") -> QuerySet[PolicyAcceptance]:
    """A person's acceptances and acknowledgements, newest first, with their editions."""
    return (
        PolicyAcceptance.objects.filter(user=user.pk)
        .select_related("edition")
        .defer("edition__body_en", "edition__body_ru")
        .order_by("-at", "-pk")
    )


@dataclass(frozen=True)
class LocalizedEdition:
    """An edition in one language, ready to show."""

    edition: PolicyEdition
    title: str
    body_html: SafeString
    change_summary: str
    material_purposes: list[str]


def _is_russian(language: str | None) -> bool:
    return bool(language) and str(language).lower().startswith("ru")


def material_purpose_labels(*, purposes: Sequence[str]) -> list[str]:
    labels = dict(ConsentPurpose.choices)
    return [str(labels.get(purpose, purpose)) for purpose in purposes]


def edition_localized(*, edition: PolicyEdition, language: str | None) -> LocalizedEdition:
    """The edition's title, rendered body and change summary in the language (Russian for "ru",
    English otherwise), with the labels of its materially changed consent purposes."""
    russian = _is_russian(language)
    deferred = edition.get_deferred_fields()
    body = (
        ""
        if {"body_en", "body_ru"} & deferred
        else (edition.body_ru if russian else edition.body_en)
    )
    return LocalizedEdition(
        edition=edition,
        title=edition.title_ru if russian else edition.title_en,
        body_html=markdown_html(body),
        change_summary=edition.change_summary_ru if russian else edition.change_summary_en,
        material_purposes=material_purpose_labels(purposes=edition.material_purposes),
    )


def _normalized(text: str) -> str:
    """Text as stored and hashed: Unix line ends, no trailing blanks on lines or at the ends."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip()


@dataclass(frozen=True)
class EditionTexts:
    body_en: str
    body_ru: str
    change_summary_en: str
    change_summary_ru: str


def edition_texts_fill(texts: EditionTexts) -> EditionTexts:
    """The texts with the operator's details (core/operator.py) in place of their placeholders,
    each in its language: what an edition publishes and hashes."""
    details = operator_details()
    return EditionTexts(
        body_en=operator_placeholders_fill(texts.body_en, language="en", details=details),
        body_ru=operator_placeholders_fill(texts.body_ru, language="ru", details=details),
        change_summary_en=operator_placeholders_fill(
            texts.change_summary_en, language="en", details=details
        ),
        change_summary_ru=operator_placeholders_fill(
            texts.change_summary_ru, language="ru", details=details
        ),
    )


def _unresolved_refuse(texts: EditionTexts) -> None:
    for label, parts in (
        (_("English"), (texts.body_en, texts.change_summary_en)),
        (_("Russian"), (texts.body_ru, texts.change_summary_ru)),
    ):
        left = unresolved_placeholders("\n".join(parts))
        if left:
            raise EditionError(
                _(
                    "The %(language)s text still has placeholders to fill in: %(placeholders)s. "
                    "Set the operator's details in the configuration (the OPERATOR_* and DPO_* "
                    "variables) or complete the text, then publish."
                )
                % {"language": label, "placeholders": ", ".join(left)}
            )


def _kind_label(kind: str) -> str:
    return str(dict(DocumentKind.choices).get(kind, kind)).lower()


def _edition_create(
    *,
    actor_id: int | None,
    kind: str,
    version: str,
    title_en: str,
    title_ru: str,
    body_en: str,
    body_ru: str,
    change_summary_en: str,
    change_summary_ru: str,
    effective_at: datetime,
    material_purposes: Sequence[str],
    published_at: datetime,
) -> PolicyEdition:
    if kind not in DocumentKind.values:
        raise EditionError(_("Unknown kind of document: %(kind)s.") % {"kind": kind})
    document = _kind_label(kind)
    version = version.strip()
    if not VERSION_PATTERN.fullmatch(version):
        raise EditionError(
            _(
                "A version has 1 to 32 letters, digits, dots or hyphens and starts with a letter "
                "or digit, e.g. 2026-11-01."
            )
        )
    texts = {
        "title_en": _normalized(title_en),
        "title_ru": _normalized(title_ru),
        "body_en": _normalized(body_en),
        "body_ru": _normalized(body_ru),
        "change_summary_en": _normalized(change_summary_en),
        "change_summary_ru": _normalized(change_summary_ru),
    }
    for name, label in (("title_en", _("English")), ("title_ru", _("Russian"))):
        if not texts[name]:
            raise EditionError(_("The %(language)s title is empty.") % {"language": label})
        if len(texts[name]) > TITLE_MAX_LENGTH or "\n" in texts[name]:
            raise EditionError(
                _("The %(language)s title must be one line of at most %(max)d characters.")
                % {"language": label, "max": TITLE_MAX_LENGTH}
            )
    for name, label in (("body_en", _("English")), ("body_ru", _("Russian"))):
        if not texts[name]:
            raise EditionError(_("The %(language)s text is empty.") % {"language": label})
    purposes = sorted(set(material_purposes))
    unknown = [p for p in purposes if p not in ConsentPurpose.values]
    if unknown:
        raise EditionError(
            _("Unknown consent purpose: %(purposes)s.") % {"purposes": ", ".join(unknown)}
        )
    if purposes and kind != DocumentKind.PRIVACY_POLICY:
        raise EditionError(
            _("Consent purposes are described in the privacy policy, not in the %(document)s.")
            % {"document": document}
        )
    # Lock the document's editions so two publications of it cannot interleave.
    editions = list(
        PolicyEdition.objects.select_for_update()
        .filter(kind=kind)
        .only("version", "effective_at", "published_at")
    )
    if any(edition.version == version for edition in editions):
        raise EditionError(
            _(
                "Version %(version)s of the %(document)s is already published, and a published "
                "edition can never be changed. Publish the change as a new version."
            )
            % {"version": version, "document": document}
        )
    published = [e for e in editions if e.published_at is not None]
    latest = max((e.effective_at for e in published), default=None)
    if latest is not None and effective_at <= latest:
        raise EditionError(
            _(
                "The effective date must be later than that of the latest edition of the "
                "%(document)s (%(latest)s UTC)."
            )
            % {"document": document, "latest": f"{latest.astimezone(UTC):%Y-%m-%d %H:%M}"}
        )
    if published and not (texts["change_summary_en"] and texts["change_summary_ru"]):
        raise EditionError(
            _(
                "Describe what changed in both languages: people are shown this summary when "
                "the new edition takes effect."
            )
        )
    edition = PolicyEdition.objects.create(
        kind=kind,
        version=version,
        **texts,
        material_purposes=purposes,
        content_hash=edition_content_hash(
            kind=kind,
            version=version,
            **texts,
            material_purposes=purposes,
            effective_at=effective_at,
        ),
        effective_at=effective_at,
        published_at=published_at,
        published_by_id=actor_id or None,
    )
    if purposes:
        # The consent ledger pauses the consents given under the old terms of these purposes.
        consents_suspend_for_edition(edition=edition)
    return edition


@refusals_audited("privacy.edition_publish")
@transaction.atomic
def edition_publish(
    *,
    actor: Actor | None,
    kind: DocumentKind | str,
    version: str,
    title_en: str,
    title_ru: str,
    body_en: str,
    body_ru: str,
    change_summary_en: str,
    change_summary_ru: str,
    effective_at: datetime | None,
    material_purposes: Sequence[str],
) -> PolicyEdition:
    """Publishes a new edition, now; it takes effect at effective_at (None: at once, which may
    not be in the past). Nothing published can be changed afterwards: a change is a new version.

    actor: the staff member publishing, refused (ActionRefused) unless
    staffroles.selectors.staff_may_publish_policy allows them; None is the system (a seeding
    command), recorded as SEEDED_ACTOR_ID.
    Consents of the purposes in material_purposes are suspended by the consent ledger, in this
    transaction, until the person gives them again.
    The operator's placeholders ({{ operator.inn }} ...) are filled from the configuration; a text
    left with a placeholder or a bracketed note ("[to be filled in]") is refused.
    """
    if actor is not None:
        staff_require(actor=actor, may=staff_may_publish_policy)
    texts = edition_texts_fill(
        EditionTexts(
            body_en=body_en,
            body_ru=body_ru,
            change_summary_en=change_summary_en,
            change_summary_ru=change_summary_ru,
        )
    )
    _unresolved_refuse(texts)
    now = clock.now()
    effective = now if effective_at is None else effective_at
    if effective < now:
        raise EditionError(
            _("The effective date is in the past: an edition can take effect now or later.")
        )
    edition = _edition_create(
        actor_id=SEEDED_ACTOR_ID if actor is None else actor.pk,
        kind=str(kind),
        version=version,
        title_en=title_en,
        title_ru=title_ru,
        body_en=texts.body_en,
        body_ru=texts.body_ru,
        change_summary_en=texts.change_summary_en,
        change_summary_ru=texts.change_summary_ru,
        effective_at=effective,
        material_purposes=material_purposes,
        published_at=now,
    )
    audit_record(
        actor=actor,
        action=AuditAction.POLICY_EDITION_PUBLISHED,
        target=edition,
        after={
            "kind": edition.kind,
            "version": edition.version,
            "effective_at": edition.effective_at.isoformat(),
            "material_purposes": list(material_purposes),
        },
    )
    return edition


@transaction.atomic
def acceptance_record(
    *,
    user: "AbstractBaseUser",
    edition: PolicyEdition,
    action: AcceptanceAction | str,
    request_ip_truncated: str,
    user_agent_family: str,
) -> PolicyAcceptance:
    """Appends the evidence that the user accepted (user agreement) or acknowledged (privacy
    policy) this edition: time, edition hash, truncated IP, browser family. The address is
    truncated again here, so a full address can never be stored."""
    if edition.pk is None or edition.published_at is None:
        raise EditionError(_("Only a published edition can be accepted or acknowledged."))
    expected = ACTION_FOR_KIND[edition.kind]
    if action != expected:
        raise EditionError(
            _("The %(document)s is %(expected)s, not %(action)s.")
            % {
                "document": _kind_label(edition.kind),
                "expected": expected.label.lower(),
                "action": str(action),
            }
        )
    return PolicyAcceptance.objects.create(
        user_id=user.pk,
        subject_pseudonym=subject_pseudonym(subject_id=int(user.pk)),
        edition=edition,
        edition_hash=edition.content_hash,
        action=expected,
        at=clock.now(),
        ip_truncated=truncate_ip(request_ip_truncated) if request_ip_truncated else "",
        user_agent_family=user_agent_family[:USER_AGENT_FAMILY_MAX_LENGTH],
    )


@transaction.atomic
def edition_acknowledge(
    *,
    user: "AbstractBaseUser",
    edition: PolicyEdition,
    request_ip_truncated: str,
    user_agent_family: str,
) -> PolicyAcceptance:
    """The person read the edition in force and says so (the notice's button): acknowledged for
    the privacy policy, accepted for the user agreement. Pressing it twice records it once."""
    current = current_edition(kind=DocumentKind(edition.kind))
    if current is None or current.pk != edition.pk:
        raise EditionError(
            _(
                "This edition of the %(document)s is not the one in force now; read the current "
                "edition instead."
            )
            % {"document": _kind_label(edition.kind)}
        )
    existing = PolicyAcceptance.objects.filter(user=user.pk, edition=current).first()
    if existing is not None:
        return existing
    return acceptance_record(
        user=user,
        edition=current,
        action=ACTION_FOR_KIND[current.kind],
        request_ip_truncated=request_ip_truncated,
        user_agent_family=user_agent_family,
    )


@transaction.atomic
def signup_agreements_record(
    *, user: "AbstractBaseUser", request_ip_truncated: str, user_agent_family: str
) -> list[PolicyAcceptance]:
    """At sign-up: acceptance of the user agreement and acknowledgement of the privacy policy in
    force. Nothing is recorded for a document that has no edition in force yet."""
    recorded = []
    for kind in (DocumentKind.TERMS_OF_USE, DocumentKind.PRIVACY_POLICY):
        edition = current_edition(kind=kind)
        if edition is not None:
            recorded.append(
                acceptance_record(
                    user=user,
                    edition=edition,
                    action=ACTION_FOR_KIND[kind],
                    request_ip_truncated=request_ip_truncated,
                    user_agent_family=user_agent_family,
                )
            )
    return recorded
