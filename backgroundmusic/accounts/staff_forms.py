from collections.abc import Mapping
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from backgroundmusic.accounts.staff import StaffActorLabel
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
    actor = forms.TypedChoiceField(
        label=_("Staff member"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args: Any, staff_labels: Mapping[int, StaffActorLabel], **kwargs: Any):
        super().__init__(*args, **kwargs)
        named = sorted(staff_labels.items(), key=lambda item: str(item[1]).casefold())
        actor = self.fields["actor"]
        assert isinstance(actor, forms.TypedChoiceField)
        actor.choices = [
            ("", _("Any staff member")),
            *((str(user_id), str(label)) for user_id, label in named),
        ]


class AccessReasonForm(Form):
    reason = forms.CharField(
        label=_("Why do you need to see this person's data?"),
        help_text=_("Name the request or ticket. The reason is written to the access log."),
        min_length=5,
        max_length=ACCESS_REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
