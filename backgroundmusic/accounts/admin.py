"""The Django admin, kept from becoming a back door to personal data.

Staff read a person's data only on the staff pages (/staff/), which ask for a reason and write
each reading to the hash-chained access log. The admin writes no such log, so it shows no personal
data beyond what finding an account needs:
- User: only username, id, active flag, groups (staff roles) and dates; never the e-mail.
  Accounts are created through sign-up and services (profile, e-mail record, data key) and erased
  through the privacy services ("every copy"), so the admin neither adds nor deletes them.
- Profile, SocialLink, PublicProfileChoice, DataKey and StaffAccessLogEntry are not registered.
- The models other packages register that hold personal data are unregistered: allauth's e-mail
  addresses, authenticators (TOTP secrets) and user sessions (IP address, user agent), and axes'
  sign-in attempts and logs (username, IP address, user agent; unlock with `manage.py axes_reset`).
Sign-in to the admin goes through allauth (secure_admin_login), so two-factor authentication and
rate limits apply there too; StaffTwoFactorMiddleware requires TOTP for every staff member.
No role lets anyone into the admin: it is used under a break-glass grant (accounts/break_glass.py),
which ends the moment it expires.
"""

from allauth.account.decorators import secure_admin_login
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from backgroundmusic.accounts import selectors
from backgroundmusic.accounts.adapter import USERNAME_LOOKS_TAKEN
from backgroundmusic.accounts.break_glass import break_glass_end_due
from backgroundmusic.accounts.models import User
from backgroundmusic.core.forms import TextRulesMixin

admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]
_site_has_permission = admin.site.has_permission


def _has_permission_within_break_glass(request: HttpRequest) -> bool:
    """Superuser status is used here, so its expiry is checked here too, not only by the
    every-minute job (which a stopped worker would not run)."""
    user = request.user
    if user.is_authenticated and user.is_superuser and break_glass_end_due():
        user.refresh_from_db()
    return _site_has_permission(request)


admin.site.has_permission = _has_permission_within_break_glass  # type: ignore[method-assign]

for _model in (
    EmailAddress,
    Authenticator,
    UserSession,
    AccessAttempt,
    AccessLog,
    AccessFailureLog,
):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


class UserAdminForm(TextRulesMixin, forms.ModelForm):
    def clean_username(self) -> str:
        # The look-alike column is not on the form, so Django does not check its constraint.
        username = self.cleaned_data["username"]
        if selectors.username_looks_taken(username=username, exclude_user_id=self.instance.pk):
            raise ValidationError(USERNAME_LOOKS_TAKEN, code="username_looks_taken")
        return str(username)


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    form = UserAdminForm
    list_display = ("username", "id", "is_active", "date_joined", "last_login")
    list_filter = ("is_active", "groups")
    search_fields = ("username", "=id")
    fields = ("username", "id", "is_active", "groups", "date_joined", "last_login")
    readonly_fields = ("id", "date_joined", "last_login")
    filter_horizontal = ("groups",)
    ordering = ("username",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
