"""Forms of the staff statistics pages: parse and validate only."""

from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from backgroundmusic.core import clock
from backgroundmusic.core.forms import Form
from backgroundmusic.privacy.models import Recipient

MAX_PERIOD_DAYS = 366
DEFAULT_DAYS = 30


class PeriodForm(Form):
    # <input type="date"> takes ISO dates only, whatever the language.
    start = forms.DateField(
        label=_("From"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    end = forms.DateField(
        label=_("To"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    @staticmethod
    def default_period() -> tuple[date, date]:
        today = clock.now().date()
        return today - timedelta(days=DEFAULT_DAYS - 1), today

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if end < start:
                raise forms.ValidationError(_("The period ends before it starts."))
            if (end - start).days >= MAX_PERIOD_DAYS:
                raise forms.ValidationError(
                    _("Choose a period of at most %(n)d days.") % {"n": MAX_PERIOD_DAYS}
                )
        return cleaned


class ResearchExportForm(PeriodForm):
    recipient = forms.ModelChoiceField(
        label=_("Partner"),
        queryset=Recipient.objects.filter(is_active=True).order_by("name"),
        empty_label=None,
    )
