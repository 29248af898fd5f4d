from django import forms
from django.utils.translation import gettext_lazy as _

from backgroundmusic.audit.models import AuditAction
from backgroundmusic.core.forms import Form
from backgroundmusic.privacy.kernel.models import ACCESS_REASON_MAX_LENGTH


class PeopleSearchForm(Form):
    q = forms.CharField(label=_("Username or user id"), required=False, max_length=150)


class AuditFilterForm(Form):
    action = forms.ChoiceField(
        label=_("Action"),
        required=False,
        choices=[("", _("Any action")), *AuditAction.choices],
    )
    actor = forms.IntegerField(
        label=_("Staff member id"), required=False, min_value=1, max_value=2**63 - 1
    )


class AccessReasonForm(Form):
    reason = forms.CharField(
        label=_("Why do you need to see this person's data?"),
        help_text=_("Name the request or ticket. The reason is written to the access log."),
        min_length=5,
        max_length=ACCESS_REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
