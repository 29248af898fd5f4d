"""The staff masters page: list with live progress, upload, retry. Thin: parse, call, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from backgroundmusic.accounts.models import User
from backgroundmusic.core.errors import DomainError
from backgroundmusic.media import selectors, services
from backgroundmusic.media.staff_forms import MasterUploadForm
from backgroundmusic.staffroles.selectors import staff_may_manage_catalogue

PAGE_SIZE = 50


def _manager(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User) or not staff_may_manage_catalogue(actor=user):
        raise PermissionDenied
    return user


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def masters(request: HttpRequest) -> HttpResponse:
    actor = _manager(request)
    form = MasterUploadForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    if request.method == "POST" and form.is_valid():
        title = form.cleaned_data["title"].strip()
        try:
            master = services.master_upload(
                source=form.cleaned_data["file"],
                actor=actor,
                track=form.cleaned_data["track"],
                new_track={"title": title} if title else None,
            )
        except DomainError as error:
            form.add_error("file", error.message)
        else:
            messages.success(
                request,
                _("«%(title)s» is uploaded; processing starts shortly.")
                % {"title": master.track.title if master.track else master.source_name},
            )
            return redirect("media_staff:masters")
    listed = selectors.masters_for_staff(actor=actor)
    page = Paginator(listed, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "in_progress": any(m.status in ("uploaded", "processing") for m in page.object_list),
    }
    if request.GET.get("fragment") == "table":
        return render(request, "media/staff/_masters_table.html", context)
    status = 400 if request.method == "POST" else 200
    return render(request, "media/staff/masters.html", context, status=status)


@login_required
@require_POST
def master_retry(request: HttpRequest, master_id: int) -> HttpResponse:
    actor = _manager(request)
    try:
        services.master_retry(actor=actor, master_id=master_id)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Processing is queued again."))
    return redirect("media_staff:masters")
