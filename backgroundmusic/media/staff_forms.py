"""The upload form of the staff masters page: parse and validate only."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from backgroundmusic.catalog.models import Track
from backgroundmusic.core.forms import Form
from backgroundmusic.media.pipeline import ACCEPTED_EXTENSIONS


class MasterUploadForm(Form):
    file = forms.FileField(
        label=_("Master file"),
        help_text=_("WAV, FLAC, AIFF, MP3 or Ogg (Opus or Vorbis)."),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(ACCEPTED_EXTENSIONS)}),
    )
    track = forms.ModelChoiceField(
        label=_("Attach to a track without audio"),
        queryset=Track.objects.filter(master__isnull=True).order_by("title", "pk"),
        required=False,
        empty_label=_("— make a new draft track —"),
    )
    title = forms.CharField(
        label=_("Title of the new draft track"),
        help_text=_("Leave empty to use the file name."),
        max_length=200,
        required=False,
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("track") is not None and cleaned.get("title", "").strip():
            raise forms.ValidationError(
                _("Choose a track or give a title for a new one, not both.")
            )
        return cleaned
