"""Staff pages: find a person, read their data with a logged reason, read the access log and
the audit trail of staff actions."""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from backgroundmusic.accounts import staff
from backgroundmusic.accounts.models import User
from backgroundmusic.accounts.staff_forms import AccessReasonForm, AuditFilterForm, PeopleSearchForm
from backgroundmusic.privacy.kernel.access_log import access_log_entries
from backgroundmusic.staffroles.selectors import (
    staff_may_verify_access_log,
    staff_may_view_access_log,
    staff_may_view_audit_log,
    staff_may_view_people,
)

PAGE_SIZE = 50


def _actor(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user


@login_required
@never_cache
@require_http_methods(["GET"])
def people_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    if not staff_may_view_people(actor=actor):
        raise PermissionDenied
    form = PeopleSearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    people = staff.staff_people_search(actor=actor, query=query)
    page = Paginator(people, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "staff/people_list.html",
        {
            "form": form,
            "query": query,
            "page": page,
        },
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def person_detail(request: HttpRequest, user_id: int) -> HttpResponse:
    actor = _actor(request)
    if not staff_may_view_people(actor=actor):
        raise PermissionDenied
    person = staff.staff_person_summary(actor=actor, subject_id=user_id)
    if person is None:
        raise Http404
    form = AccessReasonForm(request.POST if request.method == "POST" else None)
    reading = None
    if request.method == "POST" and form.is_valid():
        reading = staff.staff_person_read(
            actor=actor, subject_id=person.pk, reason=form.cleaned_data["reason"]
        )
        if reading is None:
            raise Http404
    return render(
        request,
        "staff/person_detail.html",
        {
            "person": person,
            "form": form,
            "reading": reading,
        },
    )


@login_required
@never_cache
@require_http_methods(["GET"])
def access_log(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    if not staff_may_view_access_log(actor=actor):
        raise PermissionDenied
    page = Paginator(access_log_entries(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "staff/access_log.html",
        {"page": page, "may_verify": staff_may_verify_access_log(actor=actor)},
    )


@login_required
@never_cache
@require_http_methods(["POST"])
def access_log_verify(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    if not staff_may_verify_access_log(actor=actor):
        raise PermissionDenied
    report = staff.staff_access_log_verify(actor=actor)
    page = Paginator(access_log_entries(), PAGE_SIZE).get_page(1)
    return render(
        request, "staff/access_log.html", {"page": page, "may_verify": True, "report": report}
    )


@login_required
@never_cache
@require_http_methods(["GET"])
def audit_log(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    if not staff_may_view_audit_log(actor=actor):
        raise PermissionDenied
    staff_labels = staff.staff_actor_labels()
    # A link from before a role was taken away (or the account deleted) still filters by it.
    asked = request.GET.get("actor", "")
    asked_id = int(asked) if asked.isascii() and asked.isdecimal() and len(asked) < 10 else 0
    if asked_id and asked_id not in staff_labels:
        staff_labels |= staff.staff_actor_labels(user_ids=[asked_id])
    form = AuditFilterForm(request.GET, staff_labels=staff_labels)
    page = None
    filters = ""
    if form.is_valid():
        action = form.cleaned_data["action"]
        actor_id = form.cleaned_data["actor"]
        events = staff.staff_audit_log_read(actor=actor, action=action, actor_id=actor_id)
        page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
        filters = urlencode(
            {"action": action, "actor": "" if actor_id is None else actor_id}, doseq=False
        )
    return render(
        request,
        "staff/audit_log.html",
        {"form": form, "page": page, "filters": filters, "staff_actor_labels": staff_labels},
    )
