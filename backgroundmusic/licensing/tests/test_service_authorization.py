"""The plan services check their actor themselves, whoever calls them: every caller kind calls
each one directly. The licensing manager gets the exact result and its audit row; every other
caller gets ActionRefused, one `service.denied` row naming it and the service, and nothing else
changes."""

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from backgroundmusic.audit.models import AuditEvent
from backgroundmusic.audit.tests.refusals import service_denial, service_denials
from backgroundmusic.core import clock
from backgroundmusic.core.errors import ActionRefused
from backgroundmusic.licensing import editions
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
from backgroundmusic.staffroles.selectors import (
    staff_may_manage_agreements,
    staff_may_manage_orders,
    staff_may_manage_plans,
)
from tests.callers import expected_by_caller

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
MAY_MANAGE = expected_by_caller({"licensing_manager"}, allowed_outcome=True, refused_outcome=False)


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen_at(NOW):
        yield


@pytest.fixture
def plan() -> Plan:
    return editions.plan_create(actor=None, code="creator", kind=PlanKind.CREATOR)


def acting(caller_for: Callable[..., Any], kind: str) -> Any:
    """The actor a page would pass: the signed-in user, or AnonymousUser."""
    user = caller_for(kind).user
    return AnonymousUser() if user is None else user


def state() -> tuple[Any, ...]:
    return (
        list(Plan.objects.order_by("pk").values_list("code", "kind", "position", "is_offered")),
        list(PlanEdition.objects.values_list("pk", flat=True)),
        list(LicenceTermsEdition.objects.values_list("pk", flat=True)),
        list(AuditEvent.objects.exclude(action="service.denied").values_list("pk", flat=True)),
    )


def plans_refused(actor: Any, service: str) -> list[tuple[Any, ...]]:
    return [service_denial(actor, service=f"licensing.{service}", permission=PERMISSION)]


PERMISSION = "staff_may_manage_plans"


def last_audit() -> tuple[Any, ...]:
    row = AuditEvent.objects.order_by("-pk").first()
    assert row is not None
    return (row.actor_id, row.action, row.target_type, row.target_id)


CALLS: dict[str, Callable[..., Any]] = {
    "plan_create": lambda actor, plan: editions.plan_create(
        actor=actor, code="venue", kind=PlanKind.VENUE, position=2
    ),
    "plan_edition_publish": lambda actor, plan: editions.plan_edition_publish(
        actor=actor,
        plan=plan,
        version="1",
        title_en="Creator subscription",
        title_ru="Подписка для авторов",
        description_en="Videos and podcasts.",
        description_ru="Видео и подкасты.",
        uses=[Use.ONLINE_VIDEO, Use.PODCAST],
        territory=Territory.WORLDWIDE,
        scope=Scope.CATALOGUE,
        term=Term.MONTHLY,
        quantity_unit=QuantityUnit.LICENCE,
        min_quantity=1,
        max_quantity=1,
        price_rub=Decimal("990.00"),
        price_eur=Decimal("10.00"),
        vat_rate=Decimal("20.00"),
        effective_at=None,
    ),
    "terms_edition_publish": lambda actor, plan: editions.terms_edition_publish(
        actor=actor,
        version="1",
        title_en="Licence terms",
        title_ru="Условия лицензии",
        body_en="Terms.",
        body_ru="Условия.",
        effective_at=None,
    ),
    "plan_withdraw": lambda actor, plan: editions.plan_withdraw(actor=actor, plan=plan),
}
AUDITED = {
    "plan_create": ("plan.created", "licensing.Plan"),
    "plan_edition_publish": ("plan.edition_published", "licensing.PlanEdition"),
    "terms_edition_publish": ("licence_terms.edition_published", "licensing.LicenceTermsEdition"),
    "plan_withdraw": ("plan.withdrawn", "licensing.Plan"),
}


@pytest.mark.parametrize("service", sorted(CALLS))
@pytest.mark.parametrize(("kind", "allowed"), MAY_MANAGE.items())
def test_only_a_licensing_manager_manages_plans(kind, allowed, service, caller_for, plan):
    actor = acting(caller_for, kind)
    before = state()
    if not allowed:
        with pytest.raises(ActionRefused) as refused:
            CALLS[service](actor, plan)
        assert refused.value.message == "You may not manage plans and licence terms."
        assert state() == before
        assert service_denials() == plans_refused(actor, service)
        return
    made = CALLS[service](actor, plan)
    assert last_audit() == (actor.pk, *AUDITED[service], str(made.pk))
    assert service_denials() == []
    if service in {"plan_edition_publish", "terms_edition_publish"}:
        assert made.published_by_id == actor.pk


@pytest.mark.parametrize(("kind", "allowed"), MAY_MANAGE.items())
def test_only_a_licensing_manager_offers_a_withdrawn_plan_again(kind, allowed, caller_for, plan):
    editions.plan_withdraw(actor=None, plan=plan)
    actor = acting(caller_for, kind)
    before = state()
    if not allowed:
        with pytest.raises(ActionRefused):
            editions.plan_offer(actor=actor, plan=plan)
        assert state() == before
        assert service_denials() == plans_refused(actor, "plan_offer")
        return
    editions.plan_offer(actor=actor, plan=plan)
    assert Plan.objects.get(pk=plan.pk).is_offered is True
    assert last_audit() == (actor.pk, "plan.offered", "licensing.Plan", str(plan.pk))
    assert service_denials() == []


@pytest.mark.parametrize(("kind", "allowed"), MAY_MANAGE.items())
def test_the_licensing_predicates_answer_yes_for_the_licensing_manager_only(
    kind, allowed, caller_for
):
    actor = acting(caller_for, kind)
    assert staff_may_manage_plans(actor=actor) is allowed
    assert staff_may_manage_orders(actor=actor) is allowed
    assert staff_may_manage_agreements(actor=actor) is allowed
