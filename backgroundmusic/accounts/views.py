from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from backgroundmusic.accounts import selectors, services
from backgroundmusic.accounts.forms import BaseSocialLinkFormSet, ProfileForm, SocialLinkFormSet
from backgroundmusic.accounts.phones import phone_display
from backgroundmusic.core.http import AuthenticatedRequest
from backgroundmusic.core.ratelimits import rate_limited
from backgroundmusic.privacy.kernel.tombstones import profile_was_erased


@login_required
@require_http_methods(["GET", "POST"])
def profile_edit(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    profile = selectors.profile_of(user=user)
    if request.method == "POST":
        form = ProfileForm(request.POST, user=user)
        links = SocialLinkFormSet(request.POST, prefix="links")
        if form.is_valid() and links.is_valid():
            services.profile_update(
                user=user,
                data=services.ProfileData(
                    **form.cleaned_data, social_links=cast(BaseSocialLinkFormSet, links).urls()
                ),
            )
            messages.success(request, _("Your profile is saved."))
            return redirect("accounts:profile")
        messages.error(request, _("The profile was not saved: please correct the marked fields."))
    else:
        form = ProfileForm(
            user=user,
            initial={
                "username": user.username,
                **{
                    name: getattr(profile, name)
                    for name in ProfileForm.base_fields
                    if name != "username"
                },
                "phone": phone_display(profile.phone),
            },
        )
        links = SocialLinkFormSet(
            prefix="links", initial=[{"url": link.url} for link in profile.social_links.all()]
        )
    return render(
        request,
        "accounts/profile.html",
        {"form": form, "links": links, "profile": profile, "email": user.email},
    )


@require_GET
@rate_limited("public_profile")
def public_profile(request: HttpRequest, username: str) -> HttpResponse:
    profile = selectors.public_profile_for(username=username, viewer=request.user)
    if profile is None:
        if profile_was_erased(username=username):
            gone = render(request, "accounts/deleted_profile.html", status=410)
            # Search engines drop the address rather than keep an old copy of the profile.
            gone["X-Robots-Tag"] = "noindex"
            return gone
        raise Http404(_("No public profile here."))
    response = render(request, "accounts/public_profile.html", {"public": profile})
    if not (profile.published and profile.indexable):
        response["X-Robots-Tag"] = "noindex, nofollow"
    return response
