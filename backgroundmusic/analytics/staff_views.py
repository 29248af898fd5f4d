"""The staff statistics pages. Thin: parse, ask the selectors and services, render."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from backgroundmusic.analytics import research as research_service
from backgroundmusic.analytics.models import ResearchExport
from backgroundmusic.analytics.selectors import Dashboard, Row, Table, chart_bars
from backgroundmusic.analytics.selectors import dashboard as figures
from backgroundmusic.analytics.staff_forms import PeriodForm, ResearchExportForm
from backgroundmusic.core.csv_export import CsvWriter
from backgroundmusic.core.errors import DomainError
from backgroundmusic.staffroles.selectors import staff_may_export_research, staff_may_view_analytics


def _viewer(request: HttpRequest) -> Any:
    if not staff_may_view_analytics(actor=request.user):  # type: ignore[arg-type]
        raise PermissionDenied
    return request.user


def _period(request: HttpRequest) -> tuple[PeriodForm, Dashboard | None]:
    start, end = PeriodForm.default_period()
    data = request.GET if "start" in request.GET or "end" in request.GET else None
    form = PeriodForm(data, initial={"start": start, "end": end})
    if data is None:
        return form, figures(start=start, end=end)
    if form.is_valid():
        return form, figures(start=form.cleaned_data["start"], end=form.cleaned_data["end"])
    return form, None


@login_required
@never_cache
@require_http_methods(["GET"])
def dashboard(request: HttpRequest) -> HttpResponse:
    _viewer(request)
    form, shown = _period(request)
    context = {
        "form": form,
        "figures": shown,
        "bars": chart_bars(shown) if shown else [],
        "query": request.GET.urlencode(),
    }
    return render(request, "analytics/dashboard.html", context, status=200 if shown else 400)


def _table_rows(name: str, table: Table, *, with_time: bool) -> list[list[Any]]:
    """The CSV lines of one table: its rows, then "other" (or "suppressed", without figures)."""
    shown: list[tuple[str, Row]] = [(row.label, row) for row in table.rows]
    if table.other is not None:
        shown.append(("other", table.other))
    lines: list[list[Any]] = []
    for label, row in shown:
        line: list[Any] = [name, label, row.page_views, row.visitors]
        lines.append([*line, round(row.engaged_ms / 1000)] if with_time else line)
    if table.suppressed and table.other is None:
        lines.append(
            [name, "suppressed", "", "", ""] if with_time else [name, "suppressed", "", ""]
        )
    return lines


@login_required
@never_cache
@require_http_methods(["GET"])
def dashboard_csv(request: HttpRequest) -> HttpResponse:
    _viewer(request)
    form, shown = _period(request)
    if shown is None:
        return HttpResponse(
            "; ".join(str(e) for errors in form.errors.values() for e in errors),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="statistics-{shown.start}-{shown.end}.csv"'
    )
    writer = CsvWriter(response)
    writer.writerow(["table", "row", "page_views", "visitors", "engaged_seconds"])
    for name, table, with_time in (
        ("day", shown.daily, True),
        ("page", shown.pages, True),
        ("referrer", shown.referrers, False),
        ("device", shown.devices, False),
        ("browser", shown.browsers, False),
    ):
        writer.writerows(_table_rows(name, table, with_time=with_time))
    return response


def _research_officer(request: HttpRequest) -> Any:
    if not staff_may_export_research(actor=request.user):  # type: ignore[arg-type]
        raise PermissionDenied
    return request.user


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def research(request: HttpRequest) -> HttpResponse:
    officer = _research_officer(request)
    start, end = PeriodForm.default_period()
    form = ResearchExportForm(
        request.POST if request.method == "POST" else None, initial={"start": start, "end": end}
    )
    if request.method == "POST" and form.is_valid():
        try:
            export = research_service.research_export_create(
                actor=officer,
                recipient=form.cleaned_data["recipient"],
                start=form.cleaned_data["start"],
                end=form.cleaned_data["end"],
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                ngettext(
                    "Released %(cells)d cell about %(people)d people to %(partner)s; "
                    "each of them sees it in their privacy center.",
                    "Released %(cells)d cells about %(people)d people to %(partner)s; "
                    "each of them sees it in their privacy center.",
                    export.cells_released,
                )
                % {
                    "cells": export.cells_released,
                    "people": export.subjects,
                    "partner": export.recipient.name,
                },
            )
            return redirect("analytics_staff:research")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "analytics/research.html",
        {
            "form": form,
            "exports": research_service.research_exports(),
            "min_subjects": research_service.MIN_SUBJECTS,
        },
        status=status,
    )


@login_required
@never_cache
@require_http_methods(["GET"])
def research_csv(request: HttpRequest, export_id: int) -> HttpResponse:
    _research_officer(request)
    export = ResearchExport.objects.filter(pk=export_id).first()
    if export is None:
        raise Http404
    response = HttpResponse(export.dataset_csv, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="research-{export.pk}.csv"'
    return response
