"""Every write to the catalogue: tracks, facet vocabularies, tags and collections.

`actor` is the staff member making the change; None means the system itself (a management
command such as `import_tracks`, or an ingest job), which is trusted. A staff actor must be
allowed to manage the catalogue (`staffroles.selectors.staff_may_manage_catalogue`).

Each track keeps `search_document` and `search_title`: the search terms (catalog.search_terms) of
its titles, descriptions, composer, tags and the names of its genres, moods and instruments in
both languages, and of its titles and composer alone; and `search_facets`, the terms of its
genres, moods and instruments themselves (for facet filters and counts). Every word term is also
kept in `SearchTermVariant` under its one-letter deletions, for typo tolerance. That is what
search reads (selectors.track_search). The writes that change what the /catalog/ listing shows
(tracks and facets; collections are not on it) call `page_cache.listing_changed`, as does media's
ingest when a master becomes ready (`listing_changed` here).
"""

import re
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any, NamedTuple

from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, models, transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from backgroundmusic.accounts.models import User
from backgroundmusic.audit.models import AuditAction
from backgroundmusic.audit.refusals import refusals_audited
from backgroundmusic.audit.services import audit_record
from backgroundmusic.catalog import page_cache, search_terms
from backgroundmusic.catalog.models import (
    DEFAULT_RIGHTS_HOLDER,
    Collection,
    CollectionItem,
    Facet,
    Genre,
    Instrument,
    Mood,
    MusicalKey,
    SearchTermVariant,
    Tag,
    Track,
)
from backgroundmusic.core.errors import DomainError
from backgroundmusic.staffroles.selectors import staff_may_manage_catalogue, staff_require

Actor = User | AnonymousUser | None

FACET_MODELS: dict[str, type[Facet]] = {"genre": Genre, "mood": Mood, "instrument": Instrument}

TRACK_FIELDS = frozenset(
    {
        "title",
        "title_ru",
        "slug",
        "description",
        "description_ru",
        "rights_holder",
        "composer",
        "catalogue_code",
        "genres",
        "moods",
        "instruments",
        "tags",
        "tempo_bpm",
        "musical_key",
        "energy",
        "duration_seconds",
        "is_instrumental",
        "release_date",
        "is_published",
    }
)
_M2M = ("genres", "moods", "instruments", "tags")


class CatalogueError(DomainError):
    code = "catalogue_invalid"


def listing_changed() -> None:
    """For writes outside this module that change what the listing shows (media: a master became
    ready), which reach the catalogue only through its services."""
    page_cache.listing_changed()


def _require_manager(actor: Actor) -> None:
    if actor is None:
        return  # the system: a management command or an ingest job
    staff_require(actor=actor, may=staff_may_manage_catalogue)


def _track_values(track: Track, names: Iterable[str]) -> dict[str, Any]:
    """The named fields as JSON values for the audit trail: facets by slug, tags by name."""
    values: dict[str, Any] = {}
    for name in sorted(names):
        if name in ("genres", "moods", "instruments"):
            values[name] = sorted(getattr(track, name).values_list("slug", flat=True))
        elif name == "tags":
            values[name] = sorted(track.tags.values_list("name", flat=True))
        else:
            value = getattr(track, name)
            plain = value is None or isinstance(value, str | int | float | bool)
            values[name] = value if plain else str(value)
    return values


Values = dict[str, Any]


def _changed(before: Values, after: Values) -> tuple[Values, Values]:
    names = [name for name in after if before.get(name) != after[name]]
    return {name: before.get(name) for name in names}, {name: after[name] for name in names}


def _collection_values(collection: Collection) -> dict[str, Any]:
    return {
        "kind": collection.kind,
        "title": collection.title,
        "title_ru": collection.title_ru,
        "slug": collection.slug,
        "is_published": collection.is_published,
        "is_featured": collection.is_featured,
        "track_ids": list(collection.items.order_by("position").values_list("track_id", flat=True)),
    }


def _words(text: str) -> str:
    return " ".join(text.split())


def _padded(terms: Iterable[str]) -> str:
    return f" {' '.join(terms)} "


class SearchFields(NamedTuple):
    """What search reads for a track (Track.search_document, search_title, search_facets)."""

    document: str
    title: str
    facets: str


def search_document_for(*, track: Track) -> SearchFields:
    """What search reads for a track (saved tracks only: it reads the track's facets and tags):
    its document, " term term … ", each term once; its title terms, " term  term  … ", each as
    often as it occurs (which ranks a title that repeats a word above one that has it once) and
    each between its own two spaces, so every occurrence can be counted; and its facet terms,
    " g1 m4 i7 "."""
    titles = (track.title, track.title_ru, track.composer)
    texts: list[str] = [*titles, track.description, track.description_ru]
    for tag in track.tags.all():
        texts += [tag.name, tag.name_ru]
    facet_terms = []
    for relation in search_terms.FACET_TERM_LETTERS:
        facets = list(getattr(track, relation).all())
        texts += [name for facet in facets for name in (facet.name_en, facet.name_ru)]
        facet_terms += [
            search_terms.facet_term(relation, pk) for pk in sorted(f.pk for f in facets)
        ]
    title_terms = search_terms.text_terms(*titles, each_once=False)
    return SearchFields(
        document=_padded(search_terms.text_terms(*texts)),
        title="".join(f" {term} " for term in title_terms),
        facets=_padded(facet_terms),
    )


def search_terms_remember(terms: Iterable[str]) -> None:
    """Keeps every term not yet known under its one-letter deletions (SearchTermVariant)."""
    terms = set(terms)
    known = set(
        SearchTermVariant.objects.filter(variant__in=terms, term__in=terms)
        .filter(variant=models.F("term"))
        .values_list("term", flat=True)
    )
    SearchTermVariant.objects.bulk_create(
        [
            SearchTermVariant(variant=variant, term=term)
            for term in sorted(terms - known)
            for variant in sorted(search_terms.deletions(term))
        ],
        ignore_conflicts=True,
    )


def _refresh_search_document(track: Track) -> None:
    fields = search_document_for(track=track)
    if fields != (track.search_document, track.search_title, track.search_facets):
        track.search_document, track.search_title, track.search_facets = fields
        Track.objects.filter(pk=track.pk).update(
            search_document=fields.document,
            search_title=fields.title,
            search_facets=fields.facets,
        )
        search_terms_remember(fields.document.split())


TagName = str | tuple[str, str]


def _tag_objects(names: Iterable[TagName], track: Track) -> list[Tag]:
    """Tags by name (spaces collapsed, lower-case), created when new; duplicates dropped. A tag
    given as (English, Russian) gets that Russian name, and the other tracks holding it their
    search documents refreshed."""
    tags: dict[str, Tag] = {}
    for raw in names:
        english, russian = raw if isinstance(raw, tuple) else (raw, "")
        name, name_ru = _words(str(english)).lower(), _words(str(russian)).lower()
        if not name or name in tags:
            continue
        if len(name) > 60 or len(name_ru) > 60:
            raise CatalogueError(
                _("A tag may be at most 60 characters long: “%(tag)s”.")
                % {"tag": (name if len(name) > 60 else name_ru)[:60]}
            )
        tag, _created = Tag.objects.get_or_create(name=name, defaults={"name_ru": name_ru})
        if name_ru and tag.name_ru != name_ru:
            tag.name_ru = name_ru
            tag.save(update_fields=["name_ru"])
            for other in Track.objects.filter(tags=tag).exclude(pk=track.pk):
                _refresh_search_document(other)
        tags[name] = tag
    return list(tags.values())


def _facet_objects(model: type[Facet], values: Iterable[Facet | int | str]) -> list[Facet]:
    """Facets given as objects, ids or slugs; an unknown one is refused by name."""
    found: list[Facet] = []
    for value in values:
        if isinstance(value, model):
            found.append(value)
            continue
        lookup: dict[str, Any] = {"pk": value} if isinstance(value, int) else {"slug": str(value)}
        facet = model._default_manager.filter(**lookup).first()
        if facet is None:
            raise CatalogueError(
                _("There is no %(kind)s “%(value)s”.")
                % {"kind": model._meta.verbose_name, "value": value}
            )
        found.append(facet)
    return found


def _check_track_values(values: dict[str, Any]) -> None:
    title = values.get("title", "")
    if not str(title).strip():
        raise CatalogueError(_("A track needs a title."), code="title_required")
    code = str(values.get("catalogue_code", "")).strip()
    if not code:
        raise CatalogueError(_("A track needs a catalogue code."), code="code_required")
    energy = values.get("energy")
    if energy is not None and not 1 <= int(energy) <= 10:
        raise CatalogueError(_("Energy is a whole number from 1 to 10."), code="energy_range")
    tempo = values.get("tempo_bpm")
    if tempo is not None and not 20 <= int(tempo) <= 300:
        raise CatalogueError(_("Tempo must be between 20 and 300 BPM."), code="tempo_range")
    duration = values.get("duration_seconds")
    if duration is not None and not 0 < float(duration) <= 24 * 3600:
        raise CatalogueError(_("Duration must be between 0 and 24 hours."), code="duration_range")
    key = values.get("musical_key", "")
    if key and key not in MusicalKey.values:
        raise CatalogueError(_("Unknown musical key."), code="key_unknown")


def _unique_slug(model: type[Track] | type[Collection], base: str, exclude_pk: int | None) -> str:
    stem = (slugify(base) or "item")[:200]
    candidate, n = stem, 1
    others = (
        model._default_manager.exclude(pk=exclude_pk)
        if exclude_pk
        else model._default_manager.all()
    )
    while others.filter(slug=candidate).exists():
        n += 1
        candidate = f"{stem}-{n}"
    return candidate


def _check_unique(track: Track) -> None:
    others = Track.objects.exclude(pk=track.pk) if track.pk else Track.objects.all()
    code = others.filter(catalogue_code=track.catalogue_code).first()
    if code is not None:
        raise CatalogueError(
            _("Catalogue code %(code)s is already used by “%(title)s”.")
            % {"code": track.catalogue_code, "title": code.title},
            code="code_taken",
        )
    if others.filter(slug=track.slug).exists():
        raise CatalogueError(
            _("The address “%(slug)s” is already used by another track.") % {"slug": track.slug},
            code="slug_taken",
        )


def _apply(track: Track, changes: dict[str, Any]) -> None:
    unknown = set(changes) - TRACK_FIELDS
    if unknown:
        raise TypeError(f"unknown track fields: {sorted(unknown)}")
    merged = {
        name: getattr(track, name) for name in TRACK_FIELDS - set(_M2M) if name != "slug"
    } | changes
    _check_track_values(merged)
    for name, value in changes.items():
        if name in _M2M or name == "slug":
            continue
        if isinstance(value, str) and name not in ("description", "description_ru"):
            value = value.strip()
        setattr(track, name, value)
    slug = str(changes.get("slug") or "").strip()
    if slug:
        if slugify(slug) != slug:
            raise CatalogueError(
                _("The address may hold only lower-case letters, digits and hyphens."),
                code="slug_invalid",
            )
        track.slug = slug
    elif not track.slug:
        track.slug = _unique_slug(Track, track.title, track.pk)
    _check_unique(track)
    try:
        with transaction.atomic():
            track.save()
    except IntegrityError as error:  # a concurrent insert of the same code or slug
        raise CatalogueError(
            _("The catalogue code or address is already used."), code="conflict"
        ) from error
    for name in ("genres", "moods", "instruments"):
        if name in changes:
            model = FACET_MODELS[name[:-1]]
            getattr(track, name).set(_facet_objects(model, changes[name]))
    if "tags" in changes:
        track.tags.set(_tag_objects(changes["tags"], track))
    _refresh_search_document(track)


@refusals_audited("catalog.track_create")
@transaction.atomic
def track_create(
    *,
    actor: Actor,
    title: str,
    catalogue_code: str,
    title_ru: str = "",
    slug: str = "",
    description: str = "",
    description_ru: str = "",
    rights_holder: str = DEFAULT_RIGHTS_HOLDER,
    composer: str = "",
    genres: Sequence[Facet | int | str] = (),
    moods: Sequence[Facet | int | str] = (),
    instruments: Sequence[Facet | int | str] = (),
    tags: Sequence[TagName] = (),
    tempo_bpm: int | None = None,
    musical_key: str = "",
    energy: int = 5,
    duration_seconds: float | None = None,
    is_instrumental: bool = True,
    release_date: date | None = None,
    is_published: bool = False,
) -> Track:
    """A new track. Facets are given as objects, ids or slugs; tags as names or (English, Russian)
    pairs (created when new).
    The slug is made from the title when not given. Refuses a used catalogue code or slug."""
    _require_manager(actor)
    track = Track(rights_holder=rights_holder or DEFAULT_RIGHTS_HOLDER)
    _apply(
        track,
        {
            "title": title,
            "title_ru": title_ru,
            "catalogue_code": catalogue_code,
            "slug": slug,
            "description": description,
            "description_ru": description_ru,
            "rights_holder": rights_holder or DEFAULT_RIGHTS_HOLDER,
            "composer": composer,
            "genres": genres,
            "moods": moods,
            "instruments": instruments,
            "tags": tags,
            "tempo_bpm": tempo_bpm,
            "musical_key": musical_key,
            "energy": energy,
            "duration_seconds": duration_seconds,
            "is_instrumental": is_instrumental,
            "release_date": release_date,
            "is_published": is_published,
        },
    )
    audit_record(
        actor=actor,
        action=AuditAction.CATALOGUE_TRACK_CREATED,
        target=track,
        after=_track_values(track, ("catalogue_code", "title", "slug", "is_published")),
    )
    page_cache.listing_changed()
    return track


@refusals_audited("catalog.track_update")
@transaction.atomic
def track_update(*, actor: Actor, track: Track, **changes: Any) -> Track:
    """Changes the named fields of a track (any of TRACK_FIELDS; facets and tags replace the
    current ones) and refreshes its search document. An empty slug keeps the current one."""
    _require_manager(actor)
    track = Track.objects.select_for_update().get(pk=track.pk)
    before = _track_values(track, changes)
    _apply(track, changes)
    before, after = _changed(before, _track_values(track, changes))
    if after:
        audit_record(
            actor=actor,
            action=AuditAction.CATALOGUE_TRACK_UPDATED,
            target=track,
            before=before,
            after=after,
        )
        page_cache.listing_changed()
    return track


@refusals_audited("catalog.facet_create")
@transaction.atomic
def facet_create(*, actor: Actor, kind: str, name_en: str, name_ru: str, slug: str = "") -> Facet:
    """A new genre, mood or instrument (kind "genre" | "mood" | "instrument")."""
    _require_manager(actor)
    model = FACET_MODELS.get(kind)
    if model is None:
        raise CatalogueError(_("Unknown kind of facet."), code="facet_kind")
    name_en, name_ru = _words(name_en), _words(name_ru)
    if not name_en or not name_ru:
        raise CatalogueError(_("Give the name in English and in Russian."), code="facet_name")
    slug = slugify(slug or name_en)
    if not slug:
        raise CatalogueError(_("The address may not be empty."), code="slug_invalid")
    if model._default_manager.filter(slug=slug).exists():
        raise CatalogueError(_("“%(slug)s” already exists.") % {"slug": slug}, code="facet_taken")
    facet = model._default_manager.create(slug=slug, name_en=name_en, name_ru=name_ru)
    audit_record(
        actor=actor,
        action=AuditAction.CATALOGUE_FACET_CREATED,
        target=facet,
        after={"slug": slug, "name_en": name_en, "name_ru": name_ru},
    )
    page_cache.listing_changed()
    return facet


@refusals_audited("catalog.facet_rename")
@transaction.atomic
def facet_rename(*, actor: Actor, facet: Facet, name_en: str, name_ru: str) -> Facet:
    """Renames a facet and refreshes the search documents of its tracks."""
    _require_manager(actor)
    name_en, name_ru = _words(name_en), _words(name_ru)
    if not name_en or not name_ru:
        raise CatalogueError(_("Give the name in English and in Russian."), code="facet_name")
    before = {"name_en": facet.name_en, "name_ru": facet.name_ru}
    facet.name_en, facet.name_ru = name_en, name_ru
    facet.save(update_fields=["name_en", "name_ru"])
    audit_record(
        actor=actor,
        action=AuditAction.CATALOGUE_FACET_RENAMED,
        target=facet,
        before=before,
        after={"name_en": name_en, "name_ru": name_ru},
    )
    for track in Track.objects.filter(**{f"{type(facet).__name__.lower()}s": facet}):
        _refresh_search_document(track)
    page_cache.listing_changed()
    return facet


_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def _collection_apply(
    collection: Collection,
    *,
    kind: str,
    title: str,
    slug: str,
    description: str,
    is_published: bool,
    track_ids: Sequence[int],
    title_ru: str,
    description_ru: str,
    is_featured: bool,
) -> None:
    if kind not in Collection.Kind.values:
        raise CatalogueError(_("Unknown kind of collection."), code="collection_kind")
    title = _words(title)
    if not title:
        raise CatalogueError(_("A collection needs a title."), code="title_required")
    slug = slug.strip()
    if slug and not _SLUG.match(slug):
        raise CatalogueError(
            _("The address may hold only lower-case letters, digits and hyphens."),
            code="slug_invalid",
        )
    if not slug:
        slug = collection.slug or _unique_slug(Collection, title, collection.pk)
    others = Collection.objects.exclude(pk=collection.pk) if collection.pk else Collection.objects
    if others.filter(slug=slug).exists():
        raise CatalogueError(
            _("The address “%(slug)s” is already used by another collection.") % {"slug": slug},
            code="slug_taken",
        )
    ordered = list(dict.fromkeys(track_ids))
    known = set(Track.objects.filter(pk__in=ordered).values_list("pk", flat=True))
    missing = [pk for pk in ordered if pk not in known]
    if missing:
        raise CatalogueError(
            _("There is no track with id %(ids)s.") % {"ids": ", ".join(map(str, missing))},
            code="track_unknown",
        )
    collection.kind, collection.title, collection.slug = kind, title, slug
    collection.title_ru = _words(title_ru)
    collection.description, collection.is_published = description.strip(), is_published
    collection.description_ru, collection.is_featured = description_ru.strip(), is_featured
    collection.save()
    collection.items.all().delete()
    CollectionItem.objects.bulk_create(
        CollectionItem(collection=collection, track_id=pk, position=position)
        for position, pk in enumerate(ordered, start=1)
    )


@refusals_audited("catalog.collection_create")
@transaction.atomic
def collection_create(
    *,
    actor: Actor,
    kind: str,
    title: str,
    slug: str = "",
    description: str = "",
    is_published: bool = False,
    track_ids: Sequence[int] = (),
    title_ru: str = "",
    description_ru: str = "",
    is_featured: bool = False,
) -> Collection:
    """A new album or curated set holding the given tracks in the given order (the Russian
    title and description are optional: the English ones stand in)."""
    _require_manager(actor)
    collection = Collection()
    _collection_apply(
        collection,
        kind=kind,
        title=title,
        slug=slug,
        description=description,
        is_published=is_published,
        track_ids=track_ids,
        title_ru=title_ru,
        description_ru=description_ru,
        is_featured=is_featured,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CATALOGUE_COLLECTION_CREATED,
        target=collection,
        after=_collection_values(collection),
    )
    return collection


@refusals_audited("catalog.collection_update")
@transaction.atomic
def collection_update(
    *,
    actor: Actor,
    collection: Collection,
    kind: str,
    title: str,
    slug: str,
    description: str,
    is_published: bool,
    track_ids: Sequence[int],
    title_ru: str = "",
    description_ru: str = "",
    is_featured: bool = False,
) -> Collection:
    """Replaces a collection's fields and its tracks (in the given order)."""
    _require_manager(actor)
    collection = Collection.objects.select_for_update().get(pk=collection.pk)
    before = _collection_values(collection)
    _collection_apply(
        collection,
        kind=kind,
        title=title,
        slug=slug,
        description=description,
        is_published=is_published,
        track_ids=track_ids,
        title_ru=title_ru,
        description_ru=description_ru,
        is_featured=is_featured,
    )
    before, after = _changed(before, _collection_values(collection))
    if after:
        audit_record(
            actor=actor,
            action=AuditAction.CATALOGUE_COLLECTION_UPDATED,
            target=collection,
            before=before,
            after=after,
        )
    return collection
