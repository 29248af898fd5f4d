"""Forms of the licence pages: the licensee's choice of how the certificate names them; a
licensing manager's reason to read a licensee's data, and revocation. They parse and validate
only; licensing/agreements.py and certificates.py decide."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy

from backgroundmusic.core.forms import Form
from backgroundmusic.licensing.certificates import display_choices
from backgroundmusic.licensing.models import Certificate
from backgroundmusic.privacy.kernel.models import ACCESS_REASON_MAX_LENGTH

DISPLAY_LABELS = {
    Certificate.Display.PRIVATE_PERSON: gettext_lazy('"A private person" (your name is not shown)'),
    Certificate.Display.FULL_NAME: gettext_lazy("My full name, as in the agreement"),
    Certificate.Display.COMPANY: gettext_lazy("The company's name, as in the agreement"),
}


class LicenseeDisplayForm(Form):
    licensee_display = forms.ChoiceField(
        label=gettext_lazy("Show the licensee on the certificate as"),
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": gettext_lazy("Choose one of the options shown.")},
    )

    def __init__(self, *args: Any, licensee_kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["licensee_display"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            (display, DISPLAY_LABELS[Certificate.Display(display)])
            for display in display_choices(licensee_kind=licensee_kind)
        ]


class RevokeForm(Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason for revoking"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "Kept in the agreement's history and the audit trail. The licensee's licence stops "
            "at once."
        ),
        error_messages={"required": gettext_lazy("Give the reason for revoking the agreement.")},
    )


class ReadReasonForm(Form):
    reason = forms.CharField(
        label=gettext_lazy("Why do you need the licensee's data?"),
        max_length=ACCESS_REASON_MAX_LENGTH,
        help_text=gettext_lazy("Written to the staff access log with your name."),
        error_messages={"required": gettext_lazy("A reason is required to read a person's data.")},
    )
