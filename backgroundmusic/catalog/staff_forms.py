"""Parsing and validation of staff editing of tracks, collections and facet vocabularies."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from backgroundmusic.catalog.forms import FacetChoiceField
from backgroundmusic.catalog.models import Collection, Genre, Instrument, Mood, MusicalKey, Track
from backgroundmusic.core.forms import Form

# Limits on what staff type: a description is a few paragraphs; a collection's codes, one a line,
# are enough for some five hundred tracks.
DESCRIPTION_MAX_LENGTH = 5_000
TRACK_CODES_MAX_LENGTH = 20_000


def _tag_name(entry: str) -> str | tuple[str, str]:
    """ "rain / дождь" names a tag in English and Russian; "rain" in English only."""
    english, slash, russian = entry.partition("/")
    return (english, russian) if slash else entry


class TrackForm(Form):
    """Every editable field of a track; the service checks the rules again."""

    title = forms.CharField(label=_("Title"), max_length=200)
    title_ru = forms.CharField(label=_("Title in Russian"), max_length=200, required=False)
    slug = forms.SlugField(
        label=_("Address"),
        max_length=220,
        required=False,
        help_text=_("Part of the page address; made from the title when left empty."),
    )
    catalogue_code = forms.CharField(label=_("Catalogue code"), max_length=32)
    composer = forms.CharField(label=_("Composer"), max_length=200, required=False)
    rights_holder = forms.CharField(label=_("Rights holder"), max_length=200)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=DESCRIPTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    description_ru = forms.CharField(
        label=_("Description in Russian"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    genres = FacetChoiceField(label=_("Genres"), model=Genre)
    moods = FacetChoiceField(label=_("Moods"), model=Mood)
    instruments = FacetChoiceField(label=_("Instrumentation"), model=Instrument)
    tags = forms.CharField(
        label=_("Tags"),
        required=False,
        max_length=1000,
        help_text=_("Separated by commas; a Russian name after a slash: rain / дождь."),
    )
    tempo_bpm = forms.IntegerField(
        label=_("Tempo (BPM)"), required=False, min_value=20, max_value=300
    )
    musical_key = forms.ChoiceField(
        label=_("Musical key"),
        choices=[("", "—"), *MusicalKey.choices],
        required=False,
    )
    energy = forms.IntegerField(label=_("Energy (1–10)"), min_value=1, max_value=10, initial=5)
    duration_seconds = forms.FloatField(
        label=_("Duration (seconds)"), required=False, min_value=0.1, max_value=86400
    )
    is_instrumental = forms.BooleanField(label=_("Instrumental"), required=False, initial=True)
    release_date = forms.DateField(
        label=_("Release date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    is_published = forms.BooleanField(
        label=_("Published"),
        required=False,
        help_text=_("Shown in the public catalogue once its master is ready."),
    )

    @staticmethod
    def initial_for(track: Track) -> dict[str, Any]:
        return {
            "title": track.title,
            "title_ru": track.title_ru,
            "slug": track.slug,
            "catalogue_code": track.catalogue_code,
            "composer": track.composer,
            "rights_holder": track.rights_holder,
            "description": track.description,
            "description_ru": track.description_ru,
            "genres": list(track.genres.all()),
            "moods": list(track.moods.all()),
            "instruments": list(track.instruments.all()),
            "tags": ", ".join(
                f"{tag.name} / {tag.name_ru}" if tag.name_ru else tag.name
                for tag in track.tags.all()
            ),
            "tempo_bpm": track.tempo_bpm,
            "musical_key": track.musical_key,
            "energy": track.energy,
            "duration_seconds": track.duration_seconds,
            "is_instrumental": track.is_instrumental,
            "release_date": track.release_date,
            "is_published": track.is_published,
        }

    def track_fields(self) -> dict[str, Any]:
        """Keyword arguments for services.track_create / track_update."""
        data = dict(self.cleaned_data)
        data["tags"] = [
            _tag_name(entry) for entry in (data.get("tags") or "").split(",") if entry.strip()
        ]
        for name in ("genres", "moods", "instruments"):
            data[name] = list(data.get(name) or [])
        return data


class CollectionForm(Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Collection.Kind.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    title_ru = forms.CharField(label=_("Title in Russian"), max_length=200, required=False)
    slug = forms.SlugField(
        label=_("Address"),
        max_length=220,
        required=False,
        help_text=_("Part of the page address; made from the title when left empty."),
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=DESCRIPTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    description_ru = forms.CharField(
        label=_("Description in Russian"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    is_published = forms.BooleanField(label=_("Published"), required=False)
    is_featured = forms.BooleanField(label=_("Featured on the home page"), required=False)
    track_codes = forms.CharField(
        label=_("Tracks"),
        required=False,
        max_length=TRACK_CODES_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Catalogue codes, one a line, in the order the collection plays them."),
    )

    def clean_track_codes(self) -> list[int]:
        codes = [line.strip() for line in self.cleaned_data["track_codes"].splitlines()]
        codes = [code for code in codes if code]
        found = dict(
            Track.objects.filter(catalogue_code__in=codes).values_list("catalogue_code", "pk")
        )
        unknown = [code for code in codes if code not in found]
        if unknown:
            raise ValidationError(
                _("No track has the catalogue code %(codes)s."),
                params={"codes": ", ".join(unknown)},
            )
        return [found[code] for code in codes]

    @staticmethod
    def initial_for(collection: Collection) -> dict[str, Any]:
        codes = collection.items.order_by("position").values_list(
            "track__catalogue_code", flat=True
        )
        return {
            "kind": collection.kind,
            "title": collection.title,
            "slug": collection.slug,
            "title_ru": collection.title_ru,
            "description": collection.description,
            "description_ru": collection.description_ru,
            "is_published": collection.is_published,
            "is_featured": collection.is_featured,
            "track_codes": "\n".join(codes),
        }


class FacetForm(Form):
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[("genre", _("Genre")), ("mood", _("Mood")), ("instrument", _("Instrument"))],
    )
    name_en = forms.CharField(label=_("Name in English"), max_length=80)
    name_ru = forms.CharField(label=_("Name in Russian"), max_length=80)
