"""The public profile settings page: publishing and indexing are consents, written through
privacy/public_profile.py. The public page itself, /u/<username>/, is accounts'."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from backgroundmusic.accounts import selectors as accounts_selectors
from backgroundmusic.core.http import AuthenticatedRequest
from backgroundmusic.privacy import consents, public_profile
from backgroundmusic.privacy.forms import PublicProfileForm
from backgroundmusic.privacy.models import ConsentPurpose

# The form's field that asks for each consent purpose: its label is the wording of the choice.
PURPOSE_FIELDS = {
    ConsentPurpose.PUBLIC_PROFILE: "is_published",
    ConsentPurpose.INDEXING: "is_indexable",
}


@login_required
@require_http_methods(["GET", "POST"])
def public_profile_settings(request: AuthenticatedRequest) -> HttpResponse:
    profile = accounts_selectors.profile_of(user=request.user)
    if request.method == "POST":
        form = PublicProfileForm(request.POST)
        if form.is_valid():
            public_profile.public_profile_set(
                user=request.user,
                published=form.cleaned_data["is_published"],
                public_fields=form.cleaned_data["public_fields"],
                indexable=form.cleaned_data["is_indexable"],
                evidence={
                    purpose: consents.consent_evidence(
                        request=request, wording=str(form.fields[field].label)
                    )
                    for purpose, field in PURPOSE_FIELDS.items()
                },
            )
            messages.success(request, _("Your public profile settings are saved."))
            return redirect("privacy:public_profile_settings")
    else:
        form = PublicProfileForm(
            initial={
                "is_published": profile.is_published,
                "public_fields": profile.public_fields,
                "is_indexable": profile.is_indexable,
            }
        )
    return render(
        request,
        "privacy/public_profile_settings.html",
        {
            "form": form,
            "profile": profile,
            "choices": request.user.public_profile_choices.all()[:20],
        },
    )
