from django import forms
from django.utils.translation import gettext_lazy as _

from backgroundmusic.core.forms import Form
from backgroundmusic.library.models import PLAYLIST_DESCRIPTION_MAX_LENGTH, PLAYLIST_NAME_MAX_LENGTH


class PlaylistForm(Form):
    name = forms.CharField(label=_("Name"), max_length=PLAYLIST_NAME_MAX_LENGTH)
    description = forms.CharField(
        label=_("Description (optional)"),
        max_length=PLAYLIST_DESCRIPTION_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class EntryAddForm(Form):
    playlist = forms.IntegerField(label=_("Playlist"), min_value=1)
    track = forms.SlugField(max_length=220)


class EntryMoveForm(Form):
    position = forms.IntegerField(min_value=1)
