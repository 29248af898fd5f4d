"""/staff/mailing/: newsletter editors list campaigns, write and change drafts in both
languages, preview them, send a test to themselves, schedule and cancel.

Thin: the predicate answers 403 before a form is shown; the services and staff selectors check
the actor again and write the audit rows."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from backgroundmusic.core.errors import DomainError
from backgroundmusic.core.http import AuthenticatedRequest
from backgroundmusic.mailing import rendering, services, staff_selectors
from backgroundmusic.mailing.models import Campaign, CampaignStatus
from backgroundmusic.mailing.staff_forms import CampaignForm, ScheduleForm, TestSendForm
from backgroundmusic.staffroles.selectors import staff_may_manage_campaigns

PAGE_SIZE = 50
CANCELLABLE = {CampaignStatus.DRAFT, CampaignStatus.SCHEDULED, CampaignStatus.SENDING}
TESTABLE = {CampaignStatus.DRAFT, CampaignStatus.SCHEDULED}


def _require_editor(request: HttpRequest) -> None:
    if not staff_may_manage_campaigns(actor=request.user):
        raise PermissionDenied


def _campaign(request: HttpRequest, pk: int) -> Campaign:
    found = staff_selectors.campaign_for_staff(actor=request.user, campaign_id=pk)
    if found is None:
        raise Http404(_("There is no campaign with this number."))
    return found


def _campaign_url(campaign: Campaign) -> str:
    return reverse("mailing_staff:campaign", args=[campaign.pk])


def _in_language(code: str) -> str:
    return _("In English") if code == "en" else _("In Russian")


def _test_sent(code: str, address: str) -> str:
    if code == "en":
        return _("The test in English is on its way to %(address)s.") % {"address": address}
    return _("The test in Russian is on its way to %(address)s.") % {"address": address}


@login_required
@never_cache
@require_GET
def staff_campaigns(request: HttpRequest) -> HttpResponse:
    _require_editor(request)
    campaigns = staff_selectors.campaigns_for_staff(actor=request.user)
    page = Paginator(campaigns, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "mailing/staff/campaigns.html",
        {"page": page},
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def staff_campaign_new(request: HttpRequest) -> HttpResponse:
    _require_editor(request)
    form = CampaignForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.campaign_create(actor=request.user, text=form.text())
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request, _("The draft is saved. Preview it, send yourself a test, then schedule.")
            )
            return HttpResponseRedirect(_campaign_url(campaign))
    return render(
        request,
        "mailing/staff/campaign_form.html",
        {"form": form, "campaign": None},
        status=400 if form.errors else 200,
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def staff_campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require_editor(request)
    campaign = _campaign(request, pk)
    if campaign.status != CampaignStatus.DRAFT:
        messages.error(request, _("Only a draft can be changed."))
        return HttpResponseRedirect(_campaign_url(campaign))
    if request.method == "POST":
        form = CampaignForm(request.POST)
        if form.is_valid():
            try:
                services.campaign_update(actor=request.user, campaign=campaign, text=form.text())
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("The draft is saved."))
                return HttpResponseRedirect(_campaign_url(campaign))
    else:
        form = CampaignForm(
            initial={
                "subject_en": campaign.subject_en,
                "body_en": campaign.body_en,
                "subject_ru": campaign.subject_ru,
                "body_ru": campaign.body_ru,
            }
        )
    return render(
        request,
        "mailing/staff/campaign_form.html",
        {"form": form, "campaign": campaign},
        status=400 if form.errors else 200,
    )


def _campaign_page(
    request: HttpRequest, campaign: Campaign, forms: dict[str, Any], status: int = 200
) -> HttpResponse:
    waiting = campaign.status in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED)
    return render(
        request,
        "mailing/staff/campaign.html",
        {
            "campaign": campaign,
            "audience_now": (
                staff_selectors.audience_count(actor=request.user) if waiting else None
            ),
            "may_edit": campaign.status == CampaignStatus.DRAFT,
            "may_test": campaign.status in TESTABLE,
            "may_cancel": campaign.status in CANCELLABLE,
            "test_form": forms.get("test") or TestSendForm(prefix="test"),
            "schedule_form": forms.get("schedule") or ScheduleForm(prefix="schedule"),
        },
        status=status,
    )


@login_required
@never_cache
@require_GET
def staff_campaign(request: HttpRequest, pk: int) -> HttpResponse:
    _require_editor(request)
    return _campaign_page(request, _campaign(request, pk), {})


@login_required
@never_cache
@require_GET
def staff_campaign_preview(request: HttpRequest, pk: int) -> HttpResponse:
    _require_editor(request)
    campaign = _campaign(request, pk)
    previews = staff_selectors.campaign_previews(actor=request.user, campaign=campaign)
    return render(
        request,
        "mailing/staff/preview.html",
        {
            "campaign": campaign,
            "previews": [(preview, _in_language(preview.language)) for preview in previews],
        },
    )


@login_required
@require_POST
def staff_campaign_test_send(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    _require_editor(request)
    campaign = _campaign(request, pk)
    form = TestSendForm(request.POST, prefix="test")
    if not form.is_valid():
        return _campaign_page(request, campaign, {"test": form}, status=400)
    language = form.cleaned_data["language"]
    try:
        services.campaign_test_send(actor=request.user, campaign=campaign, language=language)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        address = rendering.verified_address(user_id=request.user.pk)
        messages.success(request, _test_sent(language, address))
    return HttpResponseRedirect(_campaign_url(campaign))


@login_required
@require_POST
def staff_campaign_schedule(request: HttpRequest, pk: int) -> HttpResponse:
    _require_editor(request)
    campaign = _campaign(request, pk)
    form = ScheduleForm(request.POST, prefix="schedule")
    if form.is_valid():
        try:
            campaign = services.campaign_schedule(
                actor=request.user, campaign=campaign, send_at=form.cleaned_data["send_at"]
            )
        except DomainError as error:
            if error.code != "in_the_past":
                # Not a draft any more (scheduled or cancelled meanwhile): the page says so.
                messages.error(request, error.message)
                return HttpResponseRedirect(_campaign_url(campaign))
            form.add_error("send_at", error.message)
        else:
            messages.success(request, _("The campaign is scheduled."))
            return HttpResponseRedirect(_campaign_url(campaign))
    return _campaign_page(request, campaign, {"schedule": form}, status=400)


@login_required
@require_POST
def staff_campaign_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    _require_editor(request)
    campaign = _campaign(request, pk)
    try:
        services.campaign_cancel(actor=request.user, campaign=campaign)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The campaign is cancelled. Messages already sent stay sent."))
    return HttpResponseRedirect(_campaign_url(campaign))
