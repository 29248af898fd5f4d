"""/staff/licensing/plans/: licensing managers list the plans with their editions, publish new
editions of a plan and of the licence terms, create plans, and withdraw a plan from sale or offer
it again.

Thin: the predicate answers 403 before a form is shown; the services check the actor again.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from backgroundmusic.core import clock
from backgroundmusic.core.errors import DomainError
from backgroundmusic.core.markdown import markdown_html
from backgroundmusic.licensing import editions
from backgroundmusic.licensing.models import LicenceTermsEdition, Plan, PlanEdition, PlanKind
from backgroundmusic.licensing.staff_forms import PlanEditionForm, PlanForm, TermsEditionForm
from backgroundmusic.licensing.views.pricing import edition_prices, price_unit
from backgroundmusic.staffroles.selectors import staff_may_manage_plans

LIST_URL = "licensing_staff:plans"


def _require_manager(request: HttpRequest) -> None:
    if not staff_may_manage_plans(actor=request.user):
        raise PermissionDenied


def _status(
    edition: PlanEdition | LicenceTermsEdition, current_pk: int | None, now: datetime
) -> str:
    if edition.pk == current_pk:
        return "current"
    return "upcoming" if edition.effective_at > now else "superseded"


def _in_force(rows: Sequence[PlanEdition | LicenceTermsEdition], now: datetime) -> int | None:
    """The pk of the newest row in effect at `now`, of rows ordered newest first."""
    return next((row.pk for row in rows if row.effective_at <= now), None)


@login_required
@never_cache
@require_GET
def staff_plans(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    now = clock.now()
    plans = []
    for plan in editions.plans_with_editions():
        newest_first = list(plan.editions.all())
        current = _in_force(newest_first, now)
        plans.append(
            {
                "plan": plan,
                "editions": [(edition, _status(edition, current, now)) for edition in newest_first],
            }
        )
    terms = list(editions.terms_editions())
    current_terms = _in_force(terms, now)
    return render(
        request,
        "licensing/staff/plans.html",
        {
            "plans": plans,
            "terms": [(edition, _status(edition, current_terms, now)) for edition in terms],
        },
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def staff_plan_new(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    if request.method == "POST":
        form = PlanForm(request.POST)
        if form.is_valid():
            try:
                plan = editions.plan_create(actor=request.user, **form.cleaned_data)
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(
                    request,
                    _("The plan %(code)s is created; publish its first edition.")
                    % {"code": plan.code},
                )
                return HttpResponseRedirect(
                    reverse("licensing_staff:plan_edition_new", args=[plan.code])
                )
    else:
        form = PlanForm()
    return render(
        request,
        "licensing/staff/plan_form.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


def _preview_edition(plan: Plan, data: dict[str, Any]) -> PlanEdition:
    """An unsaved edition holding the form's prices, for the price preview."""
    return PlanEdition(
        plan=plan,
        price_rub=data["price_rub"],
        price_eur=data["price_eur"],
        vat_rate=data["vat_rate"],
        term=editions.KIND_RULES[plan.kind].term,
        quantity_unit=editions.KIND_RULES[plan.kind].quantity_unit,
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def staff_plan_edition_new(request: HttpRequest, code: str) -> HttpResponse:
    """A new edition of a plan, started from a copy of the edition in force (else the newest),
    with a preview of the price with VAT."""
    _require_manager(request)
    plan = get_object_or_404(Plan, code=code)
    rule = editions.KIND_RULES[plan.kind]
    preview = None
    if request.method == "POST":
        form = PlanEditionForm(request.POST, kind=plan.kind)
        if form.is_valid():
            data = form.cleaned_data
            if request.POST.get("action") == "publish":
                try:
                    edition = editions.plan_edition_publish(
                        actor=request.user,
                        plan=plan,
                        scope=rule.scope,
                        term=rule.term,
                        quantity_unit=rule.quantity_unit,
                        **data,
                    )
                except DomainError as error:
                    form.add_error(None, error.message)
                else:
                    messages.success(
                        request,
                        _(
                            "Version %(version)s of the plan %(code)s is published; it can no "
                            "longer be changed."
                        )
                        % {"version": edition.version, "code": plan.code},
                    )
                    return HttpResponseRedirect(reverse(LIST_URL) + f"#plan-{plan.code}")
            else:
                edition = _preview_edition(plan, data)
                preview = {
                    "prices": edition_prices(edition, language=get_language()),
                    "unit": price_unit(edition),
                    "vat_rate": data["vat_rate"],
                    "en": markdown_html(data["description_en"]),
                    "ru": markdown_html(data["description_ru"]),
                }
    else:
        now = clock.now()
        newest = list(plan.editions.order_by("-effective_at", "-pk"))
        start = next((e for e in newest if e.effective_at <= now), None) or next(iter(newest), None)
        initial = PlanEditionForm.initial_from(start) if start else {"uses": list(rule.uses)}
        form = PlanEditionForm(initial=initial, kind=plan.kind)
    return render(
        request,
        "licensing/staff/plan_edition_form.html",
        {
            "form": form,
            "plan": plan,
            "kind": PlanKind(plan.kind).label,
            "rule": rule,
            "preview": preview,
        },
        status=400 if form.errors else 200,
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def staff_terms_edition_new(request: HttpRequest) -> HttpResponse:
    """A new edition of the licence terms, started from the text in force, with a preview."""
    _require_manager(request)
    preview = None
    if request.method == "POST":
        form = TermsEditionForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            if request.POST.get("action") == "publish":
                try:
                    edition = editions.terms_edition_publish(actor=request.user, **data)
                except DomainError as error:
                    form.add_error(None, error.message)
                else:
                    messages.success(
                        request,
                        _(
                            "Version %(version)s of the licence terms is published; it can no "
                            "longer be changed."
                        )
                        % {"version": edition.version},
                    )
                    return HttpResponseRedirect(reverse(LIST_URL) + "#terms")
            else:
                preview = {
                    "en": markdown_html(data["body_en"]),
                    "ru": markdown_html(data["body_ru"]),
                }
    else:
        current = editions.current_terms_edition()
        initial = (
            {
                "title_en": current.title_en,
                "title_ru": current.title_ru,
                "body_en": current.body_en,
                "body_ru": current.body_ru,
            }
            if current
            else None
        )
        form = TermsEditionForm(initial=initial)
    return render(
        request,
        "licensing/staff/plan_terms_form.html",
        {"form": form, "preview": preview},
        status=400 if form.errors else 200,
    )


def _offer_change(request: HttpRequest, code: str, *, offered: bool) -> HttpResponse:
    _require_manager(request)
    plan = get_object_or_404(Plan, code=code)
    try:
        if offered:
            editions.plan_offer(actor=request.user, plan=plan)
            messages.success(request, _("The plan %(code)s is on sale again.") % {"code": code})
        else:
            editions.plan_withdraw(actor=request.user, plan=plan)
            messages.success(
                request,
                _(
                    "The plan %(code)s is withdrawn from sale. Licences concluded under it "
                    "stay as they are."
                )
                % {"code": code},
            )
    except DomainError as error:
        messages.error(request, error.message)
    return HttpResponseRedirect(reverse(LIST_URL) + f"#plan-{code}")


@login_required
@require_POST
def staff_plan_withdraw(request: HttpRequest, code: str) -> HttpResponse:
    return _offer_change(request, code, offered=False)


@login_required
@require_POST
def staff_plan_offer(request: HttpRequest, code: str) -> HttpResponse:
    return _offer_change(request, code, offered=True)
