from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_countries.fields import CountryField

from backgroundmusic.core.models import AppendOnlyModel

# The kernel's models load with this app and carry its label (privacy/kernel/models.py).
from backgroundmusic.privacy.kernel.models import (  # noqa: F401
    DataKey,
    ErasedProfileTombstone,
    ErasureLedgerEntry,
    LegalHold,
    StaffAccessLogCheckpoint,
    StaffAccessLogEntry,
)

# Policy editions and their acceptance (policy clause 8)


class DocumentKind(models.TextChoices):
    PRIVACY_POLICY = "privacy_policy", _("Privacy policy")
    TERMS_OF_USE = "terms_of_use", _("User agreement (terms of use)")


class PolicyEdition(AppendOnlyModel):
    """One edition of a public document, published when created and immutable from then on."""

    kind = models.CharField(max_length=32, choices=DocumentKind.choices)
    version = models.CharField(max_length=32)
    title_en = models.CharField(max_length=200)
    title_ru = models.CharField(max_length=200)
    body_en = models.TextField(help_text="Markdown")
    body_ru = models.TextField(help_text="Markdown")
    change_summary_en = models.TextField(blank=True)
    change_summary_ru = models.TextField(blank=True)
    # Consent purposes whose terms changed materially: those consents are suspended on publication.
    material_purposes = models.JSONField(default=list, blank=True)
    content_hash = models.CharField(max_length=64, unique=True)
    effective_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True, blank=True)
    published_by_id = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "-effective_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "version"], name="policy_edition_version_once"),
            models.CheckConstraint(
                condition=Q(published_at__isnull=True) | Q(published_at__lte=F("effective_at")),
                name="policy_edition_published_before_effective",
            ),
        ]
        permissions = [("publish_policyedition", "Can publish policy editions")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.version}"


class AcceptanceAction(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted")  # the user agreement: a contract
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")  # the privacy policy: information


class PolicyAcceptance(AppendOnlyModel):
    """Evidence that a person accepted (terms) or acknowledged (policy) an edition."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="policy_acceptances",
    )
    # Kept when the account is erased: the contract evidence stays, the person does not.
    subject_pseudonym = models.CharField(max_length=40)
    edition = models.ForeignKey(PolicyEdition, on_delete=models.PROTECT, related_name="acceptances")
    edition_hash = models.CharField(max_length=64)
    action = models.CharField(max_length=16, choices=AcceptanceAction.choices)
    at = models.DateTimeField()
    ip_truncated = models.CharField(max_length=64, blank=True)
    user_agent_family = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.action} {self.edition} at {self.at:%Y-%m-%d %H:%M}"


# Consents (policy clauses 3.2, 6.1, 6.4, 7.1)


class ConsentPurpose(models.TextChoices):
    NEWSLETTER = "newsletter", _("Newsletters and promotional e-mail")
    PROMOTIONAL_SMS = "promotional_sms", _("Promotional text messages to your phone")
    ANALYTICS = "analytics", _("Identified analytics cookies")
    RESEARCH = "research", _("Depersonalized research and ad targeting by partners")
    PUBLIC_PROFILE = "public_profile", _("Public profile")
    INDEXING = "indexing", _("Search-engine indexing of the public profile")
    SHARING = "sharing", _("Sharing with a named third party")


class ConsentAction(models.TextChoices):
    GIVEN = "given", _("Given")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    SUSPENDED = "suspended", _("Suspended by a material policy change")


class ConsentMethod(models.TextChoices):
    FORM = "form", _("Form")
    BANNER = "banner", _("Cookie banner")
    PREFERENCE_CENTER = "preference_center", _("Preference center")
    GPC = "gpc", _("Global Privacy Control signal")
    DNT = "dnt", _("Do Not Track signal")
    EMAIL = "email", _("E-mail (unsubscribe link)")
    EMAIL_CONFIRMATION = "email_confirmation", _("Confirmed by a link sent by e-mail")
    ONE_CLICK = "one_click", _("One-click unsubscribe from a message")
    INBOUND_EMAIL = "inbound_email", _("A letter to our e-mail address")
    STAFF = "staff", _("Staff, on the person's request")
    POLICY_CHANGE = "policy_change", _("Policy change")
    RESTRICTION = "restriction", _("Restriction of processing")


class Recipient(models.Model):
    """A named third party that may receive a person's data (clauses 2.2, 5.4, 6.3, 6.4)."""

    name = models.CharField(max_length=200, unique=True)
    country = CountryField()
    purpose_en = models.TextField()
    purpose_ru = models.TextField()
    categories = models.JSONField(default=list)
    # Offered as a per-person sharing toggle in the privacy center (consent purpose "sharing").
    shared_with_consent = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Adequacy(models.TextChoices):
    """Whether the recipient's country protects personal data adequately (152-FZ art. 12), and
    why: the lists are data (privacy/adequacy.toml)."""

    CONVENTION_108 = "convention_108", _("Adequate: a party to Convention 108")
    AUTHORITY_LIST = "authority_list", _("Adequate: on Roskomnadzor's list")
    NOT_ADEQUATE = "not_adequate", _("No adequate protection")


class TransferBasis(models.TextChoices):
    CONTRACT = "contract", _("Performance of a contract with the person")
    WRITTEN_CONSENT = "written_consent", _("The person's written consent")
    LAW = "law", _("An international treaty or a federal law")
    VITAL_INTERESTS = "vital_interests", _("Protection of the person's life or health")


class TransferRecord(models.Model):
    """A transfer of personal data abroad (152-FZ art. 12): to which recipient and country, how
    adequate the country's protection is, the date the authority was notified, the safeguards.
    Without one in force, a disclosure abroad and an outbound destination abroad are refused
    (privacy/transfers.py)."""

    recipient = models.ForeignKey(Recipient, on_delete=models.PROTECT, related_name="transfers")
    country = CountryField()
    adequacy = models.CharField(max_length=20, choices=Adequacy.choices)
    # The list the adequacy was read from, as it names itself (privacy/adequacy.toml).
    adequacy_source = models.CharField(max_length=300, blank=True)
    basis = models.CharField(max_length=20, choices=TransferBasis.choices)
    safeguards = models.TextField()
    authority_notified_on = models.DateField()
    # Notified today, a transfer to an adequate country may start today; to another, 10 working
    # days later (152-FZ art. 12(10)-(11)).
    starts_on = models.DateField()
    recorded_at = models.DateTimeField()
    recorded_by_id = models.PositiveBigIntegerField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by_id = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["recipient__name", "country", "-recorded_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "country"],
                condition=Q(ended_at__isnull=True),
                name="one_transfer_record_in_force",
            ),
            models.CheckConstraint(
                condition=Q(starts_on__gte=F("authority_notified_on")),
                name="transfer_starts_after_notice",
            ),
            models.CheckConstraint(condition=~Q(country="RU"), name="transfer_record_is_abroad"),
        ]
        permissions = [("manage_transfers", "Can record and end transfers abroad")]

    def __str__(self) -> str:
        return f"transfer #{self.pk}"


class ConsentRecord(AppendOnlyModel):
    """One consent event. The ledger is append-only: the current state is the latest record."""

    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consent_records"
    )
    purpose = models.CharField(max_length=32, choices=ConsentPurpose.choices)
    recipient = models.ForeignKey(
        Recipient, on_delete=models.PROTECT, null=True, blank=True, related_name="consents"
    )
    action = models.CharField(max_length=16, choices=ConsentAction.choices)
    method = models.CharField(max_length=32, choices=ConsentMethod.choices)
    edition_hash = models.CharField(max_length=64, blank=True)
    at = models.DateTimeField()
    # How the consent was proved, e.g. for a double opt-in when the confirmation was asked for and
    # a keyed hash of the address it was sent to; times and hashes only, never the address.
    evidence = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["subject", "purpose", "recipient", "-at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(purpose="sharing", recipient__isnull=False)
                | (~Q(purpose="sharing") & Q(recipient__isnull=True)),
                name="consent_recipient_only_for_sharing",
            )
        ]

    def __str__(self) -> str:
        return f"{self.purpose} {self.action} at {self.at:%Y-%m-%d %H:%M}"


class VisitorCookieChoice(AppendOnlyModel):
    """The proof of one cookie choice made without an account: the choice, where and how it was
    made, the wording shown and the privacy policy in force. It names no account: choice_id is
    the random id the visitor's own consent cookie holds (privacy/cookies.py), and every later
    choice of the same browser is a new row under the same id."""

    class Method(models.TextChoices):
        BANNER = "banner", _("Cookie banner")
        PREFERENCE_CENTER = "preference_center", _("Cookie settings page")

    choice_id = models.CharField(max_length=22, db_index=True)
    analytics = models.BooleanField()
    method = models.CharField(max_length=32, choices=Method.choices)
    edition_version = models.CharField(max_length=32, blank=True)
    edition_hash = models.CharField(max_length=64, blank=True)
    language = models.CharField(max_length=16)
    wording = models.TextField()
    wording_sha256 = models.CharField(max_length=64)
    ip_truncated = models.CharField(max_length=64, blank=True)
    browser_family = models.CharField(max_length=64, blank=True)
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"cookie choice {self.choice_id} at {self.at:%Y-%m-%d %H:%M}"


class ConsentConfirmation(models.Model):
    """A consent asked for and waiting for its confirmation by a link e-mailed to the person's
    verified address (double opt-in, privacy/optin.py). The consent itself is written to the
    ledger only when the link is confirmed; this row is the pending request, kept a short while.

    address_hash is a keyed hash of the address the link was sent to, never the address: empty
    while a request made at sign-up waits for the address to be verified."""

    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consent_confirmations"
    )
    purpose = models.CharField(max_length=32, choices=ConsentPurpose.choices)
    # Where it was asked for: the sign-up form or the privacy center.
    requested_via = models.CharField(max_length=32, choices=ConsentMethod.choices)
    requested_at = models.DateTimeField()
    address_hash = models.CharField(max_length=64, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["subject", "purpose", "-requested_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(purpose="newsletter"), name="consent_confirmation_newsletter_only"
            ),
            models.CheckConstraint(
                condition=Q(expires_at__isnull=True) | ~Q(address_hash=""),
                name="consent_confirmation_link_names_an_address",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} confirmation #{self.pk}"


# Restriction of processing ("blocking", clause 2.1)


class ProcessingRestriction(models.Model):
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="restrictions"
    )
    started_at = models.DateTimeField()
    started_method = models.CharField(max_length=32, choices=ConsentMethod.choices)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_method = models.CharField(max_length=32, choices=ConsentMethod.choices, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject"],
                condition=Q(lifted_at__isnull=True),
                name="one_open_restriction_per_subject",
            )
        ]

    def __str__(self) -> str:
        return f"restriction #{self.pk}"


# Export and erasure (clauses 5.4, 7.2, 2.1)


class DataExport(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", pgettext_lazy("job status", "Queued")
        BUILDING = "building", _("Being prepared")
        READY = "ready", _("Ready to download")
        DOWNLOADED = "downloaded", _("Downloaded")
        EXPIRED = "expired", _("Expired")
        FAILED = "failed", pgettext_lazy("job status", "Failed")

    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="data_exports"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    requested_at = models.DateTimeField()
    ready_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    downloaded_at = models.DateTimeField(null=True, blank=True)
    # Storage key of the encrypted ZIP; the download token is stored only as its SHA-256.
    file_name = models.CharField(max_length=200, blank=True)
    token_hash = models.CharField(max_length=64, blank=True)
    size_bytes = models.PositiveBigIntegerField(default=0)
    failure_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"data export #{self.pk}"


class ErasureJob(models.Model):
    """Erasure of one account across every store of the data map, step by step."""

    class Status(models.TextChoices):
        QUEUED = "queued", pgettext_lazy("job status", "Queued")
        RUNNING = "running", pgettext_lazy("job status", "Running")
        DONE = "done", pgettext_lazy("job status", "Done")
        # Everything else is erased; rows under a legal hold remain until it ends (holds.py).
        HELD = "held", pgettext_lazy("job status", "Done but for held records")

    subject_id = models.PositiveBigIntegerField(db_index=True)
    subject_pseudonym = models.CharField(max_length=40)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    reason = models.CharField(max_length=64)
    requested_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    completed_steps = models.JSONField(default=list)
    # How many entries of completed_steps a destruction record already counts: a job held by a
    # legal hold writes one record when it stops and another when it ends.
    steps_recorded = models.PositiveIntegerField(default=0)
    # What a legal hold kept when the job last stopped: {"rows": {label: n}, "steps": [names]}.
    held = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"erasure {self.subject_pseudonym}"


class DestructionRecord(AppendOnlyModel):
    """What was destroyed: categories, counts, method, reason, date; never the values."""

    subject_pseudonym = models.CharField(max_length=40, blank=True)
    categories = models.JSONField(default=list)
    counts = models.JSONField(default=dict)
    # What was due but left under a legal hold: {label: rows}, and for an erasure the steps
    # left for when the hold ends ({"rows": ..., "steps": [...]}).
    held = models.JSONField(default=dict, blank=True)
    method = models.CharField(max_length=32)
    reason = models.CharField(max_length=64)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"destruction at {self.at:%Y-%m-%d %H:%M}"


# Requests received by staff, and the disclosure register (clauses 6.2-6.4)


class RequestKind(models.TextChoices):
    ACCESS = "access", _("Access")
    RECTIFICATION = "rectification", _("Rectification")
    ERASURE = "erasure", _("Erasure")
    RESTRICTION = "restriction", _("Restriction")
    OBJECTION = "objection", _("Objection")
    CONSENT_WITHDRAWAL = "consent_withdrawal", _("Consent withdrawal")
    # A letter to the privacy address whose words name none of the above (inbox/parsing.py).
    OTHER = "other", _("Other (read the letter)")


class DataSubjectRequest(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        LETTER = "letter", _("Letter")
        # The public request form: its address was verified by a one-time code (requests_public).
        WEB_FORM = "web_form", _("Request form, address verified by a one-time code")
        OTHER = "other", _("Other")

    class Identity(models.TextChoices):
        UNVERIFIED = "unverified", _("Not verified yet")
        VERIFIED = "verified", _("Verified")
        FAILED = "failed", _("Could not be verified")

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("request status", "Open")
        DONE = "done", pgettext_lazy("request status", "Done")
        REFUSED = "refused", _("Refused")

    kind = models.CharField(max_length=32, choices=RequestKind.choices)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    received_at = models.DateTimeField()
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="data_subject_requests",
    )
    # How to answer the requester (address or e-mail as given); emptied when the request closes
    # past its retention period.
    requester_contact = models.TextField(blank=True)
    # What the requester wrote on the public request form, in their words.
    details = models.TextField(blank=True)
    # The language of letters to a requester without a linked account (the form's language);
    # empty: the linked account's language, else the site's default.
    language = models.CharField(max_length=8, blank=True)
    identity = models.CharField(
        max_length=16, choices=Identity.choices, default=Identity.UNVERIFIED
    )
    due_ru = models.DateField()  # 10 working days (152-FZ)
    due_gdpr = models.DateField()  # one month (GDPR art. 12(3))
    extended_due_ru = models.DateField(null=True, blank=True)  # +5 working days, with a reason
    extension_reason = models.TextField(blank=True)
    extended_due_gdpr = models.DateField(null=True, blank=True)  # up to two more months
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.TextField(blank=True)
    handled_by_id = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["status", "due_ru", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(extended_due_ru__isnull=True) | ~Q(extension_reason=""),
                name="request_extension_needs_reason",
            ),
            models.CheckConstraint(
                condition=Q(extended_due_gdpr__isnull=True) | ~Q(extension_reason=""),
                name="request_gdpr_extension_needs_reason",
            ),
        ]
        permissions = [("handle_datasubjectrequest", "Can handle data-subject requests")]

    def __str__(self) -> str:
        return f"request #{self.pk}"


class ExtensionNotice(models.Model):
    """The letter telling the requester that a deadline was extended, why, and the new dates
    (privacy/requests.py): queued with the extension, sent by its job."""

    class Delivery(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent by e-mail")
        NO_ADDRESS = "no_address", _("No e-mail address: send it by post")

    request = models.ForeignKey(
        DataSubjectRequest, on_delete=models.CASCADE, related_name="extension_notices"
    )
    reason = models.TextField()
    # The deadlines as the letter states them; null when that law's deadline was not extended.
    extended_due_ru = models.DateField(null=True, blank=True)
    extended_due_gdpr = models.DateField(null=True, blank=True)
    queued_at = models.DateTimeField()
    delivery = models.CharField(max_length=16, choices=Delivery.choices, default=Delivery.QUEUED)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["queued_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(extended_due_ru__isnull=False) | Q(extended_due_gdpr__isnull=False),
                name="extension_notice_names_a_deadline",
            ),
            models.CheckConstraint(
                condition=Q(sent_at__isnull=True) | Q(delivery="sent"),
                name="extension_notice_sent_at_only_when_sent",
            ),
        ]

    def __str__(self) -> str:
        return f"extension notice #{self.pk} of request #{self.request_id}"


class PendingRequest(models.Model):
    """A request made on the public form, waiting for the one-time code e-mailed to its address
    (privacy/requests_public.py). Holds a keyed hash of the code, never the code; the address and
    the requester's words sealed under the master key, and a keyed digest of the address for the
    rate limit. Deleted by the retention run a day after it was made."""

    address_digest = models.CharField(max_length=64, db_index=True)
    sealed = models.TextField()
    kind = models.CharField(max_length=32, choices=RequestKind.choices)
    language = models.CharField(max_length=8)
    code_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Set when the code was typed right: the request is then logged, and this row is spent.
    verified_at = models.DateTimeField(null=True, blank=True)
    # A newer code was asked for the same typed request: this one no longer counts.
    superseded_at = models.DateTimeField(null=True, blank=True)
    request = models.OneToOneField(
        DataSubjectRequest,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="pending_request",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"pending request #{self.pk}"


class LegalBasisForDisclosure(models.TextChoices):
    COURT_DECISION = "court_decision", _("Court decision")
    AUTHORITY_REQUEST = "authority_request", _("Enforceable request of an authority")
    FRAUD_PREVENTION = "fraud_prevention", _("Fraud prevention")
    SECURITY_INCIDENT = "security_incident", _("Security incident")
    USER_CONSENT = "user_consent", _("The person's consent")
    CONTRACT = "contract", _("Performance of a contract")


class Disclosure(models.Model):
    """One transfer of a person's data to a third party."""

    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="disclosures",
    )
    subject_pseudonym = models.CharField(max_length=40)
    recipient = models.ForeignKey(
        Recipient, on_delete=models.PROTECT, null=True, blank=True, related_name="disclosures"
    )
    recipient_name = models.CharField(max_length=200)
    country = CountryField()
    legal_basis = models.CharField(max_length=32, choices=LegalBasisForDisclosure.choices)
    categories = models.JSONField()
    reference_document = models.CharField(max_length=300)
    disclosed_on = models.DateField()
    recorded_at = models.DateTimeField()
    recorded_by_id = models.PositiveBigIntegerField()
    # Until this date the person is not shown this disclosure (e.g. a court's gag order).
    legal_hold_until = models.DateField(null=True, blank=True)
    legal_hold_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-disclosed_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(legal_hold_until__isnull=True) | ~Q(legal_hold_reason=""),
                name="disclosure_hold_needs_reason",
            )
        ]
        permissions = [("record_disclosure", "Can record disclosures")]

    def __str__(self) -> str:
        return f"disclosure #{self.pk}"
