"""Plans and their editions, and the licence terms editions (issue 11 §1, decision 0016): the
content hash of an edition, publishing, withdrawing a plan, and the selectors of what is on sale.

An edition is immutable once published, like a policy edition (privacy/editions.py): its content
hash is a sha256 over a canonical JSON (sorted keys, no whitespace, UTF-8) of every field a
licensee relies on. An order line and an agreement copy it, so the terms a licence was bought on
can always be named, shown and checked (`plan_edition_hash_matches`).

Staff act through the services here, each checked with
`staffroles.selectors.staff_may_manage_plans` before anything is written and audited in its own
transaction; `actor=None` is the system (the demo seeding).
"""

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from django.utils.translation import gettext as _

from backgroundmusic.audit.models import AuditAction
from backgroundmusic.audit.refusals import refusals_audited
from backgroundmusic.audit.services import audit_record
from backgroundmusic.core import clock
from backgroundmusic.core.errors import DomainError
from backgroundmusic.licensing.models import (
    LicenceTermsEdition,
    Plan,
    PlanEdition,
    PlanKind,
    QuantityUnit,
    Scope,
    Term,
    Territory,
    Use,
)
from backgroundmusic.staffroles.selectors import Actor, staff_may_manage_plans, staff_require

# Letters, digits, dots and hyphens, starting with a letter or digit: "2026-12-01", "2.1".
VERSION_PATTERN = re.compile(r"[0-9A-Za-z][0-9A-Za-z.\-]{0,31}")
# Lower-case letters, digits and hyphens: the plan's address, /pricing/<code>/.
CODE_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
TITLE_MAX_LENGTH = 200
# Bounds that keep an order line's amount (price × quantity, VAT added) within its column.
MAX_QUANTITY = 1000
MAX_PRICE = Decimal("10000000.00")
MAX_VAT_RATE = Decimal("99.99")
CENT = Decimal("0.01")


class PlanError(DomainError):
    code = "plan"


class PlanEditionError(DomainError):
    code = "plan_edition"


class TermsEditionError(DomainError):
    code = "terms_edition"


@dataclass(frozen=True)
class KindRule:
    """What every edition of a kind of plan grants: some of `uses` (at least one), and exactly
    this scope, term and unit."""

    uses: tuple[Use, ...]
    scope: Scope
    term: Term
    quantity_unit: QuantityUnit


KIND_RULES: dict[str, KindRule] = {
    # Videos and podcasts on the person's own channels, the whole catalogue, month by month.
    PlanKind.CREATOR: KindRule(
        (Use.ONLINE_VIDEO, Use.PODCAST), Scope.CATALOGUE, Term.MONTHLY, QuantityUnit.LICENCE
    ),
    # A company's channels and its advertising.
    PlanKind.BUSINESS: KindRule(
        (Use.COMPANY_CHANNEL, Use.ADVERTISING),
        Scope.CATALOGUE,
        Term.MONTHLY,
        QuantityUnit.LICENCE,
    ),
    # Public performance, priced per location per month; plays through the service only.
    PlanKind.VENUE: KindRule(
        (Use.PUBLIC_PERFORMANCE,), Scope.CATALOGUE, Term.MONTHLY, QuantityUnit.LOCATION
    ),
    # One track for one named project, for good.
    PlanKind.SINGLE_TRACK: KindRule(
        (Use.PROJECT,), Scope.TRACK, Term.PERPETUAL, QuantityUnit.LICENCE
    ),
}


def _utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _canonical_hash(content: dict[str, object]) -> str:
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _amount(value: Decimal) -> str:
    """An amount as hashed: always two places, so 990 and 990.00 name the same price."""
    return str(Decimal(value).quantize(CENT))


def plan_edition_content_hash(
    *,
    plan_code: str,
    plan_kind: str,
    version: str,
    title_en: str,
    title_ru: str,
    description_en: str,
    description_ru: str,
    uses: Sequence[str],
    territory: str,
    scope: str,
    term: str,
    quantity_unit: str,
    min_quantity: int,
    max_quantity: int,
    price_rub: Decimal,
    price_eur: Decimal,
    vat_rate: Decimal,
    effective_at: datetime,
) -> str:
    """sha256 over a canonical JSON of everything a plan edition says."""
    return _canonical_hash(
        {
            "plan_code": plan_code,
            "plan_kind": str(plan_kind),
            "version": version,
            "title_en": title_en,
            "title_ru": title_ru,
            "description_en": description_en,
            "description_ru": description_ru,
            "uses": sorted(str(use) for use in uses),
            "territory": str(territory),
            "scope": str(scope),
            "term": str(term),
            "quantity_unit": str(quantity_unit),
            "min_quantity": int(min_quantity),
            "max_quantity": int(max_quantity),
            "price_rub": _amount(price_rub),
            "price_eur": _amount(price_eur),
            "vat_rate": _amount(vat_rate),
            "effective_at": _utc_iso(effective_at),
        }
    )


def plan_edition_hash_matches(*, edition: PlanEdition) -> bool:
    """Whether the stored row still says what was published (False: changed behind our back)."""
    return edition.content_hash == plan_edition_content_hash(
        plan_code=edition.plan.code,
        plan_kind=edition.plan.kind,
        version=edition.version,
        title_en=edition.title_en,
        title_ru=edition.title_ru,
        description_en=edition.description_en,
        description_ru=edition.description_ru,
        uses=edition.uses,
        territory=edition.territory,
        scope=edition.scope,
        term=edition.term,
        quantity_unit=edition.quantity_unit,
        min_quantity=edition.min_quantity,
        max_quantity=edition.max_quantity,
        price_rub=edition.price_rub,
        price_eur=edition.price_eur,
        vat_rate=edition.vat_rate,
        effective_at=edition.effective_at,
    )


def terms_edition_content_hash(
    *,
    version: str,
    title_en: str,
    title_ru: str,
    body_en: str,
    body_ru: str,
    effective_at: datetime,
) -> str:
    """sha256 over a canonical JSON of everything a licence terms edition says."""
    return _canonical_hash(
        {
            "version": version,
            "title_en": title_en,
            "title_ru": title_ru,
            "body_en": body_en,
            "body_ru": body_ru,
            "effective_at": _utc_iso(effective_at),
        }
    )


def terms_edition_hash_matches(*, edition: LicenceTermsEdition) -> bool:
    return edition.content_hash == terms_edition_content_hash(
        version=edition.version,
        title_en=edition.title_en,
        title_ru=edition.title_ru,
        body_en=edition.body_en,
        body_ru=edition.body_ru,
        effective_at=edition.effective_at,
    )


def _normalized(text: str) -> str:
    """Text as stored and hashed: Unix line ends, no trailing blanks on lines or at the ends."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip()


def _require_manager(actor: Actor | None) -> None:
    if actor is not None:
        staff_require(actor=actor, may=staff_may_manage_plans)


def _checked_version(version: str, error: type[DomainError]) -> str:
    version = version.strip()
    if not VERSION_PATTERN.fullmatch(version):
        raise error(
            _(
                "A version has 1 to 32 letters, digits, dots or hyphens and starts with a letter "
                "or digit, e.g. 2026-12-01."
            ),
            code="version_format",
        )
    return version


def _checked_texts(error: type[DomainError], **texts: str) -> dict[str, str]:
    """Titles (one line, at most TITLE_MAX_LENGTH) and bodies (Markdown), none empty."""
    checked = {name: _normalized(text) for name, text in texts.items()}
    labels = {"en": _("English"), "ru": _("Russian")}
    for name, text in checked.items():
        language = labels[name.rsplit("_", 1)[1]]
        if name.startswith("title_"):
            if not text:
                raise error(
                    _("The %(language)s title is empty.") % {"language": language}, code="title"
                )
            if len(text) > TITLE_MAX_LENGTH or "\n" in text:
                raise error(
                    _("The %(language)s title must be one line of at most %(max)d characters.")
                    % {"language": language, "max": TITLE_MAX_LENGTH},
                    code="title",
                )
        elif not text:
            raise error(_("The %(language)s text is empty.") % {"language": language}, code="text")
    return checked


def _checked_effective_at(
    effective_at: datetime | None, now: datetime, error: type[DomainError]
) -> datetime:
    effective = now if effective_at is None else effective_at
    if effective < now:
        raise error(
            _("The effective date is in the past: an edition can take effect now or later."),
            code="effective_at",
        )
    return effective


def _checked_later(
    effective_at: datetime, latest: datetime | None, error: type[DomainError]
) -> None:
    if latest is not None and effective_at <= latest:
        raise error(
            _("The effective date must be later than that of the latest edition (%(latest)s UTC).")
            % {"latest": f"{latest.astimezone(UTC):%Y-%m-%d %H:%M}"},
            code="effective_at",
        )


def _checked_amount(value: Decimal, *, label: str, maximum: Decimal, code: str) -> Decimal:
    """A non-negative amount of at most two decimal places, up to `maximum`, with two places."""
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        amount = Decimal("NaN")
    exponent = amount.as_tuple().exponent
    if (
        not amount.is_finite()
        or not isinstance(exponent, int)
        or exponent < -2
        or not Decimal(0) <= amount <= maximum
    ):
        raise PlanEditionError(
            _("%(label)s must be between 0 and %(max)s with at most two decimal places.")
            % {"label": label, "max": maximum},
            code=code,
        )
    # copy_abs: -0 is a valid zero, stored and hashed as 0.00.
    return amount.quantize(CENT).copy_abs()


def _checked_terms_of_kind(
    *,
    kind: str,
    uses: Sequence[str],
    territory: str,
    scope: str,
    term: str,
    quantity_unit: str,
    min_quantity: int,
    max_quantity: int,
) -> list[str]:
    """The edition's uses in canonical (sorted) order, after checking everything its kind of
    plan decides."""
    rule = KIND_RULES[kind]
    kind_label = PlanKind(kind).label
    chosen = sorted(set(uses))
    unknown = [use for use in chosen if use not in Use.values]
    if unknown:
        raise PlanEditionError(
            _("Unknown use: %(uses)s.") % {"uses": ", ".join(unknown)}, code="uses"
        )
    if not chosen:
        raise PlanEditionError(_("Choose at least one use the plan grants."), code="uses")
    foreign = [use for use in chosen if use not in rule.uses]
    if foreign:
        raise PlanEditionError(
            _("A %(kind)s cannot grant: %(uses)s. It may grant: %(allowed)s.")
            % {
                "kind": kind_label,
                "uses": "; ".join(str(Use(use).label) for use in foreign),
                "allowed": "; ".join(str(use.label) for use in rule.uses),
            },
            code="uses",
        )
    if territory not in Territory.values:
        raise PlanEditionError(
            _("Unknown territory: %(territory)s.") % {"territory": territory}, code="territory"
        )
    fields = (
        (scope, rule.scope, "scope", _("scope")),
        (term, rule.term, "term", _("term")),
        (quantity_unit, rule.quantity_unit, "quantity_unit", _("unit")),
    )
    for value, expected, code, field in fields:
        if value != expected:
            raise PlanEditionError(
                _("The %(field)s of a %(kind)s must be “%(expected)s”.")
                % {"field": field, "kind": kind_label, "expected": expected.label},
                code=code,
            )
    if not 1 <= min_quantity <= max_quantity <= MAX_QUANTITY:
        raise PlanEditionError(
            _(
                "The quantities must satisfy 1 ≤ least ≤ most ≤ %(max)d (given: %(least)s to "
                "%(most)s)."
            )
            % {"max": MAX_QUANTITY, "least": min_quantity, "most": max_quantity},
            code="quantities",
        )
    return chosen


def _plan_edition_create(
    *,
    actor_id: int | None,
    plan: Plan,
    version: str,
    title_en: str,
    title_ru: str,
    description_en: str,
    description_ru: str,
    uses: Sequence[str],
    territory: str,
    scope: str,
    term: str,
    quantity_unit: str,
    min_quantity: int,
    max_quantity: int,
    price_rub: Decimal,
    price_eur: Decimal,
    vat_rate: Decimal,
    effective_at: datetime,
    published_at: datetime,
) -> PlanEdition:
    # Lock the plan, so that two publications of its editions cannot interleave.
    plan = Plan.objects.select_for_update().get(pk=plan.pk)
    version = _checked_version(version, PlanEditionError)
    texts = _checked_texts(
        PlanEditionError,
        title_en=title_en,
        title_ru=title_ru,
        description_en=description_en,
        description_ru=description_ru,
    )
    chosen_uses = _checked_terms_of_kind(
        kind=plan.kind,
        uses=uses,
        territory=territory,
        scope=scope,
        term=term,
        quantity_unit=quantity_unit,
        min_quantity=min_quantity,
        max_quantity=max_quantity,
    )
    price_rub = _checked_amount(
        price_rub, label=_("The price in roubles"), maximum=MAX_PRICE, code="price"
    )
    price_eur = _checked_amount(
        price_eur, label=_("The price in euros"), maximum=MAX_PRICE, code="price"
    )
    vat_rate = _checked_amount(
        vat_rate, label=_("The VAT rate"), maximum=MAX_VAT_RATE, code="vat_rate"
    )
    editions = list(plan.editions.only("version", "effective_at"))
    if any(edition.version == version for edition in editions):
        raise PlanEditionError(
            _(
                "Version %(version)s of the plan %(plan)s is already published, and a published "
                "edition can never be changed. Publish the change as a new version."
            )
            % {"version": version, "plan": plan.code},
            code="version_taken",
        )
    _checked_later(
        effective_at,
        max((edition.effective_at for edition in editions), default=None),
        PlanEditionError,
    )
    content_hash = plan_edition_content_hash(
        plan_code=plan.code,
        plan_kind=plan.kind,
        version=version,
        title_en=texts["title_en"],
        title_ru=texts["title_ru"],
        description_en=texts["description_en"],
        description_ru=texts["description_ru"],
        uses=chosen_uses,
        territory=territory,
        scope=scope,
        term=term,
        quantity_unit=quantity_unit,
        min_quantity=min_quantity,
        max_quantity=max_quantity,
        price_rub=price_rub,
        price_eur=price_eur,
        vat_rate=vat_rate,
        effective_at=effective_at,
    )
    if PlanEdition.objects.filter(content_hash=content_hash).exists():
        raise PlanEditionError(
            _("An edition with exactly this content is already published."), code="hash_taken"
        )
    return PlanEdition.objects.create(
        plan=plan,
        version=version,
        **texts,
        uses=chosen_uses,
        territory=territory,
        scope=scope,
        term=term,
        quantity_unit=quantity_unit,
        min_quantity=min_quantity,
        max_quantity=max_quantity,
        price_rub=price_rub,
        price_eur=price_eur,
        vat_rate=vat_rate,
        content_hash=content_hash,
        effective_at=effective_at,
        published_at=published_at,
        published_by_id=actor_id,
    )


@refusals_audited("licensing.plan_edition_publish")
@transaction.atomic
def plan_edition_publish(
    *,
    actor: Actor | None,
    plan: Plan,
    version: str,
    title_en: str,
    title_ru: str,
    description_en: str,
    description_ru: str,
    uses: Sequence[str],
    territory: str,
    scope: str,
    term: str,
    quantity_unit: str,
    min_quantity: int,
    max_quantity: int,
    price_rub: Decimal,
    price_eur: Decimal,
    vat_rate: Decimal,
    effective_at: datetime | None,
) -> PlanEdition:
    """Publishes a new edition of `plan`, now; it is sold from effective_at (None: at once; the
    past is refused; later than the plan's latest edition). Scope, term and unit must be those of
    the plan's kind (KIND_RULES), and the uses some of its uses. Nothing published can be changed
    afterwards: a change is a new version.

    actor: a staff member whom staffroles.selectors.staff_may_manage_plans allows (otherwise
    ActionRefused, nothing written but its `service.denied` row), or None for the system.
    """
    _require_manager(actor)
    now = clock.now()
    edition = _plan_edition_create(
        actor_id=None if actor is None else actor.pk,
        plan=plan,
        version=version,
        title_en=title_en,
        title_ru=title_ru,
        description_en=description_en,
        description_ru=description_ru,
        uses=uses,
        territory=territory,
        scope=scope,
        term=term,
        quantity_unit=quantity_unit,
        min_quantity=min_quantity,
        max_quantity=max_quantity,
        price_rub=price_rub,
        price_eur=price_eur,
        vat_rate=vat_rate,
        effective_at=_checked_effective_at(effective_at, now, PlanEditionError),
        published_at=now,
    )
    audit_record(
        actor=actor,
        action=AuditAction.PLAN_EDITION_PUBLISHED,
        target=edition,
        after={
            "plan": plan.code,
            "version": edition.version,
            "effective_at": edition.effective_at.isoformat(),
            "price_rub": str(edition.price_rub),
            "price_eur": str(edition.price_eur),
            "vat_rate": str(edition.vat_rate),
            "content_hash": edition.content_hash,
        },
    )
    return edition


@refusals_audited("licensing.terms_edition_publish")
@transaction.atomic
def terms_edition_publish(
    *,
    actor: Actor | None,
    version: str,
    title_en: str,
    title_ru: str,
    body_en: str,
    body_ru: str,
    effective_at: datetime | None,
) -> LicenceTermsEdition:
    """Publishes a new edition of the licence terms buyers accept at checkout, now; in force
    from effective_at (None: at once; the past is refused; later than the latest edition).

    actor: as for plan_edition_publish.
    """
    _require_manager(actor)
    now = clock.now()
    effective = _checked_effective_at(effective_at, now, TermsEditionError)
    version = _checked_version(version, TermsEditionError)
    texts = _checked_texts(
        TermsEditionError, title_en=title_en, title_ru=title_ru, body_en=body_en, body_ru=body_ru
    )
    # Lock the published editions, so that two publications cannot interleave.
    editions = list(LicenceTermsEdition.objects.select_for_update().only("version", "effective_at"))
    if any(edition.version == version for edition in editions):
        raise TermsEditionError(
            _(
                "Version %(version)s of the licence terms is already published, and a published "
                "edition can never be changed. Publish the change as a new version."
            )
            % {"version": version},
            code="version_taken",
        )
    _checked_later(
        effective, max((e.effective_at for e in editions), default=None), TermsEditionError
    )
    content_hash = terms_edition_content_hash(version=version, **texts, effective_at=effective)
    if LicenceTermsEdition.objects.filter(content_hash=content_hash).exists():
        raise TermsEditionError(
            _("An edition with exactly this content is already published."), code="hash_taken"
        )
    edition = LicenceTermsEdition.objects.create(
        version=version,
        **texts,
        content_hash=content_hash,
        effective_at=effective,
        published_at=now,
        published_by_id=None if actor is None else actor.pk,
    )
    audit_record(
        actor=actor,
        action=AuditAction.TERMS_EDITION_PUBLISHED,
        target=edition,
        after={
            "version": edition.version,
            "effective_at": edition.effective_at.isoformat(),
            "content_hash": edition.content_hash,
        },
    )
    return edition


@refusals_audited("licensing.plan_create")
@transaction.atomic
def plan_create(*, actor: Actor | None, code: str, kind: str, position: int = 0) -> Plan:
    """A new plan, offered, with no edition yet (it is sold once an edition takes effect)."""
    _require_manager(actor)
    code = code.strip()
    if not CODE_PATTERN.fullmatch(code):
        raise PlanError(
            _(
                "A plan's code has 1 to 40 lower-case Latin letters, digits or hyphens and "
                "starts with a letter or digit, e.g. venue."
            ),
            code="code_format",
        )
    if kind not in PlanKind.values:
        raise PlanError(_("Unknown kind of plan: %(kind)s.") % {"kind": kind}, code="kind")
    if not 0 <= position <= 32767:
        raise PlanError(_("The position must be between 0 and 32767."), code="position")
    if Plan.objects.filter(code=code).exists():
        raise PlanError(
            _("There is already a plan with the code %(code)s.") % {"code": code},
            code="code_taken",
        )
    plan = Plan.objects.create(code=code, kind=kind, position=position, is_offered=True)
    audit_record(
        actor=actor,
        action=AuditAction.PLAN_CREATED,
        target=plan,
        after={"code": code, "kind": kind, "position": position},
    )
    return plan


def _offer_set(*, actor: Actor | None, plan: Plan, offered: bool) -> Plan:
    _require_manager(actor)
    plan = Plan.objects.select_for_update().get(pk=plan.pk)
    if plan.is_offered == offered:
        message = (
            _("The plan %(code)s is already on sale.")
            if offered
            else _("The plan %(code)s is already withdrawn from sale.")
        )
        raise PlanError(message % {"code": plan.code}, code="unchanged")
    plan.is_offered = offered
    plan.save(update_fields=["is_offered"])
    audit_record(
        actor=actor,
        action=AuditAction.PLAN_OFFERED if offered else AuditAction.PLAN_WITHDRAWN,
        target=plan,
        before={"is_offered": not offered},
        after={"is_offered": offered},
    )
    return plan


@refusals_audited("licensing.plan_withdraw")
@transaction.atomic
def plan_withdraw(*, actor: Actor | None, plan: Plan) -> Plan:
    """Takes a plan off sale: it leaves the pricing page and can no longer be bought. Agreements
    concluded under it stay as they are."""
    return _offer_set(actor=actor, plan=plan, offered=False)


@refusals_audited("licensing.plan_offer")
@transaction.atomic
def plan_offer(*, actor: Actor | None, plan: Plan) -> Plan:
    """Puts a withdrawn plan on sale again, with its edition in force."""
    return _offer_set(actor=actor, plan=plan, offered=True)


def _newest_effective(now: datetime) -> Subquery:
    return Subquery(
        PlanEdition.objects.filter(plan=OuterRef("plan"), effective_at__lte=now)
        .order_by("-effective_at", "-pk")
        .values("pk")[:1]
    )


def _on_sale(now: datetime) -> QuerySet[PlanEdition]:
    return PlanEdition.objects.filter(
        plan__is_offered=True, effective_at__lte=now, pk=_newest_effective(now)
    ).select_related("plan")


def current_plan_editions() -> list[PlanEdition]:
    """What is on sale now: for each offered plan, its newest edition in effect, ordered by the
    plans' position. One query."""
    return list(_on_sale(clock.now()).order_by("plan__position", "plan__code"))


def current_plan_edition(*, code: str) -> PlanEdition | None:
    """The edition on sale now of the offered plan with this code; None otherwise."""
    return _on_sale(clock.now()).filter(plan__code=code).first()


def current_track_plan_edition() -> PlanEdition | None:
    """The edition on sale now of the first offered plan licensing one track (the single-track
    licence a track page offers); None when there is none."""
    return (
        _on_sale(clock.now())
        .filter(scope=Scope.TRACK)
        .order_by("plan__position", "plan__code")
        .first()
    )


def plan_edition_on_sale(*, edition_id: int) -> PlanEdition | None:
    """The edition, if it is the one on sale now of an offered plan (what a cart may take);
    None for a superseded, upcoming or unknown edition or a withdrawn plan."""
    return _on_sale(clock.now()).filter(pk=edition_id).first()


def plan_edition_by_id(*, edition_id: int) -> PlanEdition | None:
    """Any published edition, on sale or not (orders and agreements name old ones)."""
    return PlanEdition.objects.select_related("plan").filter(pk=edition_id).first()


def current_terms_edition() -> LicenceTermsEdition | None:
    """The licence terms in force now: the latest edition whose effective date has come."""
    return (
        LicenceTermsEdition.objects.filter(effective_at__lte=clock.now())
        .order_by("-effective_at", "-pk")
        .first()
    )


def terms_edition_by_version(*, version: str) -> LicenceTermsEdition | None:
    return LicenceTermsEdition.objects.filter(version=version).first()


def plans_with_editions() -> QuerySet[Plan]:
    """Every plan, offered or not, with all its editions prefetched newest first
    (`plan.editions.all()`), without their descriptions. Two queries."""
    editions = PlanEdition.objects.defer("description_en", "description_ru").order_by(
        "-effective_at", "-pk"
    )
    return Plan.objects.order_by("position", "code").prefetch_related(
        Prefetch("editions", queryset=editions)
    )


def terms_editions() -> QuerySet[LicenceTermsEdition]:
    """Every licence terms edition, newest effective date first (upcoming included), without
    their bodies."""
    return LicenceTermsEdition.objects.defer("body_en", "body_ru").order_by("-effective_at", "-pk")
