"""Plan and licence terms editions: the content hash, publishing and its refusals, the audit rows,
withdrawing a plan, and the selectors of what is on sale."""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from backgroundmusic.audit.models import AuditEvent
from backgroundmusic.core import clock
from backgroundmusic.licensing import editions
from backgroundmusic.licensing.editions import PlanEditionError, PlanError, TermsEditionError
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

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)

HASH_FIELDS: dict[str, Any] = {
    "plan_code": "venue",
    "plan_kind": PlanKind.VENUE,
    "version": "1",
    "title_en": "Venue plan",
    "title_ru": "Тариф для заведений",
    "description_en": "Music for *venues*.",
    "description_ru": "Музыка для *заведений*.",
    "uses": [Use.PUBLIC_PERFORMANCE],
    "territory": Territory.RUSSIA,
    "scope": Scope.CATALOGUE,
    "term": Term.MONTHLY,
    "quantity_unit": QuantityUnit.LOCATION,
    "min_quantity": 1,
    "max_quantity": 50,
    "price_rub": Decimal("1500.00"),
    "price_eur": Decimal("15.00"),
    "vat_rate": Decimal("20.00"),
    "effective_at": NOW,
}
# Pinned: a change of the canonical form would silently re-name every edition ever published.
HASH_OF_FIELDS = "30167b838f810edb5d224a225cff6d5ea0291a601e3c7416c227d420d7d90f9a"

# Another value for every field, each changing what the edition says.
CHANGED: dict[str, Any] = {
    "plan_code": "venue-2",
    "plan_kind": PlanKind.BUSINESS,
    "version": "2",
    "title_en": "Venue plan.",
    "title_ru": "Тариф для заведений.",
    "description_en": "Music for venues.",
    "description_ru": "Музыка для заведений.",
    "uses": [Use.PUBLIC_PERFORMANCE, Use.ADVERTISING],
    "territory": Territory.WORLDWIDE,
    "scope": Scope.TRACK,
    "term": Term.PERPETUAL,
    "quantity_unit": QuantityUnit.LICENCE,
    "min_quantity": 2,
    "max_quantity": 49,
    "price_rub": Decimal("1500.01"),
    "price_eur": Decimal("15.10"),
    "vat_rate": Decimal("22.00"),
    "effective_at": NOW + timedelta(microseconds=1),
}


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen_at(NOW):
        yield


def venue_plan(code: str = "venue", position: int = 3) -> Plan:
    return editions.plan_create(actor=None, code=code, kind=PlanKind.VENUE, position=position)


def edition_fields(**overrides: Any) -> dict[str, Any]:
    """What the staff page sends for a venue plan's edition."""
    fields: dict[str, Any] = {
        "version": "1",
        "title_en": "Venue plan",
        "title_ru": "Тариф для заведений",
        "description_en": "Music for *venues*.",
        "description_ru": "Музыка для *заведений*.",
        "uses": [Use.PUBLIC_PERFORMANCE],
        "territory": Territory.RUSSIA,
        "scope": Scope.CATALOGUE,
        "term": Term.MONTHLY,
        "quantity_unit": QuantityUnit.LOCATION,
        "min_quantity": 1,
        "max_quantity": 50,
        "price_rub": Decimal("1500"),
        "price_eur": Decimal("15"),
        "vat_rate": Decimal("20"),
        "effective_at": None,
    }
    fields.update(overrides)
    return fields


def publish(plan: Plan, **overrides: Any) -> PlanEdition:
    return editions.plan_edition_publish(actor=None, plan=plan, **edition_fields(**overrides))


def terms_fields(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "version": "1",
        "title_en": "Licence terms",
        "title_ru": "Условия лицензии",
        "body_en": "## Parties\n\nUs and you.",
        "body_ru": "## Стороны\n\nМы и вы.",
        "effective_at": None,
    }
    fields.update(overrides)
    return fields


def audit_rows() -> list[tuple[Any, ...]]:
    return list(
        AuditEvent.objects.order_by("pk").values_list(
            "actor_id", "action", "target_type", "target_id", "before", "after"
        )
    )


def test_the_hash_of_a_plan_edition_is_pinned_and_stable():
    assert editions.plan_edition_content_hash(**HASH_FIELDS) == HASH_OF_FIELDS
    same = {
        **HASH_FIELDS,
        # The same prices and rate written otherwise, the same moment in Moscow time, the
        # uses in another order.
        "price_rub": Decimal("1500"),
        "price_eur": Decimal("15.0"),
        "vat_rate": Decimal("20"),
        "effective_at": NOW.astimezone(timezone(timedelta(hours=3))),
    }
    assert editions.plan_edition_content_hash(**same) == HASH_OF_FIELDS
    two_uses = {**HASH_FIELDS, "uses": [Use.PODCAST, Use.ONLINE_VIDEO]}
    assert editions.plan_edition_content_hash(**two_uses) == editions.plan_edition_content_hash(
        **{**two_uses, "uses": [Use.ONLINE_VIDEO, Use.PODCAST]}
    )


@pytest.mark.parametrize("field", sorted(CHANGED))
def test_the_hash_of_a_plan_edition_changes_with_every_field(field):
    changed = {**HASH_FIELDS, field: CHANGED[field]}
    assert editions.plan_edition_content_hash(**changed) != HASH_OF_FIELDS


def test_the_hash_covers_every_field_of_the_edition_a_licensee_relies_on():
    # The plan is hashed as its code and kind; the rest is bookkeeping of the publication.
    kept_out = {"id", "plan_id", "content_hash", "published_at", "published_by_id"}
    model_fields = {f.attname for f in PlanEdition._meta.concrete_fields} - kept_out
    assert model_fields == set(HASH_FIELDS) - {"plan_code", "plan_kind"}


TERMS_HASH_FIELDS: dict[str, Any] = {
    "version": "1",
    "title_en": "Licence terms",
    "title_ru": "Условия лицензии",
    "body_en": "Terms.",
    "body_ru": "Условия.",
    "effective_at": NOW,
}
TERMS_CHANGED: dict[str, Any] = {
    "version": "1.1",
    "title_en": "Licence Terms",
    "title_ru": "Условия лицензий",
    "body_en": "Terms!",
    "body_ru": "Условия!",
    "effective_at": NOW + timedelta(seconds=1),
}


def test_the_hash_of_a_terms_edition_is_stable_and_changes_with_every_field():
    first = editions.terms_edition_content_hash(**TERMS_HASH_FIELDS)
    assert editions.terms_edition_content_hash(**TERMS_HASH_FIELDS) == first
    assert len(first) == 64
    for field, value in TERMS_CHANGED.items():
        assert editions.terms_edition_content_hash(**{**TERMS_HASH_FIELDS, field: value}) != first
    kept_out = {"id", "content_hash", "published_at", "published_by_id"}
    model_fields = {f.attname for f in LicenceTermsEdition._meta.concrete_fields} - kept_out
    assert model_fields == set(TERMS_HASH_FIELDS)


def test_publishing_a_plan_edition_stores_it_normalized_with_its_hash_and_audit_row():
    plan = venue_plan()
    edition = publish(
        plan,
        title_en="  Venue plan ",
        description_en="Music for *venues*.  \r\n\r\nPer location.\r\n",
        uses=[Use.PUBLIC_PERFORMANCE, Use.PUBLIC_PERFORMANCE],
        price_rub=Decimal("1500"),
        price_eur=Decimal("15.5"),
        vat_rate=Decimal("20"),
    )
    edition.refresh_from_db()
    assert (
        edition.plan_id,
        edition.version,
        edition.title_en,
        edition.description_en,
        edition.uses,
        edition.price_rub,
        edition.price_eur,
        edition.vat_rate,
        edition.effective_at,
        edition.published_at,
        edition.published_by_id,
    ) == (
        plan.pk,
        "1",
        "Venue plan",
        "Music for *venues*.\n\nPer location.",
        ["public_performance"],
        Decimal("1500.00"),
        Decimal("15.50"),
        Decimal("20.00"),
        NOW,
        NOW,
        None,
    )
    assert editions.plan_edition_hash_matches(edition=edition)
    assert audit_rows()[-1] == (
        None,
        "plan.edition_published",
        "licensing.PlanEdition",
        str(edition.pk),
        {},
        {
            "plan": "venue",
            "version": "1",
            "effective_at": NOW.isoformat(),
            "price_rub": "1500.00",
            "price_eur": "15.50",
            "vat_rate": "20.00",
            "content_hash": edition.content_hash,
        },
    )


def test_a_row_changed_behind_the_services_back_no_longer_matches_its_hash():
    edition = publish(venue_plan())
    PlanEdition.objects.create(
        plan=edition.plan,
        version="2",
        **{
            name: getattr(edition, name)
            for name in (
                "title_en",
                "title_ru",
                "description_en",
                "description_ru",
                "uses",
                "territory",
                "scope",
                "term",
                "quantity_unit",
                "min_quantity",
                "max_quantity",
                "price_eur",
                "vat_rate",
                "effective_at",
                "published_at",
            )
        },
        price_rub=Decimal("1.00"),
        content_hash="0" * 64,
    )
    forged = PlanEdition.objects.get(version="2")
    assert not editions.plan_edition_hash_matches(edition=forged)


@pytest.mark.parametrize(
    ("overrides", "code", "message"),
    [
        ({"version": " "}, "version_format", "A version has 1 to 32 letters"),
        ({"version": "1 2"}, "version_format", "A version has 1 to 32 letters"),
        ({"version": "-1"}, "version_format", "A version has 1 to 32 letters"),
        ({"title_en": " "}, "title", "The English title is empty."),
        ({"title_ru": "Две\nстроки"}, "title", "The Russian title must be one line of at most"),
        ({"title_en": "x" * 201}, "title", "The English title must be one line of at most 200"),
        ({"description_ru": "\n \n"}, "text", "The Russian text is empty."),
        ({"uses": []}, "uses", "Choose at least one use the plan grants."),
        ({"uses": ["dancing"]}, "uses", "Unknown use: dancing."),
        (
            {"uses": [Use.PUBLIC_PERFORMANCE, Use.PODCAST]},
            "uses",
            "A Venue plan cannot grant: Podcasts on the licensee's own channels. It may grant: "
            "Public performance at a venue.",
        ),
        ({"territory": "FR"}, "territory", "Unknown territory: FR."),
        (
            {"scope": Scope.TRACK},
            "scope",
            "The scope of a Venue plan must be \u201cThe whole catalogue\u201d.",
        ),
        (
            {"term": Term.PERPETUAL},
            "term",
            "The term of a Venue plan must be \u201cMonthly subscription, renewed by paying "
            "each month\u201d.",
        ),
        (
            {"quantity_unit": QuantityUnit.LICENCE},
            "quantity_unit",
            "The unit of a Venue plan must be \u201clocation\u201d.",
        ),
        ({"min_quantity": 0}, "quantities", "The quantities must satisfy 1 ≤ least ≤ most"),
        ({"min_quantity": 5, "max_quantity": 4}, "quantities", "(given: 5 to 4)"),
        ({"max_quantity": 1001}, "quantities", "≤ 1000 (given: 1 to 1001)"),
        (
            {"price_rub": Decimal("-0.01")},
            "price",
            "The price in roubles must be between 0 and 10000000.00 with at most two decimal "
            "places.",
        ),
        ({"price_eur": Decimal("9.999")}, "price", "The price in euros must be between 0"),
        ({"price_eur": Decimal("10000000.01")}, "price", "The price in euros must be between"),
        ({"price_rub": Decimal("NaN")}, "price", "The price in roubles must be between 0"),
        ({"vat_rate": Decimal("100")}, "vat_rate", "The VAT rate must be between 0 and 99.99"),
        ({"vat_rate": Decimal("-1")}, "vat_rate", "The VAT rate must be between 0 and 99.99"),
        ({"vat_rate": Decimal("20.125")}, "vat_rate", "The VAT rate must be between 0"),
        (
            {"effective_at": NOW - timedelta(seconds=1)},
            "effective_at",
            "The effective date is in the past",
        ),
    ],
)
def test_an_edition_breaking_a_rule_is_refused_and_nothing_is_written(overrides, code, message):
    plan = venue_plan()
    before = (audit_rows(), PlanEdition.objects.count())
    with pytest.raises(PlanEditionError) as refused:
        publish(plan, **overrides)
    assert refused.value.code == code
    assert message in refused.value.message
    assert (audit_rows(), PlanEdition.objects.count()) == before


def test_a_published_version_is_refused_with_its_own_error():
    plan = venue_plan()
    publish(plan, version="1")
    with pytest.raises(PlanEditionError) as refused:
        publish(plan, version="1", effective_at=NOW + timedelta(days=1), price_rub=Decimal(1))
    assert (refused.value.code, refused.value.message) == (
        "version_taken",
        "Version 1 of the plan venue is already published, and a published edition can never "
        "be changed. Publish the change as a new version.",
    )
    assert PlanEdition.objects.count() == 1


def test_an_edition_whose_content_hash_is_already_published_is_refused():
    """The hash names plan and version, so only a row put in behind the services' back can
    hold it already; the service still refuses rather than fail on the unique constraint."""
    plan = venue_plan()
    taken = editions.plan_edition_content_hash(
        plan_code="venue",
        plan_kind=PlanKind.VENUE,
        **{**edition_fields(version="2"), "effective_at": NOW + timedelta(days=1)},
    )
    other = venue_plan(code="other")
    PlanEdition.objects.create(
        plan=other,
        version="x",
        **{
            k: v
            for k, v in edition_fields().items()
            if k not in {"version", "effective_at", "price_rub", "price_eur", "vat_rate"}
        },
        price_rub=Decimal("1500.00"),
        price_eur=Decimal("15.00"),
        vat_rate=Decimal("20.00"),
        content_hash=taken,
        effective_at=NOW,
        published_at=NOW,
    )
    before = audit_rows()
    with pytest.raises(PlanEditionError) as refused:
        publish(plan, version="2", effective_at=NOW + timedelta(days=1))
    assert (refused.value.code, refused.value.message) == (
        "hash_taken",
        "An edition with exactly this content is already published.",
    )
    assert (plan.editions.count(), audit_rows()) == (0, before)


def test_a_new_edition_takes_effect_after_the_latest_one_and_may_be_scheduled():
    plan = venue_plan()
    first = publish(plan, version="1")
    with pytest.raises(PlanEditionError) as refused:
        publish(plan, version="2", effective_at=NOW)
    assert refused.value.code == "effective_at"
    assert refused.value.message == (
        "The effective date must be later than that of the latest edition (2026-12-04 09:00 UTC)."
    )
    later = NOW + timedelta(days=7)
    second = publish(plan, version="2", effective_at=later, price_rub=Decimal("1700"))
    assert (second.effective_at, second.published_at) == (later, NOW)
    assert editions.current_plan_editions() == [first]
    with clock.frozen_at(later):
        assert editions.current_plan_editions() == [second]
        assert editions.plan_edition_on_sale(edition_id=first.pk) is None
        assert editions.plan_edition_on_sale(edition_id=second.pk) == second
    assert editions.plan_edition_by_id(edition_id=first.pk) == first


def test_the_editions_on_sale_are_each_offered_plans_newest_in_effect_by_position(
    django_assert_num_queries,
):
    venue = venue_plan(position=2)
    creator = editions.plan_create(actor=None, code="creator", kind=PlanKind.CREATOR, position=1)
    withdrawn = venue_plan(code="old-venue", position=0)
    editions.plan_create(actor=None, code="empty", kind=PlanKind.BUSINESS, position=0)
    with clock.frozen_at(NOW - timedelta(days=2)):
        publish(venue, version="1")
        creator_first = editions.plan_edition_publish(
            actor=None,
            plan=creator,
            **edition_fields(
                uses=[Use.ONLINE_VIDEO],
                territory=Territory.WORLDWIDE,
                quantity_unit=QuantityUnit.LICENCE,
                max_quantity=1,
            ),
        )
        publish(withdrawn)
    venue_now = publish(venue, version="2")
    publish(venue, version="3", effective_at=NOW + timedelta(hours=1))
    editions.plan_withdraw(actor=None, plan=withdrawn)
    with django_assert_num_queries(1):
        on_sale = editions.current_plan_editions()
    assert on_sale == [creator_first, venue_now]
    assert on_sale[1].plan.code == "venue"
    assert editions.current_plan_edition(code="venue") == venue_now
    assert editions.current_plan_edition(code="old-venue") is None
    assert editions.current_plan_edition(code="empty") is None


def test_publishing_the_licence_terms_and_the_terms_in_force():
    assert editions.current_terms_edition() is None
    first = editions.terms_edition_publish(actor=None, **terms_fields(body_en="Us and you.\r\n"))
    assert (first.body_en, first.effective_at, first.published_by_id) == ("Us and you.", NOW, None)
    assert editions.terms_edition_hash_matches(edition=first)
    later = NOW + timedelta(days=30)
    second = editions.terms_edition_publish(
        actor=None, **terms_fields(version="2", effective_at=later)
    )
    assert editions.current_terms_edition() == first
    with clock.frozen_at(later):
        assert editions.current_terms_edition() == second
    assert editions.terms_edition_by_version(version="2") == second
    assert audit_rows() == [
        (
            None,
            "licence_terms.edition_published",
            "licensing.LicenceTermsEdition",
            str(edition.pk),
            {},
            {
                "version": edition.version,
                "effective_at": edition.effective_at.isoformat(),
                "content_hash": edition.content_hash,
            },
        )
        for edition in (first, second)
    ]


@pytest.mark.parametrize(
    ("overrides", "code", "message"),
    [
        ({"version": "1"}, "version_taken", "Version 1 of the licence terms is already published"),
        ({"version": "a b"}, "version_format", "A version has 1 to 32 letters"),
        ({"title_ru": ""}, "title", "The Russian title is empty."),
        ({"body_en": "  "}, "text", "The English text is empty."),
        ({"effective_at": NOW - timedelta(days=1)}, "effective_at", "is in the past"),
        ({"effective_at": NOW}, "effective_at", "must be later than that of the latest edition"),
    ],
)
def test_a_terms_edition_breaking_a_rule_is_refused_and_nothing_is_written(
    overrides, code, message
):
    editions.terms_edition_publish(actor=None, **terms_fields())
    before = (audit_rows(), LicenceTermsEdition.objects.count())
    with pytest.raises(TermsEditionError) as refused:
        editions.terms_edition_publish(actor=None, **terms_fields(**{"version": "2", **overrides}))
    assert refused.value.code == code
    assert message in refused.value.message
    assert (audit_rows(), LicenceTermsEdition.objects.count()) == before


def test_a_terms_edition_whose_hash_is_taken_is_refused():
    taken = editions.terms_edition_content_hash(
        **{**terms_fields(version="2"), "effective_at": NOW}
    )
    LicenceTermsEdition.objects.create(
        **{**terms_fields(version="x"), "effective_at": NOW - timedelta(days=1)},
        content_hash=taken,
        published_at=NOW,
    )
    with pytest.raises(TermsEditionError) as refused:
        editions.terms_edition_publish(actor=None, **terms_fields(version="2"))
    assert refused.value.code == "hash_taken"
    assert LicenceTermsEdition.objects.count() == 1


def test_creating_a_plan_and_its_refusals():
    plan = editions.plan_create(actor=None, code="creator", kind=PlanKind.CREATOR, position=1)
    assert (plan.code, plan.kind, plan.position, plan.is_offered) == ("creator", "creator", 1, True)
    assert audit_rows() == [
        (
            None,
            "plan.created",
            "licensing.Plan",
            str(plan.pk),
            {},
            {"code": "creator", "kind": "creator", "position": 1},
        )
    ]
    for code, kind, position, error in [
        ("creator", PlanKind.CREATOR, 0, "code_taken"),
        ("Creator", PlanKind.CREATOR, 0, "code_format"),
        ("a_b", PlanKind.CREATOR, 0, "code_format"),
        ("x" * 41, PlanKind.CREATOR, 0, "code_format"),
        ("new", "dj", 0, "kind"),
        ("new", PlanKind.VENUE, 40000, "position"),
    ]:
        with pytest.raises(PlanError) as refused:
            editions.plan_create(actor=None, code=code, kind=kind, position=position)
        assert refused.value.code == error
    assert (Plan.objects.count(), len(audit_rows())) == (1, 1)


def test_withdrawing_a_plan_takes_it_off_sale_and_offering_it_puts_it_back():
    plan = venue_plan()
    edition = publish(plan)
    withdrawn = editions.plan_withdraw(actor=None, plan=plan)
    assert withdrawn.is_offered is False
    assert Plan.objects.get(pk=plan.pk).is_offered is False
    assert editions.current_plan_editions() == []
    assert editions.plan_edition_on_sale(edition_id=edition.pk) is None
    with pytest.raises(PlanError) as refused:
        editions.plan_withdraw(actor=None, plan=plan)
    assert refused.value.message == "The plan venue is already withdrawn from sale."
    editions.plan_offer(actor=None, plan=plan)
    assert editions.current_plan_editions() == [edition]
    with pytest.raises(PlanError) as refused:
        editions.plan_offer(actor=None, plan=plan)
    assert refused.value.message == "The plan venue is already on sale."
    assert [row[1:] for row in audit_rows()[-2:]] == [
        (
            "plan.withdrawn",
            "licensing.Plan",
            str(plan.pk),
            {"is_offered": True},
            {"is_offered": False},
        ),
        (
            "plan.offered",
            "licensing.Plan",
            str(plan.pk),
            {"is_offered": False},
            {"is_offered": True},
        ),
    ]


@pytest.mark.parametrize("kind", list(PlanKind))
def test_every_kind_of_plan_can_publish_an_edition_under_its_own_rule(kind):
    rule = editions.KIND_RULES[kind]
    plan = editions.plan_create(actor=None, code=f"k-{kind}".replace("_", "-"), kind=kind)
    edition = editions.plan_edition_publish(
        actor=None,
        plan=plan,
        **edition_fields(
            uses=list(rule.uses),
            scope=rule.scope,
            term=rule.term,
            quantity_unit=rule.quantity_unit,
            max_quantity=1,
        ),
    )
    assert edition.uses == sorted(rule.uses)
    assert editions.plan_edition_hash_matches(edition=edition)
