"""Parsing of the newsletter editor's pages; the services check every rule again."""

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext_lazy as _

from backgroundmusic.core.forms import Form
from backgroundmusic.mailing.services import BODY_MAX, SUBJECT_MAX, CampaignText
from backgroundmusic.privacy.calendar import CONTROLLER_TIME_ZONE

SEND_AT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]


def _with_limit(message: Promise, limit: int) -> str:
    return str(message) % {"limit": number_format(limit, force_grouping=True)}


# Translated and formatted when the page is rendered, in the page's language.
with_limit = lazy(_with_limit, str)


def _subject_field(label: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=SUBJECT_MAX,
        help_text=with_limit(_("One line, at most %(limit)s characters."), SUBJECT_MAX),
    )


def _body_field(label: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=BODY_MAX,
        # Markdown keeps its line breaks and indentation as typed.
        strip=False,
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=with_limit(
            _(
                "Markdown: # heading, **bold**, *italic*, [link](https://…), - list. At most "
                "%(limit)s characters. No images or tracking: links are sent as written."
            ),
            BODY_MAX,
        ),
    )


class CampaignForm(Form):
    subject_en = _subject_field(_("Subject in English"))
    body_en = _body_field(_("Text in English"))
    subject_ru = _subject_field(_("Subject in Russian"))
    body_ru = _body_field(_("Text in Russian"))

    def text(self) -> CampaignText:
        data = self.cleaned_data
        return CampaignText(
            subject_en=data["subject_en"],
            subject_ru=data["subject_ru"],
            body_en=data["body_en"],
            body_ru=data["body_ru"],
        )


class TestSendForm(Form):
    language = forms.ChoiceField(
        label=_("Language of the test"),
        choices=[("en", _("English")), ("ru", _("Russian"))],
        initial="en",
    )


class ScheduleForm(Form):
    send_at = forms.DateTimeField(
        label=_("Send at (Moscow time)"),
        required=False,
        input_formats=SEND_AT_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_(
            "Leave empty to send within a minute. The audience is taken when sending starts."
        ),
    )

    def is_valid(self) -> bool:
        # The date and time typed in are Moscow time, like the times these pages show.
        with timezone.override(CONTROLLER_TIME_ZONE):
            return super().is_valid()
