"""Forms of the policy pages, the sign-up agreement and the public profile settings: they parse
and validate; policies.py and public_profile.py publish and record."""

from typing import Any

from django import forms
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from backgroundmusic.accounts.models import User
from backgroundmusic.accounts.selectors import PUBLIC_FIELD_CHOICES
from backgroundmusic.core.forms import Form
from backgroundmusic.core.request_info import client_ip, truncate_ip, user_agent_family
from backgroundmusic.privacy import optin, policies
from backgroundmusic.privacy.models import ConsentPurpose, DocumentKind
from backgroundmusic.privacy.policies import TITLE_MAX_LENGTH

# Limits on what staff type: a document ten times the longest edition so far, a summary of a
# few paragraphs.
BODY_MAX_LENGTH = 500_000
SUMMARY_MAX_LENGTH = 5_000
TEXTAREA = forms.Textarea(attrs={"rows": 18, "cols": 80, "spellcheck": "true"})
SUMMARY = forms.Textarea(attrs={"rows": 4, "cols": 80})


class EditionForm(Form):
    kind = forms.ChoiceField(label=_("Document"), choices=DocumentKind.choices)
    version = forms.CharField(
        label=_("Version"),
        max_length=32,
        help_text=_("Letters, digits, dots or hyphens, e.g. 2026-12-01. Shown in the address."),
    )
    effective_at = forms.DateTimeField(
        label=_("Takes effect (UTC)"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Leave empty for “at once”. It cannot be in the past."),
    )
    title_en = forms.CharField(label=_("Title in English"), max_length=TITLE_MAX_LENGTH)
    title_ru = forms.CharField(label=_("Title in Russian"), max_length=TITLE_MAX_LENGTH)
    body_en = forms.CharField(
        label=_("Text in English (Markdown)"), widget=TEXTAREA, max_length=BODY_MAX_LENGTH
    )
    body_ru = forms.CharField(
        label=_("Text in Russian (Markdown)"), widget=TEXTAREA, max_length=BODY_MAX_LENGTH
    )
    change_summary_en = forms.CharField(
        label=_("What changed, in English"),
        widget=SUMMARY,
        max_length=SUMMARY_MAX_LENGTH,
        required=False,
        help_text=_(
            "Shown in the notice to every signed-in user. Needed for every edition but the first."
        ),
    )
    change_summary_ru = forms.CharField(
        label=_("What changed, in Russian"),
        widget=SUMMARY,
        max_length=SUMMARY_MAX_LENGTH,
        required=False,
    )
    material_purposes = forms.MultipleChoiceField(
        label=_("Consent purposes this edition changes materially"),
        choices=ConsentPurpose.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_(
            "The consents given for these purposes are paused on publication until each person "
            "gives them again. Privacy policy only."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Markdown keeps its line breaks and indentation as typed.
        for name in ("body_en", "body_ru", "change_summary_en", "change_summary_ru"):
            self.fields[name].strip = False  # type: ignore[attr-defined]


class AcknowledgeForm(Form):
    edition = forms.IntegerField(min_value=1, max_value=2**63 - 1)
    next = forms.CharField(required=False, max_length=2000)


class SignupAgreementForm(Form):
    """ACCOUNT_SIGNUP_FORM_CLASS, added to allauth's sign-up form: the user agreement and the
    privacy policy, accepted with one required box that is separate from every consent (consents
    are given in the privacy center, each on its own), and the newsletter, asked for with its own
    box, never ticked beforehand, and given only when confirmed by e-mail (privacy/optin.py)."""

    agreement = forms.BooleanField(
        required=True,
        error_messages={
            "required": _(
                "To create an account, accept the user agreement and confirm that you have read "
                "the privacy policy."
            )
        },
    )
    newsletter = forms.BooleanField(
        required=False,
        label=_("Send me the newsletter"),
        help_text=_(
            "Optional. Once you have confirmed your e-mail address, we send one more message "
            "with a link: the newsletter starts only when you confirm there. You can stop it at "
            "any time."
        ),
    )
    field_order = ["username", "email", "password1", "password2", "agreement", "newsletter"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agreement"].label = format_html(
            str(
                _(
                    'I accept the <a href="{terms}" target="_blank" rel="noopener">user '
                    'agreement</a> and have read the <a href="{policy}" target="_blank" '
                    'rel="noopener">privacy policy</a>'
                )
            ),
            terms=reverse("privacy:terms"),
            policy=reverse("privacy:policy"),
        )

    def signup(self, request: HttpRequest, user: User) -> None:
        """Called by allauth once the user exists: the evidence of acceptance, with a truncated
        IP address and the browser family only."""
        policies.signup_agreements_record(
            user=user,
            request_ip_truncated=truncate_ip(client_ip(request)),
            user_agent_family=user_agent_family(request),
        )
        if self.cleaned_data.get("newsletter"):
            optin.newsletter_optin_request_at_signup(
                subject=user, site_url=request.build_absolute_uri("/")
            )


class PublicProfileForm(Form):
    is_published = forms.BooleanField(
        label=_("Publish my profile at its public address"), required=False
    )
    public_fields = forms.MultipleChoiceField(
        label=_("Fields shown on the public profile"),
        choices=PUBLIC_FIELD_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    is_indexable = forms.BooleanField(
        label=_("Let search engines index my public profile"), required=False
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("is_published") and not cleaned.get("public_fields"):
            self.add_error("public_fields", _("Choose at least one field to publish."))
        if cleaned.get("is_indexable") and not cleaned.get("is_published"):
            self.add_error(
                "is_indexable", _("Search engines can index the profile only once it is published.")
            )
        return cleaned
