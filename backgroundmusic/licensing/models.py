"""Licensing: plans as editions, carts, orders and invoices, payments, licence agreements,
certificates and what a licence covers (DESIGN.md §8; docs/architecture.md "Licensing").

The documents here are contract and accounting records. A person's rows keep a pseudonym beside
the user link, so that erasure can drop the link (and a natural person's name) and keep the
document for the term the law sets (licensing/privacy.py).

Money is stored as Decimal with two places in the order's currency; arithmetic and rounding live
in licensing/money.py. Tracks are named by a string reference ("catalog.Track"): licensing sits
beside catalog and media (docs/architecture.md).
"""

from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Round
from django.utils.translation import gettext_lazy as _

from backgroundmusic.core.models import AppendOnlyModel

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def money(verbose_name: "StrOrPromise | None" = None) -> "models.DecimalField[Decimal, Decimal]":
    """An amount in the currency of its row: two places, up to a trillion."""
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=2)


class Currency(models.TextChoices):
    RUB = "RUB", _("Russian rouble")
    EUR = "EUR", _("Euro")


class PlanKind(models.TextChoices):
    CREATOR = "creator", _("Creator subscription")
    BUSINESS = "business", _("Business subscription")
    VENUE = "venue", _("Venue plan")
    SINGLE_TRACK = "single_track", _("Single-track licence")


class Use(models.TextChoices):
    """What a licence lets its holder do with the music."""

    ONLINE_VIDEO = "online_video", _("Online videos on the licensee's own channels")
    PODCAST = "podcast", _("Podcasts on the licensee's own channels")
    COMPANY_CHANNEL = "company_channel", _("Videos on a company's channels")
    ADVERTISING = "advertising", _("Advertising")
    PUBLIC_PERFORMANCE = "public_performance", _("Public performance at a venue")
    PROJECT = "project", _("One named project in any medium")


class Territory(models.TextChoices):
    WORLDWIDE = "worldwide", _("Worldwide")
    RUSSIA = "RU", _("Russian Federation")


class Scope(models.TextChoices):
    CATALOGUE = "catalogue", _("The whole catalogue")
    TRACK = "track", _("One track")


class Term(models.TextChoices):
    MONTHLY = "monthly", _("Monthly subscription, renewed by paying each month")
    PERPETUAL = "perpetual", _("Perpetual")


class QuantityUnit(models.TextChoices):
    """What the quantity of an order line counts; the price is per unit (per month when monthly)."""

    LICENCE = "licence", _("licence")
    LOCATION = "location", _("location")


class Plan(models.Model):
    """A plan's lasting identity; what it offers is in its editions."""

    code = models.SlugField(max_length=40, unique=True)
    kind = models.CharField(max_length=16, choices=PlanKind.choices)
    position = models.PositiveSmallIntegerField(default=0)
    # A withdrawn plan is no longer sold; agreements concluded under it stay as they are.
    is_offered = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.code


class PlanEdition(AppendOnlyModel):
    """One immutable edition of a plan: every term a licence under it is concluded on.

    content_hash covers every field a licensee relies on (licensing/editions.py); an agreement
    records it, so the terms it was concluded on can always be shown and checked.
    """

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="editions")
    version = models.CharField(max_length=32)
    title_en = models.CharField(max_length=200)
    title_ru = models.CharField(max_length=200)
    description_en = models.TextField(help_text="Markdown")
    description_ru = models.TextField(help_text="Markdown")
    uses = models.JSONField(help_text="Use values")
    territory = models.CharField(max_length=16, choices=Territory.choices)
    scope = models.CharField(max_length=16, choices=Scope.choices)
    term = models.CharField(max_length=16, choices=Term.choices)
    quantity_unit = models.CharField(max_length=16, choices=QuantityUnit.choices)
    min_quantity = models.PositiveIntegerField(default=1)
    max_quantity = models.PositiveIntegerField(default=1)
    # Prices of one unit for one term (a month when monthly), VAT not included.
    price_rub = money()
    price_eur = money()
    # Percent, e.g. 20.00; data of the edition because the rate changes by law.
    vat_rate = models.DecimalField(max_digits=5, decimal_places=2)
    content_hash = models.CharField(max_length=64, unique=True)
    effective_at = models.DateTimeField()
    published_at = models.DateTimeField()
    published_by_id = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["plan", "-effective_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "version"], name="plan_edition_version_once"),
            models.CheckConstraint(
                condition=Q(min_quantity__gte=1) & Q(max_quantity__gte=F("min_quantity")),
                name="plan_edition_quantities",
            ),
            models.CheckConstraint(
                condition=Q(price_rub__gte=0) & Q(price_eur__gte=0),
                name="plan_edition_prices_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(vat_rate__gte=0) & Q(vat_rate__lt=100), name="plan_edition_vat_rate"
            ),
        ]
        permissions = [("publish_planedition", "Can publish plan editions")]

    def __str__(self) -> str:
        return f"{self.plan.code} {self.version}"


class LicenceTermsEdition(AppendOnlyModel):
    """One immutable edition of the licence terms a buyer accepts at checkout."""

    version = models.CharField(max_length=32, unique=True)
    title_en = models.CharField(max_length=200)
    title_ru = models.CharField(max_length=200)
    body_en = models.TextField(help_text="Markdown")
    body_ru = models.TextField(help_text="Markdown")
    content_hash = models.CharField(max_length=64, unique=True)
    effective_at = models.DateTimeField()
    published_at = models.DateTimeField()
    published_by_id = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-effective_at", "-pk"]

    def __str__(self) -> str:
        return f"licence terms {self.version}"


class CartLine(models.Model):
    """What a signed-in person means to buy; it becomes an order line at checkout."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="cart_lines",
        verbose_name=_("account"),
    )
    plan_edition = models.ForeignKey(
        PlanEdition, on_delete=models.CASCADE, related_name="+", verbose_name=_("plan edition")
    )
    track = models.ForeignKey(
        "catalog.Track",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("track"),
    )
    quantity = models.PositiveIntegerField(default=1, verbose_name=_("quantity"))
    # The venue, channel or project the licence is for, as the buyer names it.
    use_description = models.CharField(
        max_length=300, blank=True, verbose_name=_("venue, channel or project")
    )
    added_at = models.DateTimeField(verbose_name=_("added at"))

    class Meta:
        verbose_name = _("cart line")
        verbose_name_plural = _("cart lines")
        ordering = ["added_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="cart_line_quantity")
        ]

    def __str__(self) -> str:
        return f"cart line {self.pk}"


class BuyerKind(models.TextChoices):
    NATURAL = "natural", _("Private person")
    LEGAL = "legal", _("Company or sole proprietor")


class PaymentMethod(models.TextChoices):
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    CARD = "card", _("Bank card")


class Order(models.Model):
    """A purchase: its lines, totals, the buyer as they were at checkout, the accepted terms."""

    class Status(models.TextChoices):
        AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
        PAID = "paid", _("Paid")
        CANCELLED = "cancelled", _("Cancelled")
        REFUNDED = "refunded", _("Refunded")

    public_id = models.CharField(max_length=32, unique=True, verbose_name=_("order number"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="licence_orders",
        verbose_name=_("account"),
    )
    subject_pseudonym = models.CharField(max_length=40, verbose_name=_("pseudonym"))
    buyer_kind = models.CharField(
        max_length=16, choices=BuyerKind.choices, verbose_name=_("kind of buyer")
    )
    # The buyer's details at checkout, in plain text: the invoice and the agreement must show
    # them for years; erasure pseudonymizes a private person's name and address (privacy.py).
    buyer_name = models.CharField(max_length=300, verbose_name=_("buyer's full name"))
    company_name = models.CharField(max_length=300, blank=True, verbose_name=_("company name"))
    tax_id = models.CharField(max_length=12, blank=True, verbose_name=_("tax id"))
    tax_registration_code = models.CharField(max_length=9, blank=True, verbose_name=_("KPP"))
    buyer_address = models.TextField(blank=True, verbose_name=_("postal address"))
    buyer_email = models.CharField(max_length=254, blank=True, verbose_name=_("e-mail address"))
    currency = models.CharField(max_length=3, choices=Currency.choices, verbose_name=_("currency"))
    payment_method = models.CharField(
        max_length=16, choices=PaymentMethod.choices, verbose_name=_("payment method")
    )
    status = models.CharField(
        max_length=20,
        choices=Status.choices,
        default=Status.AWAITING_PAYMENT,
        verbose_name=_("status"),
    )
    terms_edition = models.ForeignKey(
        LicenceTermsEdition,
        on_delete=models.PROTECT,
        related_name="orders",
        verbose_name=_("licence terms edition"),
    )
    terms_edition_hash = models.CharField(
        max_length=64, verbose_name=_("fingerprint of the licence terms")
    )
    terms_accepted_at = models.DateTimeField(verbose_name=_("licence terms accepted at"))
    terms_ip_truncated = models.CharField(
        max_length=64, blank=True, verbose_name=_("shortened IP address when accepting")
    )
    terms_user_agent_family = models.CharField(
        max_length=64, blank=True, verbose_name=_("browser family when accepting")
    )
    net_total = money(verbose_name=_("total without VAT"))
    vat_total = money(verbose_name=_("VAT"))
    gross_total = money(verbose_name=_("total with VAT"))
    created_at = models.DateTimeField(verbose_name=_("placed at"))
    paid_at = models.DateTimeField(null=True, blank=True, verbose_name=_("paid at"))
    closed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("closed at"))
    # When the law lets the order, its invoice and payments go (licensing/privacy.py).
    keep_until = models.DateField(null=True, blank=True, verbose_name=_("kept until"))

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                # Rounded: SQLite adds decimals as doubles (30.22 + 6.02 = 36.239999...).
                condition=Q(gross_total=Round(F("net_total") + F("vat_total"), 2)),
                name="order_gross_is_net_plus_vat",
            ),
            models.CheckConstraint(
                condition=~Q(buyer_kind="legal") | ~Q(company_name="") & ~Q(tax_id=""),
                name="order_legal_buyer_has_requisites",
            ),
        ]

    def __str__(self) -> str:
        return f"order {self.public_id}"


class OrderLine(models.Model):
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order")
    )
    position = models.PositiveSmallIntegerField(verbose_name=_("line number"))
    plan_edition = models.ForeignKey(
        PlanEdition, on_delete=models.PROTECT, related_name="+", verbose_name=_("plan edition")
    )
    plan_edition_hash = models.CharField(
        max_length=64, verbose_name=_("fingerprint of the plan edition")
    )
    track = models.ForeignKey(
        "catalog.Track",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("track"),
    )
    quantity = models.PositiveIntegerField(verbose_name=_("quantity"))
    use_description = models.CharField(
        max_length=300, blank=True, verbose_name=_("venue, channel or project")
    )
    unit_price = money(verbose_name=_("price of a unit without VAT"))
    net_amount = money(verbose_name=_("amount without VAT"))
    vat_rate = models.DecimalField(max_digits=5, decimal_places=2, verbose_name=_("VAT rate, %"))
    vat_amount = money(verbose_name=_("VAT"))
    gross_amount = money(verbose_name=_("amount with VAT"))
    # A renewal line pays one more month of an existing subscription instead of concluding a
    # new agreement: when the order is paid the agreement's paid_until becomes renews_until
    # (licensing/agreements.py, agreements_conclude → agreement_extend).
    renews = models.ForeignKey(
        "Agreement",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="renewals",
        verbose_name=_("renews licence agreement"),
    )
    renews_until = models.DateTimeField(null=True, blank=True, verbose_name=_("renews until"))

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order", "position"]
        constraints = [
            models.UniqueConstraint(fields=["order", "position"], name="order_line_position_once"),
            models.CheckConstraint(
                condition=Q(gross_amount=Round(F("net_amount") + F("vat_amount"), 2)),
                name="order_line_gross_is_net_plus_vat",
            ),
            models.CheckConstraint(
                condition=Q(renews__isnull=True, renews_until__isnull=True)
                | Q(renews__isnull=False, renews_until__isnull=False),
                name="order_line_renewal_names_its_end",
            ),
        ]

    def __str__(self) -> str:
        return f"line {self.position} of {self.order}"


class InvoiceYear(models.Model):
    """The last invoice number of a year. Issuing locks this row, so numbers have no gaps and
    no repeats however many orders are placed at once (licensing/invoices.py)."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"invoices of {self.year}: {self.last_number}"


class Invoice(models.Model):
    order = models.OneToOneField(
        Order, on_delete=models.CASCADE, related_name="invoice", verbose_name=_("order")
    )
    year = models.PositiveSmallIntegerField(verbose_name=_("year"))
    number = models.PositiveIntegerField(verbose_name=_("number"))
    issued_at = models.DateTimeField(verbose_name=_("issued at"))

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-year", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["year", "number"], name="invoice_number_once_a_year")
        ]

    def __str__(self) -> str:
        return f"{self.year}-{self.number:06d}"


class Payment(models.Model):
    """One attempt to pay an order through a provider (licensing/payments/)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        CANCELED = "canceled", _("Cancelled")

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="payments", verbose_name=_("order")
    )
    provider = models.CharField(max_length=32, verbose_name=_("payment service"))
    # The provider's id; empty until the provider has answered (a bank transfer has none).
    provider_payment_id = models.CharField(
        max_length=64, blank=True, verbose_name=_("payment's id at the payment service")
    )
    idempotency_key = models.CharField(
        max_length=64, unique=True, verbose_name=_("idempotency key")
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, verbose_name=_("status")
    )
    amount = money(verbose_name=_("amount"))
    currency = models.CharField(max_length=3, choices=Currency.choices, verbose_name=_("currency"))
    confirmation_url = models.URLField(max_length=2000, blank=True, verbose_name=_("payment page"))
    created_at = models.DateTimeField(verbose_name=_("created at"))
    updated_at = models.DateTimeField(verbose_name=_("updated at"))
    # Staff who confirmed a bank transfer.
    confirmed_by_id = models.PositiveBigIntegerField(
        null=True, blank=True, verbose_name=_("confirmed by staff member no.")
    )

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_payment_id"],
                condition=~Q(provider_payment_id=""),
                name="payment_provider_id_once",
            )
        ]

    def __str__(self) -> str:
        return f"payment {self.pk} of {self.order}"


class Refund(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        CANCELED = "canceled", _("Cancelled")

    payment = models.ForeignKey(
        Payment, on_delete=models.CASCADE, related_name="refunds", verbose_name=_("payment")
    )
    provider_refund_id = models.CharField(
        max_length=64, blank=True, verbose_name=_("refund's id at the payment service")
    )
    idempotency_key = models.CharField(
        max_length=64, unique=True, verbose_name=_("idempotency key")
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, verbose_name=_("status")
    )
    amount = money(verbose_name=_("amount"))
    reason = models.TextField(verbose_name=_("reason"))
    actor_id = models.PositiveBigIntegerField(
        null=True, blank=True, verbose_name=_("staff member no.")
    )
    created_at = models.DateTimeField(verbose_name=_("created at"))
    updated_at = models.DateTimeField(verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"refund {self.pk} of {self.payment}"


class PaymentNotification(AppendOnlyModel):
    """A provider's webhook as received: only its event and object id are ever used, and only to
    re-read that object from the provider (licensing/services.py)."""

    provider = models.CharField(max_length=32)
    event = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    received_at = models.DateTimeField()
    outcome = models.CharField(max_length=64)

    class Meta:
        ordering = ["-received_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.provider} {self.event} {self.object_id}"


# A subscription whose paid month has ended is suspended at once: entitlement already stops at
# paid_until (entitlements.py), so a grace period would only make the status disagree with what
# the licensee can do. Paying the renewal within this many days revives it; then it expires
# (docs/decisions/0021-agreement-lapse.md).
SUSPENDED_DAYS_BEFORE_EXPIRY = 30


class Agreement(models.Model):
    """A licence agreement, concluded when its order line is paid.

    Its terms are frozen at conclusion: the plan edition and licence terms by hash, and the
    rendered document in both languages with its own hash. Only the status, the paid period of a
    subscription and keep_until change afterwards, each change written to AgreementEvent.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        EXPIRED = "expired", _("Expired")
        SUSPENDED = "suspended", _("Suspended (renewal unpaid)")
        REVOKED = "revoked", _("Revoked")

    number = models.CharField(max_length=32, unique=True, verbose_name=_("number"))
    order_line = models.OneToOneField(
        OrderLine, on_delete=models.PROTECT, related_name="agreement", verbose_name=_("order line")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="licence_agreements",
        verbose_name=_("account"),
    )
    subject_pseudonym = models.CharField(max_length=40, verbose_name=_("pseudonym"))
    licensee_kind = models.CharField(
        max_length=16, choices=BuyerKind.choices, verbose_name=_("kind of licensee")
    )
    licensee_name = models.CharField(max_length=300, verbose_name=_("licensee's name"))
    plan_edition = models.ForeignKey(
        PlanEdition, on_delete=models.PROTECT, related_name="+", verbose_name=_("plan edition")
    )
    plan_edition_hash = models.CharField(
        max_length=64, verbose_name=_("fingerprint of the plan edition")
    )
    terms_edition = models.ForeignKey(
        LicenceTermsEdition,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("licence terms edition"),
    )
    terms_edition_hash = models.CharField(
        max_length=64, verbose_name=_("fingerprint of the licence terms")
    )
    scope = models.CharField(max_length=16, choices=Scope.choices, verbose_name=_("music"))
    track = models.ForeignKey(
        "catalog.Track",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("track"),
    )
    uses = models.JSONField(verbose_name=_("uses"))
    territory = models.CharField(
        max_length=16, choices=Territory.choices, verbose_name=_("territory")
    )
    quantity = models.PositiveIntegerField(verbose_name=_("quantity"))
    use_description = models.CharField(
        max_length=300, blank=True, verbose_name=_("venue, channel or project")
    )
    starts_at = models.DateTimeField(verbose_name=_("in force from"))
    # None for a perpetual licence; a subscription's end of the last paid month.
    paid_until = models.DateTimeField(null=True, blank=True, verbose_name=_("paid until"))
    ended_at = models.DateTimeField(null=True, blank=True, verbose_name=_("ended at"))
    # The licensee cancelled renewal: the subscription expires at paid_until, not suspended.
    renewal_cancelled_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("renewal cancelled at")
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.ACTIVE, verbose_name=_("status")
    )
    document_en = models.TextField(verbose_name=_("text in English"))
    document_ru = models.TextField(verbose_name=_("text in Russian"))
    document_hash = models.CharField(max_length=64, verbose_name=_("fingerprint of the text"))
    concluded_at = models.DateTimeField(verbose_name=_("concluded at"))
    keep_until = models.DateField(null=True, blank=True, verbose_name=_("kept until"))

    class Meta:
        verbose_name = _("licence agreement")
        verbose_name_plural = _("licence agreements")
        ordering = ["-concluded_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(scope="track") | Q(track__isnull=False),
                name="agreement_track_scope_names_track",
            ),
            models.CheckConstraint(
                condition=Q(paid_until__isnull=True) | Q(paid_until__gt=F("starts_at")),
                name="agreement_paid_until_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"agreement {self.number}"


class AgreementEvent(AppendOnlyModel):
    """The history of an agreement: its conclusion, renewals and every change of status."""

    agreement = models.ForeignKey(
        Agreement,
        on_delete=models.CASCADE,
        related_name="events",
        verbose_name=_("licence agreement"),
    )
    status_from = models.CharField(max_length=16, blank=True, verbose_name=_("status before"))
    status_to = models.CharField(max_length=16, verbose_name=_("status after"))
    paid_until = models.DateTimeField(null=True, blank=True, verbose_name=_("paid until"))
    reason = models.TextField(blank=True, verbose_name=_("reason"))
    actor_id = models.PositiveBigIntegerField(
        null=True, blank=True, verbose_name=_("staff member no.")
    )
    at = models.DateTimeField(verbose_name=_("time"))

    class Meta:
        verbose_name = _("licence agreement event")
        verbose_name_plural = _("history of licence agreements")
        ordering = ["agreement", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.agreement}: {self.status_from or '-'} → {self.status_to}"


class Certificate(models.Model):
    """The public face of an agreement, verifiable by anyone at /verify/<public_id>/."""

    class Display(models.TextChoices):
        PRIVATE_PERSON = "private_person", _("A private person")
        COMPANY = "company", _("The company's name")
        FULL_NAME = "full_name", _("My full name")

    agreement = models.OneToOneField(
        Agreement,
        on_delete=models.CASCADE,
        related_name="certificate",
        verbose_name=_("licence agreement"),
    )
    # 128 random bits, URL-safe: the id cannot be guessed or enumerated.
    public_id = models.CharField(max_length=32, unique=True, verbose_name=_("public code"))
    licensee_display = models.CharField(
        max_length=16,
        choices=Display.choices,
        default=Display.PRIVATE_PERSON,
        verbose_name=_("licensee shown as"),
    )
    created_at = models.DateTimeField(verbose_name=_("created at"))

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")

    def __str__(self) -> str:
        return f"certificate {self.public_id}"


class Platform(models.TextChoices):
    YOUTUBE = "youtube", "YouTube"
    VK = "vk", "VK"
    RUTUBE = "rutube", "RUTUBE"
    TELEGRAM = "telegram", "Telegram"
    PODCAST = "podcast", _("Podcast platform")
    OTHER = "other", _("Other")


class CoveredChannel(models.Model):
    """A channel a creator publishes on under a subscription."""

    agreement = models.ForeignKey(
        Agreement,
        on_delete=models.CASCADE,
        related_name="channels",
        verbose_name=_("licence agreement"),
    )
    platform = models.CharField(max_length=16, choices=Platform.choices, verbose_name=_("platform"))
    url = models.URLField(max_length=500, verbose_name=_("link"))
    added_at = models.DateTimeField(verbose_name=_("added at"))

    class Meta:
        verbose_name = _("registered channel")
        verbose_name_plural = _("registered channels")
        ordering = ["agreement", "added_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "url"], name="covered_channel_once")
        ]

    def __str__(self) -> str:
        return f"{self.platform} channel of {self.agreement}"


class CoveredUse(models.Model):
    """One published work (a video, an episode) using the music under an agreement. A use
    published while the agreement was in force stays covered after it ends."""

    agreement = models.ForeignKey(
        Agreement,
        on_delete=models.CASCADE,
        related_name="covered_uses",
        verbose_name=_("licence agreement"),
    )
    track = models.ForeignKey(
        "catalog.Track",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("track"),
    )
    platform = models.CharField(max_length=16, choices=Platform.choices, verbose_name=_("platform"))
    url = models.URLField(max_length=500, verbose_name=_("link"))
    title = models.CharField(max_length=300, blank=True, verbose_name=_("title"))
    published_on = models.DateField(verbose_name=_("published on"))
    added_at = models.DateTimeField(verbose_name=_("added at"))

    class Meta:
        verbose_name = _("registered work")
        verbose_name_plural = _("registered works")
        ordering = ["agreement", "published_on", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "url"], name="covered_use_once")
        ]

    def __str__(self) -> str:
        return f"{self.platform} use of {self.agreement}"


class Notice(models.Model):
    """An e-mail licensing owes the buyer about an order or an agreement's change of status.

    The row is written with the job that sends it, in the transaction of the change, and marked
    when the mail has gone: the job sends each notice once, and again only if it died between
    sending and marking (at least once, never lost)."""

    class Kind(models.TextChoices):
        ORDER_PAID = "order_paid", _("Order paid: your licences")
        AGREEMENT_SUSPENDED = "agreement_suspended", _("Subscription suspended: not renewed")
        AGREEMENT_EXPIRED = "agreement_expired", _("Licence expired")

    kind = models.CharField(max_length=32, choices=Kind.choices, verbose_name=_("kind"))
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="notices", verbose_name=_("order")
    )
    event = models.ForeignKey(
        AgreementEvent,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notices",
        verbose_name=_("licence agreement event"),
    )
    queued_at = models.DateTimeField(verbose_name=_("queued at"))
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))

    class Meta:
        verbose_name = _("licensing notice")
        verbose_name_plural = _("licensing notices")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "order"],
                condition=Q(event__isnull=True),
                name="licensing_notice_once_per_order",
            ),
            models.UniqueConstraint(
                fields=["kind", "event"],
                condition=Q(event__isnull=False),
                name="licensing_notice_once_per_event",
            ),
            models.CheckConstraint(
                condition=Q(kind="order_paid", event__isnull=True)
                | (~Q(kind="order_paid") & Q(event__isnull=False)),
                name="licensing_notice_event_for_agreement_kinds",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} ({self.order_id})"
