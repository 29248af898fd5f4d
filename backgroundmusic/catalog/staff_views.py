"""/staff/catalogue/: content managers edit tracks, collections and facet vocabularies.

Thin: parse with a form, call a service (which checks the actor again), render.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from backgroundmusic.catalog import selectors, services
from backgroundmusic.catalog.demo.recipes import recipe_by_code
from backgroundmusic.catalog.models import Collection, Track
from backgroundmusic.catalog.staff_forms import CollectionForm, FacetForm, TrackForm
from backgroundmusic.core.errors import DomainError
from backgroundmusic.staffroles.selectors import staff_may_manage_catalogue


def _require_manager(request: HttpRequest) -> None:
    if not staff_may_manage_catalogue(actor=request.user):
        raise PermissionDenied


@login_required
@never_cache
@require_GET
def staff_tracks(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    query = request.GET.get("q", "")[:200]
    tracks = selectors.tracks_for_staff(query=query)
    page = Paginator(tracks, 50).get_page(request.GET.get("page"))
    return render(request, "catalog/staff/tracks.html", {"page": page, "query": query})


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def staff_track_edit(request: HttpRequest, track_id: int | None = None) -> HttpResponse:
    _require_manager(request)
    track = get_object_or_404(Track, pk=track_id) if track_id is not None else None
    if request.method == "POST":
        form = TrackForm(request.POST)
        if form.is_valid():
            try:
                if track is None:
                    track = services.track_create(actor=request.user, **form.track_fields())
                    messages.success(request, _("The track is created."))
                else:
                    track = services.track_update(
                        actor=request.user, track=track, **form.track_fields()
                    )
                    messages.success(request, _("The track is saved."))
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                return HttpResponseRedirect(reverse("catalog_staff:track", args=[track.pk]))
    else:
        initial = TrackForm.initial_for(track) if track else {}
        form = TrackForm(initial=initial or None)
    recipe = recipe_by_code(track.catalogue_code) if track else None
    return render(
        request,
        "catalog/staff/track_form.html",
        {"form": form, "track": track, "production": recipe.production if recipe else ""},
        status=400 if form.errors else 200,
    )


@login_required
@never_cache
@require_GET
def staff_collections(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    return render(
        request,
        "catalog/staff/collections.html",
        {"collections": selectors.collections_for_staff()},
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def staff_collection_edit(request: HttpRequest, collection_id: int | None = None) -> HttpResponse:
    _require_manager(request)
    collection = (
        get_object_or_404(Collection, pk=collection_id) if collection_id is not None else None
    )
    if request.method == "POST":
        form = CollectionForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            fields = {
                "kind": data["kind"],
                "title": data["title"],
                "slug": data["slug"],
                "description": data["description"],
                "is_published": data["is_published"],
                "track_ids": data["track_codes"],
                "title_ru": data["title_ru"],
                "description_ru": data["description_ru"],
                "is_featured": data["is_featured"],
            }
            try:
                if collection is None:
                    collection = services.collection_create(actor=request.user, **fields)
                    messages.success(request, _("The collection is created."))
                else:
                    collection = services.collection_update(
                        actor=request.user, collection=collection, **fields
                    )
                    messages.success(request, _("The collection is saved."))
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                return HttpResponseRedirect(reverse("catalog_staff:collections"))
    else:
        form = CollectionForm(
            initial=CollectionForm.initial_for(collection) if collection else None
        )
    return render(
        request,
        "catalog/staff/collection_form.html",
        {"form": form, "collection": collection},
        status=400 if form.errors else 200,
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def staff_facets(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    form = FacetForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            facet = services.facet_create(actor=request.user, **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("“%(name)s” is added.") % {"name": facet.name_en})
            return HttpResponseRedirect(reverse("catalog_staff:facets"))
    return render(
        request,
        "catalog/staff/facets.html",
        {"form": form, "vocabularies": selectors.facet_vocabularies()},
        status=400 if form.errors else 200,
    )
