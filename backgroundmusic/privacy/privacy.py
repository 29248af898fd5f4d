"""The data map of the privacy app's own models."""

from collections.abc import Callable

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from backgroundmusic.privacy.kernel.registry import (
    Category,
    Clock,
    Erasure,
    LegalBasis,
    PersonalData,
    Purpose,
    Retention,
    Retentions,
    RetentionStart,
    Source,
    Subjects,
    declare,
    staff_record,
)

# Data keys and the erasure ledger, in the key store (privacy/kernel/keys.py, kernel/ledger.py)

declare(
    "privacy.DataKey",
    subject="",
    not_personal=[
        "id",
        "subject_id",
        "master_key_id",
        "wrapped_key",
        "created_at",
        "rewrapped_at",
    ],
    note="Random key material that says nothing about the person, in the key store, never in "
    "the main database or its backups; the person's key is the row whose subject_id is their "
    "user id (the user lives in the other database). Deleting the row (the erasure step "
    "'privacy: data key') is how erasure makes every sealed copy of their data unreadable, "
    "backups included.",
)
declare(
    "privacy.ErasureLedgerEntry",
    subject="",
    subjects=(Subjects.USERS,),
    personal={
        "subject_id": PersonalData(
            category=Category.UNIQUE_ID,
            purpose=Purpose.LEGAL_COMPLIANCE,
            legal_basis=LegalBasis.LEGAL_OBLIGATION,
            retention=Retention(
                days=settings.BACKUP_MAX_AGE_DAYS,
                start=RetentionStart.COLLECTED,
                description=_("As long as a backup taken before the erasure may be restored"),
            ),
            erasure=Erasure.KEEP_FOR_LAW,
            exportable=False,
            source=Source.GENERATED,
        ),
    },
    not_personal=["id", "erasure_job_id", "recorded_at"],
    clock=Clock(field="recorded_at"),
    note="The user id of an erased person, in the key store: a restore of an older backup finds "
    "the person's rows by it and erases them again. Outlives the account by design.",
)

# Staff access log (privacy/kernel/access_log.py): kept for law (staff_record); erasure must not
# touch it, or the hash chain would break.
declare(
    "privacy.StaffAccessLogEntry",
    subject="",
    subjects=(Subjects.STAFF, Subjects.USERS),
    personal={
        "actor_id": staff_record(exportable=False),
        "subject_id": staff_record(exportable=True),
        "fields": staff_record(exportable=True),
        "reason": staff_record(exportable=True),
        "at": staff_record(exportable=True),
    },
    not_personal={"id", "prev_hash", "entry_hash"},
    clock=Clock(rule="staff access log"),
    note=(
        "Plain integer ids, not foreign keys: a person's rows are those with subject_id equal to "
        "their user id (as the subject of a reading) or actor_id (as the staff member who read). "
        "Append-only and hash-chained, so erasure leaves it whole; retention removes the oldest "
        "entries and leaves a checkpoint from which the rest still verifies."
    ),
)

declare(
    "privacy.StaffAccessLogCheckpoint",
    subject="",
    not_personal={"id", "last_pruned_id", "last_pruned_hash", "entries_pruned", "at"},
    note="Where the access log's chain starts once its oldest entries are past their period.",
)

# Privacy center: editions, consents, restriction, export, erasure, requests, disclosures


def _held(
    category: Category,
    retention: Retention,
    *,
    purpose: Purpose = Purpose.LEGAL_COMPLIANCE,
    basis: LegalBasis = LegalBasis.LEGAL_OBLIGATION,
    erasure: Erasure = Erasure.KEEP_FOR_LAW,
    exportable: bool = True,
    source: Source = Source.GENERATED,
) -> PersonalData:
    return PersonalData(
        category=category,
        purpose=purpose,
        legal_basis=basis,
        retention=retention,
        erasure=erasure,
        exportable=exportable,
        source=source,
    )


declare(
    "privacy.PolicyEdition",
    subject="",
    not_personal=[
        "id",
        "kind",
        "version",
        "title_en",
        "title_ru",
        "body_en",
        "body_ru",
        "change_summary_en",
        "change_summary_ru",
        "material_purposes",
        "content_hash",
        "effective_at",
        "published_at",
        "published_by_id",
        "created_at",
    ],
)
declare(
    "privacy.PolicyAcceptance",
    subject="user",
    personal={
        "user": _held(Category.CONTRACT, Retentions.CONTRACT_EVIDENCE, erasure=Erasure.NULL),
        "subject_pseudonym": _held(Category.UNIQUE_ID, Retentions.CONTRACT_EVIDENCE),
        "at": _held(Category.CONTRACT, Retentions.CONTRACT_EVIDENCE),
        "ip_truncated": _held(Category.NETWORK, Retentions.CONTRACT_EVIDENCE),
        "user_agent_family": _held(Category.DEVICE, Retentions.CONTRACT_EVIDENCE),
    },
    not_personal=["id", "edition", "edition_hash", "action"],
    clock=Clock(rule="request records"),
    note="Evidence of the contract (acceptance of the user agreement): kept with the person "
    "replaced by a pseudonym after erasure.",
)
declare(
    "privacy.Recipient",
    subject="",
    not_personal=[
        "id",
        "name",
        "country",
        "purpose_en",
        "purpose_ru",
        "categories",
        "shared_with_consent",
        "is_active",
    ],
)
_CONSENT_CHOICE = ("purpose", "recipient", "action")
declare(
    "privacy.TransferRecord",
    subject="",
    not_personal=[
        "id",
        "recipient",
        "country",
        "adequacy",
        "adequacy_source",
        "basis",
        "safeguards",
        "authority_notified_on",
        "starts_on",
        "recorded_at",
        "recorded_by_id",
        "ended_at",
        "ended_by_id",
    ],
    note="A transfer abroad to a recipient (privacy/transfers.py): about the recipient and the "
    "country, no person's data; staff are named by plain id as on the disclosure register.",
)
declare(
    "privacy.ConsentRecord",
    subject="subject",
    personal={
        name: _held(
            Category.CONSENT,
            Retentions.ACCOUNT,
            purpose=Purpose.LEGAL_COMPLIANCE,
            erasure=Erasure.DELETE,
            # The choice is the person's; how and when it was made, and its proof, we recorded.
            source=Source.PERSON if name in _CONSENT_CHOICE else Source.GENERATED,
        )
        for name in ("purpose", "recipient", "action", "method", "edition_hash", "at", "evidence")
    },
    not_personal=["id", "subject"],
    clock=Clock(rule="account closed"),
    note="The consent ledger: proof of each consent given or withdrawn, for as long as the "
    "account exists.",
)
# The proof of a visitor's cookie choice lasts as long as anything the choice allowed can exist:
# the choice holds while its cookie lives (13 months), and analytics events gathered under it are
# kept 25 months after that.
VISITOR_COOKIE_CHOICE = Retention(
    days=395 + Retentions.ANALYTICS_EVENTS.days,
    start=RetentionStart.COLLECTED,
    description=_(
        "13 months (the life of the choice) and then 25 months (the analytics it allowed)"
    ),
)
declare(
    "privacy.VisitorCookieChoice",
    subject="",
    subjects=(Subjects.VISITORS,),
    personal={
        **{
            name: _held(Category.CONSENT, VISITOR_COOKIE_CHOICE, erasure=Erasure.DELETE)
            for name in (
                "analytics",
                "method",
                "edition_version",
                "edition_hash",
                "language",
                "wording",
                "wording_sha256",
                "at",
            )
        },
        "choice_id": _held(Category.COOKIE_ID, VISITOR_COOKIE_CHOICE, erasure=Erasure.DELETE),
        "ip_truncated": _held(Category.NETWORK, VISITOR_COOKIE_CHOICE, erasure=Erasure.DELETE),
        "browser_family": _held(Category.DEVICE, VISITOR_COOKIE_CHOICE, erasure=Erasure.DELETE),
    },
    not_personal=["id"],
    clock=Clock(field="at"),
    note="Proof of a cookie choice made without an account (GDPR art. 7(1)). It names no "
    "account, so erasing an account finds nothing here; the random choice id in the visitor's "
    "own consent cookie finds their rows, and the retention run deletes each row when its "
    "period ends.",
)
declare(
    "privacy.ConsentConfirmation",
    subject="subject",
    subjects=(Subjects.NEWSLETTER_SUBSCRIBERS,),
    personal={
        **{
            name: _held(
                Category.CONSENT,
                Retentions.CONSENT_CONFIRMATION,
                purpose=Purpose.NEWSLETTER,
                basis=LegalBasis.CONSENT,
                erasure=Erasure.DELETE,
            )
            for name in (
                "purpose",
                "requested_via",
                "requested_at",
                "expires_at",
                "sent_at",
                "confirmed_at",
            )
        },
        "address_hash": _held(
            Category.CONTACT_EMAIL,
            Retentions.CONSENT_CONFIRMATION,
            purpose=Purpose.NEWSLETTER,
            basis=LegalBasis.CONSENT,
            erasure=Erasure.DELETE,
            exportable=False,
        ),
    },
    not_personal=["id", "subject"],
    clock=Clock(field="requested_at"),
    note="A consent asked for and waiting for its confirmation by e-mail (double opt-in); the "
    "consent and its evidence are in the ledger once confirmed. address_hash is a keyed hash of "
    "the address the link went to, not the address.",
)
declare(
    "privacy.ProcessingRestriction",
    subject="subject",
    personal={
        name: _held(Category.CONSENT, Retentions.ACCOUNT, erasure=Erasure.DELETE)
        for name in ("started_at", "started_method", "lifted_at", "lifted_method")
    },
    not_personal=["id", "subject"],
    clock=Clock(rule="account closed"),
)
declare(
    "privacy.DataExport",
    subject="subject",
    personal={
        name: _held(
            Category.ACCOUNT_SETTINGS,
            Retentions.EXPORT_FILE,
            purpose=Purpose.LEGAL_COMPLIANCE,
            erasure=Erasure.DELETE,
            exportable=False,
        )
        for name in ("requested_at", "ready_at", "expires_at", "downloaded_at", "file_name")
    },
    not_personal=["id", "subject", "status", "token_hash", "size_bytes", "failure_reason"],
    clock=Clock(rule="data exports"),
    note="The export file itself is encrypted and deleted when the link expires or is used.",
)
declare(
    "privacy.ErasureJob",
    subject="",
    subjects=(Subjects.USERS,),
    personal={
        "subject_id": _held(Category.UNIQUE_ID, Retentions.REQUEST_RECORDS, exportable=False),
        "subject_pseudonym": _held(
            Category.UNIQUE_ID, Retentions.REQUEST_RECORDS, exportable=False
        ),
    },
    not_personal=[
        "id",
        "status",
        "reason",
        "requested_at",
        "finished_at",
        "completed_steps",
        "steps_recorded",
        "held",
    ],
    clock=Clock(rule="request records"),
    note="Found by subject_id; outlives the account by design, as proof the erasure ran.",
)
declare(
    "privacy.DestructionRecord",
    subject="",
    subjects=(Subjects.USERS,),
    personal={
        "subject_pseudonym": _held(
            Category.UNIQUE_ID, Retentions.REQUEST_RECORDS, exportable=False
        ),
    },
    not_personal=["id", "categories", "counts", "held", "method", "reason", "at"],
    clock=Clock(rule="old registers"),
    note="Names only the pseudonym, never a value.",
)
declare(
    "privacy.ErasedProfileTombstone",
    subject="",
    not_personal=["id", "username_digest", "erased_at"],
    note="A keyed digest of an erased username: it cannot be reversed to the name.",
)
declare(
    "privacy.DataSubjectRequest",
    subject="subject",
    subjects=(Subjects.REQUESTERS, Subjects.USERS),
    personal={
        "subject": _held(Category.UNIQUE_ID, Retentions.REQUEST_RECORDS, erasure=Erasure.NULL),
        "requester_contact": _held(
            Category.CONTACT_ADDRESS,
            Retentions.REQUEST_RECORDS,
            erasure=Erasure.NULL,
            source=Source.PERSON,
        ),
        "kind": _held(Category.CONSENT, Retentions.REQUEST_RECORDS, source=Source.PERSON),
        "received_at": _held(Category.CONSENT, Retentions.REQUEST_RECORDS),
        "outcome": _held(Category.CONSENT, Retentions.REQUEST_RECORDS),
        "details": _held(Category.CONSENT, Retentions.REQUEST_RECORDS, erasure=Erasure.NULL),
        "language": _held(Category.ACCOUNT_SETTINGS, Retentions.REQUEST_RECORDS),
    },
    not_personal=[
        "id",
        "channel",
        "identity",
        "due_ru",
        "due_gdpr",
        "extended_due_ru",
        "extended_due_gdpr",
        "extension_reason",
        "status",
        "closed_at",
        "handled_by_id",
    ],
    clock=Clock(rule="request records"),
    note="Proof that a data-subject request was answered in time. details: what the requester "
    "wrote on the public request form.",
)
declare(
    "privacy.ExtensionNotice",
    subject="request__subject",
    subjects=(Subjects.REQUESTERS, Subjects.USERS),
    personal={
        name: _held(Category.CONSENT, Retentions.REQUEST_RECORDS)
        for name in ("queued_at", "delivery", "sent_at")
    },
    not_personal=["id", "request", "reason", "extended_due_ru", "extended_due_gdpr"],
    clock=Clock(rule="request records"),
    note="Proof that the requester was told of an extension, why and when: goes with its "
    "request (privacy/requests.py).",
)
declare(
    "privacy.PendingRequest",
    subject="",
    subjects=(Subjects.REQUESTERS,),
    personal={
        name: _held(
            category,
            Retention(
                days=1,
                start=RetentionStart.COLLECTED,
                description=_("1 day after the request form was sent"),
            ),
            purpose=Purpose.LEGAL_COMPLIANCE,
            erasure=Erasure.DELETE,
            exportable=False,
        )
        for name, category in (
            ("address_digest", Category.CONTACT_EMAIL),
            ("sealed", Category.CONTACT_EMAIL),
            ("kind", Category.CONSENT),
            ("language", Category.ACCOUNT_SETTINGS),
            ("created_at", Category.CONSENT),
        )
    },
    not_personal=[
        "id",
        "code_hash",
        "expires_at",
        "attempts",
        "sent_at",
        "verified_at",
        "superseded_at",
        "request",
    ],
    clock=Clock(field="created_at"),
    note="A request made on the public form, waiting for the one-time code sent to its address "
    "(privacy/requests_public.py): the address and the requester's words sealed under the master "
    "key, a keyed digest of the address, a keyed hash of the code. Linked to no account, so no "
    "export finds it; it leaves with its short period, the logged request staying.",
)
declare(
    "privacy.Disclosure",
    subject="subject",
    personal={
        "subject": _held(
            Category.UNIQUE_ID,
            Retentions.REQUEST_RECORDS,
            purpose=Purpose.JUSTICE,
            erasure=Erasure.NULL,
        ),
        "subject_pseudonym": _held(
            Category.UNIQUE_ID,
            Retentions.REQUEST_RECORDS,
            purpose=Purpose.JUSTICE,
            exportable=False,
        ),
        "categories": _held(Category.CONSENT, Retentions.REQUEST_RECORDS, purpose=Purpose.JUSTICE),
        "disclosed_on": _held(
            Category.CONSENT, Retentions.REQUEST_RECORDS, purpose=Purpose.JUSTICE
        ),
    },
    not_personal=[
        "id",
        "recipient",
        "recipient_name",
        "country",
        "legal_basis",
        "reference_document",
        "recorded_at",
        "recorded_by_id",
        "legal_hold_until",
        "legal_hold_reason",
    ],
    clock=Clock(rule="old registers"),
    note="The register of transfers to third parties; kept with the person pseudonymized.",
)

# Legal holds (privacy/holds.py, kernel/holds.py): the record of a hold outlives what it kept
# and the account it named, as proof of why the data stayed; a hold may itself be confidential,
# so the person's export does not show it.


def _hold_record(category: Category) -> PersonalData:
    return _held(category, Retentions.REQUEST_RECORDS, purpose=Purpose.JUSTICE, exportable=False)


declare(
    "privacy.LegalHold",
    subject="",
    subjects=(Subjects.USERS, Subjects.STAFF),
    personal={
        "subject_id": _hold_record(Category.UNIQUE_ID),
        "reason": _hold_record(Category.STAFF_ACTIONS),
        "lift_reason": _hold_record(Category.STAFF_ACTIONS),
        "placed_by_id": _hold_record(Category.STAFF_ACTIONS),
        "lifted_by_id": _hold_record(Category.STAFF_ACTIONS),
    },
    not_personal=["id", "target_label", "target_id", "placed_at", "ends_on", "lifted_at"],
    clock=Clock(rule="legal holds"),
    note=(
        "Plain integer ids, not foreign keys: a person's holds are those with subject_id (a hold "
        "on them) or placed_by_id/lifted_by_id (the staff member) equal to their user id. Kept "
        "3 years after the hold ended or was lifted; erasure leaves it whole."
    ),
)

# Export, erasure and retention handlers of the privacy app (privacy/rights/, retention.py)
# The generic steps (erasure_steps) run at DATA_MAP_ORDER, the user row at USER_ROW_ORDER.


def _register_rights_handlers() -> None:
    from backgroundmusic.privacy import retention
    from backgroundmusic.privacy.kernel import access_log
    from backgroundmusic.privacy.kernel.registry import data_map
    from backgroundmusic.privacy.rights import handlers
    from backgroundmusic.privacy.rights.erasure import DATA_KEY_ORDER

    data_map.register_exporter(
        "privacy: staff access log",
        handlers.export_staff_access_log,
        models=["privacy.StaffAccessLogEntry"],
    )
    data_map.register_exporter(
        "privacy: disclosures", handlers.export_disclosures, models=["privacy.Disclosure"]
    )
    # While the username and e-mail addresses are still there to find the tombstone and mail.
    data_map.register_eraser("privacy: profile tombstone", handlers.erase_tombstone, order=20)
    data_map.register_eraser("privacy: mail outbox", handlers.erase_mail_outbox, order=30)
    # While the profile's phone is still there to find the person's text messages.
    data_map.register_eraser("privacy: sms outbox", handlers.erase_sms_outbox, order=31)
    data_map.register_eraser(
        "privacy: data exports", handlers.erase_exports, order=70, models=["privacy.DataExport"]
    )
    data_map.register_eraser("privacy: cached values", handlers.erase_cached_values, order=80)
    # Last before the user row: after it, every sealed copy of the person's values is unreadable.
    data_map.register_eraser(
        "privacy: data key",
        handlers.erase_data_key,
        order=DATA_KEY_ORDER,
        models=["privacy.DataKey"],
    )
    data_map.register_retention(
        "data exports", retention.destroy_expired_exports, models=["privacy.DataExport"]
    )
    data_map.register_retention(
        "request records",
        retention.destroy_request_records,
        models=[
            "privacy.DataSubjectRequest",
            "privacy.ExtensionNotice",
            "privacy.ErasureJob",
            "privacy.PolicyAcceptance",
        ],
    )
    data_map.register_retention(
        "old registers",
        retention.depersonalize_old_records,
        models=["privacy.Disclosure", "privacy.DestructionRecord"],
        method="depersonalize",
    )
    data_map.register_retention("sms outbox", retention.destroy_old_text_messages, models=())
    data_map.register_retention(
        "legal holds", retention.destroy_ended_holds, models=["privacy.LegalHold"]
    )
    data_map.register_retention(
        "staff access log",
        access_log.access_log_prune,
        models=["privacy.StaffAccessLogEntry"],
    )


_register_rights_handlers()

# Consent listeners (privacy/consents.py): a stopped consent unpublishes the public profile or
# stops its indexing (privacy/public_profile.py).


def _register_consent_listeners() -> None:
    from backgroundmusic.accounts.models import User
    from backgroundmusic.privacy import public_profile
    from backgroundmusic.privacy.kernel.registry import data_map
    from backgroundmusic.privacy.models import ConsentPurpose

    def public_profile_consent_stopped(purpose: str) -> Callable[..., None]:
        def stopped(*, subject_id: int) -> None:
            user = User.objects.filter(pk=subject_id).first()
            if user is not None:
                public_profile.public_profile_withdraw(user=user, purpose=purpose)

        stopped.__name__ = f"public_profile_consent_stopped_{purpose}"
        return stopped

    for purpose in (ConsentPurpose.PUBLIC_PROFILE, ConsentPurpose.INDEXING):
        data_map.register_consent_listener(purpose, public_profile_consent_stopped(purpose))


_register_consent_listeners()

# Contact listeners (registry.contact_removed): a contact phone removed from the profile withdraws
# the consent to promotional text messages to it (privacy/promotional_sms.py).


def _register_contact_listeners() -> None:
    from backgroundmusic.privacy import promotional_sms
    from backgroundmusic.privacy.kernel.registry import data_map

    data_map.register_contact_removed_listener(
        Category.CONTACT_PHONE, promotional_sms.promotional_sms_phone_removed
    )


_register_contact_listeners()

# A newsletter asked for at sign-up is sent for confirmation once the address is verified
# (privacy/optin.py; accounts/adapter.py tells the listeners).


def _register_address_verified_listeners() -> None:
    from backgroundmusic.privacy import optin
    from backgroundmusic.privacy.kernel.registry import data_map

    data_map.register_address_verified_listener(optin.optin_address_verified)


_register_address_verified_listeners()

# Requests made on the public form keep what was typed sealed under the master key
# (privacy/requests_public.py): rotating the master key re-seals them.


def _register_resealer() -> None:
    from backgroundmusic.privacy.kernel.registry import data_map
    from backgroundmusic.privacy.requests_public import pending_requests_reseal

    data_map.register_resealer("pending requests", pending_requests_reseal)


_register_resealer()

# The staff person page (accounts/staff.py) shows the person's consents to whoever may look
# people up, and their requests and exports to whoever handles requests.


def _register_person_sections() -> None:
    from backgroundmusic.privacy import selectors
    from backgroundmusic.privacy.kernel.registry import PersonSection, data_map
    from backgroundmusic.staffroles.selectors import (
        staff_may_handle_requests,
        staff_may_view_people,
    )

    data_map.register_person_section(
        PersonSection(
            name="consents",
            label=_("Consents"),
            columns=(_("Purpose"), _("Recipient"), _("Choice"), _("When"), _("How")),
            may=staff_may_view_people,
            rows=selectors.person_consents_rows,
            order=10,
        )
    )
    data_map.register_person_section(
        PersonSection(
            name="requests",
            label=_("Requests"),
            columns=(_("Request"), _("Kind"), _("Status"), _("Received"), _("Closed")),
            may=staff_may_handle_requests,
            rows=selectors.person_requests_rows,
            order=20,
        )
    )
    data_map.register_person_section(
        PersonSection(
            name="exports",
            label=_("Data exports"),
            columns=(_("Status"), _("Asked for"), _("Ready"), _("Expires"), _("Downloaded")),
            may=staff_may_handle_requests,
            rows=selectors.person_exports_rows,
            order=30,
        )
    )


_register_person_sections()
