"""The forms of the coverage page (views/coverage.py): they only parse; the rules of a link, a
platform, a date and a track are licensing/coverage.py's, whose refusals the view puts on the
field they name."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from backgroundmusic.core.forms import Form
from backgroundmusic.licensing.models import Platform

PLATFORM_CHOICES = [("", _("Detect from the link")), *Platform.choices]


class ChannelForm(Form):
    platform = forms.ChoiceField(label=_("Platform"), choices=PLATFORM_CHOICES, required=False)
    url = forms.CharField(
        label=_("Link to the channel"),
        help_text=_("The address of the channel's page, starting with https://."),
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class UseForm(Form):
    platform = forms.ChoiceField(label=_("Platform"), choices=PLATFORM_CHOICES, required=False)
    url = forms.CharField(
        label=_("Link to the published work"),
        help_text=_("The address of the video, episode or advertisement, starting with https://."),
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    published_on = forms.DateField(
        label=_("Published on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    title = forms.CharField(label=_("Title"), required=False)
    track = forms.CharField(
        label=_("Track's catalogue code"),
        help_text=_("Optional, for example BM-0007: the track the work uses."),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args: Any, track_fixed: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if track_fixed:
            # A single-track licence: every work uses its track, so there is nothing to choose.
            del self.fields["track"]
