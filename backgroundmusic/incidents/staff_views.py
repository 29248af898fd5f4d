"""/staff/incidents/: the breach register. Staff who may manage incidents list them with their
clocks, open one, see who it affects, change the notices' drafts, record the notices sent to the
authorities and send the letters to the people.

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
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from backgroundmusic.core.errors import DomainError
from backgroundmusic.incidents import selectors, services
from backgroundmusic.incidents.models import Incident, LetterStatus, Notice, NoticeKind
from backgroundmusic.incidents.people import category_labels, model_label_text
from backgroundmusic.incidents.staff_forms import IncidentForm, NoticeForm, NoticeSentForm
from backgroundmusic.privacy.calendar import CONTROLLER_TIME_ZONE
from backgroundmusic.staffroles.selectors import staff_may_manage_incidents

PAGE_SIZE = 50


def _require_manager(request: HttpRequest) -> None:
    if not staff_may_manage_incidents(actor=request.user):
        raise PermissionDenied


def _incident(request: HttpRequest, pk: int) -> Incident:
    found = selectors.incident_for_staff(actor=request.user, incident_id=pk)
    if found is None:
        raise Http404(_("There is no incident with this number."))
    return found


def _notice(incident: Incident, kind: str) -> Notice:
    for notice in incident.notices.all():
        if notice.kind == kind:
            return notice
    raise Http404(_("There is no such notice."))


def _incident_url(incident: Incident) -> str:
    return reverse("incidents_staff:incident", args=[incident.pk])


@login_required
@never_cache
@require_GET
def staff_incidents(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    page = Paginator(selectors.incidents_for_staff(actor=request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "incidents/staff/incidents.html",
        {
            "page": page,
            "rows": selectors.incidents_with_clocks(page.object_list),
        },
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def staff_incident_new(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    form = IncidentForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            incident = services.incident_open(actor=request.user, facts=form.facts())
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                _("The incident is recorded and its clocks are running. Check the drafts."),
            )
            return HttpResponseRedirect(_incident_url(incident))
    return render(
        request,
        "incidents/staff/incident_form.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


def _incident_page(
    request: HttpRequest, incident: Incident, sent_forms: dict[str, Any], status: int = 200
) -> HttpResponse:
    clocks = {ticking.kind: ticking for ticking in selectors.incident_clocks(incident=incident)}
    notices = []
    for notice in incident.notices.all():
        ticking = clocks.get(NoticeKind(notice.kind))
        recordable = (
            ticking is not None
            and notice.sent_at is None
            and ticking.state != selectors.ClockState.NOT_APPLICABLE
        )
        notices.append(
            {
                "notice": notice,
                "clock": ticking,
                "sent_form": (
                    sent_forms.get(notice.kind) or NoticeSentForm(prefix=notice.kind)
                    if recordable
                    else None
                ),
            }
        )
    letter_counts = [
        (label, getattr(incident, f"letters_{status}")) for status, label in LetterStatus.choices
    ]
    return render(
        request,
        "incidents/staff/incident.html",
        {
            "incident": incident,
            "clocks": list(clocks.values()),
            "notices": notices,
            "categories": category_labels(incident.computed_categories),
            "models": [model_label_text(label) for label in incident.affected_models],
            "unlinked": [model_label_text(label) for label in incident.unlinked_models],
            "letter_counts": letter_counts,
            "time_zone": CONTROLLER_TIME_ZONE.key,
        },
        status=status,
    )


@login_required
@never_cache
@require_GET
def staff_incident(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    return _incident_page(request, _incident(request, pk), {})


@login_required
@require_POST
def staff_incident_compute(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    incident = _incident(request, pk)
    services.incident_people_compute(actor=request.user, incident=incident)
    messages.success(request, _("The people affected are computed again from the data map."))
    return HttpResponseRedirect(_incident_url(incident))


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def staff_notice_edit(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    _require_manager(request)
    incident = _incident(request, pk)
    notice = _notice(incident, kind)
    if notice.sent_at is not None:
        messages.error(request, _("This notice was sent; it can no longer change."))
        return HttpResponseRedirect(_incident_url(incident))
    if request.method == "POST":
        form = NoticeForm(request.POST)
        if form.is_valid():
            try:
                services.notice_draft_update(actor=request.user, notice=notice, text=form.text())
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("The draft is saved."))
                return HttpResponseRedirect(_incident_url(incident) + f"#notice-{notice.kind}")
    else:
        form = NoticeForm(
            initial={
                "subject_en": notice.subject_en,
                "text_en": notice.text_en,
                "subject_ru": notice.subject_ru,
                "text_ru": notice.text_ru,
            }
        )
    return render(
        request,
        "incidents/staff/notice_form.html",
        {"form": form, "incident": incident, "notice": notice},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def staff_notice_sent(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    _require_manager(request)
    incident = _incident(request, pk)
    notice = _notice(incident, kind)
    form = NoticeSentForm(request.POST, prefix=kind)
    if form.is_valid():
        try:
            services.notice_record_sent(
                actor=request.user,
                notice=notice,
                sent_at=form.cleaned_data["sent_at"],
                reference=form.cleaned_data["reference"],
            )
        except DomainError as error:
            if error.code not in ("in_future", "before_detection", "too_long", "not_one_line"):
                messages.error(request, error.message)
                return HttpResponseRedirect(_incident_url(incident))
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The notice is recorded as sent; its clock is met."))
            return HttpResponseRedirect(_incident_url(incident) + f"#notice-{notice.kind}")
    return _incident_page(request, incident, {kind: form}, status=400)


@login_required
@require_POST
def staff_letters_send(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    incident = _incident(request, pk)
    try:
        queued = services.letters_send(actor=request.user, incident=incident)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            ngettext(
                "%(count)s letter is queued; it goes to a verified address only.",
                "%(count)s letters are queued; each goes to a verified address only.",
                queued,
            )
            % {"count": queued},
        )
    return HttpResponseRedirect(_incident_url(incident) + f"#notice-{NoticeKind.PEOPLE}")
