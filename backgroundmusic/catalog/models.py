from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

DEFAULT_RIGHTS_HOLDER = "MUSWAY STUDIO"


class Facet(models.Model):
    """A controlled vocabulary term shown in both languages (genre, mood, instrument)."""

    slug = models.SlugField(max_length=60, unique=True)
    name_en = models.CharField(max_length=80)
    name_ru = models.CharField(max_length=80)

    class Meta:
        abstract = True
        ordering = ["name_en"]

    def __str__(self) -> str:
        return self.name_en


class Genre(Facet):
    pass


class Mood(Facet):
    pass


class Instrument(Facet):
    pass


class Tag(models.Model):
    """Free keywords for search (e.g. "corporate", "sunrise")."""

    name = models.CharField(max_length=60, unique=True)
    name_ru = models.CharField(max_length=60, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MusicalKey(models.TextChoices):
    C_MAJOR = "C", _("C major")
    C_MINOR = "Cm", _("C minor")
    C_SHARP_MAJOR = "C#", _("C♯ major")
    C_SHARP_MINOR = "C#m", _("C♯ minor")
    D_MAJOR = "D", _("D major")
    D_MINOR = "Dm", _("D minor")
    E_FLAT_MAJOR = "Eb", _("E♭ major")
    E_FLAT_MINOR = "Ebm", _("E♭ minor")
    E_MAJOR = "E", _("E major")
    E_MINOR = "Em", _("E minor")
    F_MAJOR = "F", _("F major")
    F_MINOR = "Fm", _("F minor")
    F_SHARP_MAJOR = "F#", _("F♯ major")
    F_SHARP_MINOR = "F#m", _("F♯ minor")
    G_MAJOR = "G", _("G major")
    G_MINOR = "Gm", _("G minor")
    A_FLAT_MAJOR = "Ab", _("A♭ major")
    A_FLAT_MINOR = "Abm", _("A♭ minor")
    A_MAJOR = "A", _("A major")
    A_MINOR = "Am", _("A minor")
    B_FLAT_MAJOR = "Bb", _("B♭ major")
    B_FLAT_MINOR = "Bbm", _("B♭ minor")
    B_MAJOR = "B", _("B major")
    B_MINOR = "Bm", _("B minor")


class Track(models.Model):
    """One soundtrack of the studio's catalogue. Audio lives in the media app (media.Master)."""

    title = models.CharField(_("title"), max_length=200)
    title_ru = models.CharField(_("title in Russian"), max_length=200, blank=True)
    slug = models.SlugField(max_length=220, unique=True)
    description = models.TextField(_("description"), blank=True)
    description_ru = models.TextField(_("description in Russian"), blank=True)
    rights_holder = models.CharField(
        _("rights holder"), max_length=200, default=DEFAULT_RIGHTS_HOLDER
    )
    composer = models.CharField(_("composer"), max_length=200, blank=True)
    catalogue_code = models.CharField(_("catalogue code"), max_length=32, unique=True)
    genres = models.ManyToManyField(Genre, blank=True, related_name="tracks")
    moods = models.ManyToManyField(Mood, blank=True, related_name="tracks")
    instruments = models.ManyToManyField(Instrument, blank=True, related_name="tracks")
    tags = models.ManyToManyField(Tag, blank=True, related_name="tracks")
    tempo_bpm = models.PositiveSmallIntegerField(_("tempo (BPM)"), null=True, blank=True)
    musical_key = models.CharField(
        _("musical key"), max_length=4, choices=MusicalKey.choices, blank=True
    )
    energy = models.PositiveSmallIntegerField(_("energy (1–10)"), default=5)
    duration_seconds = models.FloatField(_("duration (s)"), null=True, blank=True)
    is_instrumental = models.BooleanField(_("instrumental"), default=True)
    release_date = models.DateField(_("release date"), null=True, blank=True)
    # Shown in the public catalogue only when published and its audio is ready.
    is_published = models.BooleanField(_("published"), default=False)
    # The search terms (catalog.search_terms) of the titles, descriptions, composer, tags and
    # facet names in both languages, and of the titles and composer alone (for ranking), each
    # " term term … " with a space at both ends; kept by the catalogue services.
    search_document = models.TextField(blank=True, editable=False)
    search_title = models.TextField(blank=True, editable=False)
    # The terms of its genres, moods and instruments (catalog.search_terms.facet_term),
    # " g1 m4 i7 ": facet filters and counts read them instead of the relation tables.
    search_facets = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title", "pk"]
        indexes = [
            # The catalogue's first page (no text, by title, in either language) reads 24 rows
            # in this order instead of sorting the whole catalogue (bench/search.py).
            models.Index("title", "id", name="track_title_order"),
            models.Index(
                Coalesce(NullIf("title_ru", Value("")), "title"), "id", name="track_title_ru_order"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(energy__gte=1, energy__lte=10), name="track_energy_1_10"
            ),
            models.CheckConstraint(
                condition=Q(tempo_bpm__isnull=True) | Q(tempo_bpm__gte=20, tempo_bpm__lte=300),
                name="track_tempo_plausible",
            ),
        ]
        permissions = [("manage_catalogue", "Can edit the catalogue and upload masters")]

    def __str__(self) -> str:
        return self.title


class Collection(models.Model):
    class Kind(models.TextChoices):
        ALBUM = "album", _("Album")
        CURATED = "curated", _("Curated set")

    kind = models.CharField(max_length=16, choices=Kind.choices)
    title = models.CharField(max_length=200)
    title_ru = models.CharField(max_length=200, blank=True)
    slug = models.SlugField(max_length=220, unique=True)
    description = models.TextField(blank=True)
    description_ru = models.TextField(blank=True)
    is_published = models.BooleanField(default=False)
    # Shown on the home page.
    is_featured = models.BooleanField(default=False)
    tracks: models.ManyToManyField[Track, "CollectionItem"] = models.ManyToManyField(
        Track, through="CollectionItem", related_name="collections"
    )

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    @property
    def shown_title(self) -> str:
        """The title in the active language (the English one when there is no Russian)."""
        return (self.title_ru if _russian() else "") or self.title

    @property
    def shown_description(self) -> str:
        return (self.description_ru if _russian() else "") or self.description


def _russian() -> bool:
    return (get_language() or "en").startswith("ru")


class CollectionItem(models.Model):
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="items")
    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="collection_items")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["collection", "track"], name="collection_track_once"),
            models.UniqueConstraint(
                fields=["collection", "position"], name="collection_position_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.collection} #{self.position}"


class SearchTermVariant(models.Model):
    """A search term of the catalogue (`term`) under one of its spellings with at most one letter
    left out (`variant`, the term itself included): how a mistyped query term finds the terms one
    edit away from it (catalog.search_terms). Kept by the catalogue services; a term no track
    has any more matches nothing and does no harm."""

    variant = models.CharField(max_length=60)
    term = models.CharField(max_length=60)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["variant", "term"], name="search_variant_term_once")
        ]

    def __str__(self) -> str:
        return f"{self.variant} → {self.term}"
