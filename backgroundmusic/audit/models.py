"""The audit trail: one append-only row per staff action (Zulip's RealmAuditLog pattern)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from backgroundmusic.core.models import AppendOnlyModel


class AuditAction(models.TextChoices):
    """Every action the trail records: a row names one of these, nothing else."""

    REQUEST_LOGGED = "request.logged", _("Request logged")
    REQUEST_SUBJECT_LINKED = "request.subject_linked", _("Request linked to an account")
    REQUEST_IDENTITY_VERIFIED = "request.identity_verified", _("Requester's identity verified")
    REQUEST_IDENTITY_FAILED = "request.identity_failed", _("Requester's identity not verified")
    REQUEST_EXTENDED = "request.extended", _("Request deadline extended")
    REQUEST_ACTED = "request.acted", _("Request acted on")
    REQUEST_CLOSED = "request.closed", _("Request closed")
    ROLE_ASSIGNED = "role.assigned", _("Staff role assigned")
    ROLE_REVOKED = "role.revoked", _("Staff role revoked")
    POLICY_EDITION_PUBLISHED = "policy.edition_published", _("Policy edition published")
    CATALOGUE_TRACK_CREATED = "catalogue.track_created", _("Track created")
    CATALOGUE_TRACK_UPDATED = "catalogue.track_updated", _("Track updated")
    CATALOGUE_FACET_CREATED = "catalogue.facet_created", _("Facet created")
    CATALOGUE_FACET_RENAMED = "catalogue.facet_renamed", _("Facet renamed")
    CATALOGUE_COLLECTION_CREATED = "catalogue.collection_created", _("Collection created")
    CATALOGUE_COLLECTION_UPDATED = "catalogue.collection_updated", _("Collection updated")
    DISCLOSURE_RECORDED = "disclosure.recorded", _("Disclosure recorded")
    TRANSFER_RECORDED = "transfer.recorded", _("Transfer abroad recorded")
    TRANSFER_ENDED = "transfer.ended", _("Transfer abroad ended")
    RECIPIENT_ADDED = "recipient.added", _("Recipient put on the register")
    RECIPIENT_UPDATED = "recipient.updated", _("Recipient on the register changed")
    RECIPIENT_DEACTIVATED = "recipient.deactivated", _("Recipient deactivated")
    RECIPIENT_REACTIVATED = "recipient.reactivated", _("Recipient reactivated")
    LEGAL_HOLD_PLACED = "legal_hold.placed", _("Legal hold placed")
    LEGAL_HOLD_LIFTED = "legal_hold.lifted", _("Legal hold lifted")
    PLAN_CREATED = "plan.created", _("Plan created")
    PLAN_EDITION_PUBLISHED = "plan.edition_published", _("Plan edition published")
    PLAN_WITHDRAWN = "plan.withdrawn", _("Plan withdrawn from sale")
    PLAN_OFFERED = "plan.offered", _("Plan offered again")
    TERMS_EDITION_PUBLISHED = (
        "licence_terms.edition_published",
        _("Licence terms edition published"),
    )
    AGREEMENT_REVOKED = "agreement.revoked", _("Licence agreement revoked")
    STAFF_DENIED = "staff.denied", _("Staff access denied")
    SERVICE_DENIED = "service.denied", _("Staff action refused")
    AUDIT_VIEWED = "audit.viewed", _("Audit trail viewed")
    ACCESS_LOG_VERIFIED = "access_log.verified", _("Access log chain verified")
    ORDER_TRANSFER_CONFIRMED = "order.transfer_confirmed", _("Bank transfer of an order confirmed")
    ORDER_REFUND = "order.refund", _("Order refunded")
    ORDER_CANCELLED = "order.cancelled", _("Order cancelled")
    CAMPAIGN_CREATED = "campaign.created", _("Campaign created")
    CAMPAIGN_UPDATED = "campaign.updated", _("Campaign updated")
    CAMPAIGN_SCHEDULED = "campaign.scheduled", _("Campaign scheduled")
    CAMPAIGN_CANCELLED = "campaign.cancelled", _("Campaign cancelled")
    CAMPAIGN_TEST_SENT = "campaign.test_sent", _("Campaign test message sent")
    INCIDENT_OPENED = "incident.opened", _("Incident opened")
    INCIDENT_PEOPLE_COMPUTED = "incident.people_computed", _("Incident's affected people computed")
    INCIDENT_NOTICE_DRAFTED = "incident.notice_drafted", _("Incident notice draft changed")
    INCIDENT_NOTICE_SENT = "incident.notice_sent", _("Incident notice to an authority recorded")
    INCIDENT_LETTERS_QUEUED = "incident.letters_queued", _("Incident letters to people queued")
    # Corrections of a person's own data (accounts/services.py, accounts/adapter.py), shown to
    # them in the privacy center; `after` names the fields ("app.Model.field"), never values.
    PROFILE_CORRECTED = "profile.corrected", _("Profile corrected")
    EMAIL_ADDED = "email.added", _("E-mail address added")
    EMAIL_VERIFIED = "email.verified", _("E-mail address verified")
    EMAIL_CHANGED = "email.changed", _("E-mail address changed")


class AuditEvent(AppendOnlyModel):
    """Who did what to which object, and when. `before`/`after` hold the names and non-personal
    values of the fields that changed, never a person's values (sealed or not)."""

    at = models.DateTimeField(db_index=True)
    # A plain id like the staff access log's actor: the row outlives the account. None: the
    # system (a migration, a scheduled job, a command run by an operator).
    actor_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    action = models.CharField(max_length=64, choices=AuditAction.choices, db_index=True)
    target_type = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-pk"]
        # Also created by accounts' role migration, with the same name (accounts/roles.py).
        permissions = [("view_audit_trail", "Can view the audit trail of staff actions")]
        indexes = [models.Index(fields=["target_type", "target_id"], name="audit_target")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.target_type}:{self.target_id}"
