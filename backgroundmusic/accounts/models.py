from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from backgroundmusic.accounts.usernames import username_skeleton_digest
from backgroundmusic.core.models import AppendOnlyModel
from backgroundmusic.privacy.kernel.fields import EncryptedTextField


class User(AbstractUser):
    """Login identity. The person's name is sealed in Profile, so the name columns are gone."""

    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]
    email = models.EmailField(_("e-mail address"), blank=True)
    # Digest of the username's UTS #39 skeleton (accounts/usernames.py): a name that looks like
    # a taken one is refused with one indexed lookup, and the unique constraint holds under
    # concurrent sign-ups. NULL only for accounts that already looked alike before the column
    # existed (migration 0006); the older of them holds the value and so still blocks the look.
    username_skeleton = models.CharField(  # noqa: DJ001 - NULL, unlike "", is never a duplicate
        _("username look-alike digest"), max_length=64, null=True, blank=True, editable=False
    )

    class Meta:
        swappable = "AUTH_USER_MODEL"
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(fields=["username_skeleton"], name="user_username_skeleton")
        ]

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Derived from the username wherever it is set (sign-up, profile, admin, management
        # commands); erasure replaces both through the data map (accounts/privacy.py).
        self.username_skeleton = username_skeleton_digest(self.username)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "username" in update_fields:
            kwargs["update_fields"] = {*update_fields, "username_skeleton"}
        super().save(*args, **kwargs)


class AccountType(models.TextChoices):
    NATURAL = "natural", _("Natural person")
    LEGAL = "legal", _("Legal person (company)")


class Profile(models.Model):
    """What the person tells us about themselves (policy clause 1.4); see privacy.fields."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="profile")
    account_type = models.CharField(
        _("account type"), max_length=16, choices=AccountType.choices, default=AccountType.NATURAL
    )
    full_name = EncryptedTextField(_("full name"), blank=True)
    company_name = EncryptedTextField(_("company name"), blank=True)
    tax_id = EncryptedTextField(_("tax id"), blank=True)
    address_country = EncryptedTextField(_("country"), blank=True)
    address_region = EncryptedTextField(_("region"), blank=True)
    address_city = EncryptedTextField(_("city"), blank=True)
    address_street = EncryptedTextField(_("street and building"), blank=True)
    address_postcode = EncryptedTextField(_("postcode"), blank=True)
    # E.164 ("+79161234567"), parsed and checked by accounts/phones.py before it is stored.
    phone = EncryptedTextField(_("contact phone"), blank=True)
    # The language of the messages we send the person: the page's language at sign-up.
    language = models.CharField(
        _("language of our messages"),
        max_length=8,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
    )
    is_published = models.BooleanField(_("public profile"), default=False)
    is_indexable = models.BooleanField(_("search-engine indexing"), default=False)
    public_fields = models.JSONField(_("public fields"), default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(is_indexable=False) | Q(is_published=True),
                name="profile_indexable_only_when_published",
            ),
            models.CheckConstraint(
                condition=Q(account_type__in=["natural", "legal"]),
                name="profile_account_type_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"profile #{self.pk}"


class SocialLink(models.Model):
    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="social_links")
    url = EncryptedTextField(_("profile link"), key_owner="profile.user")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return f"social link #{self.pk}"


class PublicProfileChoice(models.Model):
    """Append-only history of what the person chose to publish and whether to allow indexing."""

    class Action(models.TextChoices):
        PUBLISHED = "published", _("Published")
        UNPUBLISHED = "unpublished", _("Unpublished")
        INDEXING_ALLOWED = "indexing_allowed", _("Search-engine indexing allowed")
        INDEXING_WITHDRAWN = "indexing_withdrawn", _("Search-engine indexing withdrawn")
        FIELDS_CHANGED = "fields_changed", _("Public fields changed")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="public_profile_choices")
    action = models.CharField(max_length=32, choices=Action.choices)
    public_fields = models.JSONField(default=list)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.action} at {self.at:%Y-%m-%d %H:%M}"


class BreakGlassGrant(AppendOnlyModel):
    """Superuser status given to one account for a stated reason and a bounded time by
    `manage.py break_glass grant` (accounts/break_glass.py). Append-only: a grant is ended by
    adding its BreakGlassEnd."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="break_glass_grants")
    reason = models.TextField()
    # The operating-system account that ran the command (SUDO_USER when run through sudo).
    operator = models.CharField(max_length=150)
    # The account's is_staff before the grant, given back when the grant ends.
    was_staff = models.BooleanField()
    granted_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-granted_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("granted_at")), name="break_glass_expires_after_grant"
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="break_glass_has_a_reason"),
        ]

    def __str__(self) -> str:
        return f"break-glass grant #{self.pk} until {self.expires_at:%Y-%m-%d %H:%M}"


class BreakGlassEnd(AppendOnlyModel):
    """How and when a break-glass grant ended: revoked by an operator, or expired."""

    class How(models.TextChoices):
        REVOKED = "revoked", "revoked"
        EXPIRED = "expired", "expired"

    grant = models.OneToOneField(BreakGlassGrant, on_delete=models.CASCADE, related_name="end")
    how = models.CharField(max_length=16, choices=How.choices)
    reason = models.TextField(blank=True)
    operator = models.CharField(max_length=150, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"break-glass grant #{self.grant_id} {self.how} at {self.at:%Y-%m-%d %H:%M}"
