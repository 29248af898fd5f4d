"""The data map of sign-in and the profile, including the third-party models sign-in owns.

Personal: what a person typed or chose, credentials, network and device data, and the times of
their own activity. Not personal: surrogate keys, the link to the subject, row bookkeeping and
system flags; an exporter still carries those along with the row.
"""

from backgroundmusic.accounts import services
from backgroundmusic.privacy.kernel.registry import (
    Category,
    Clock,
    Erasure,
    LegalBasis,
    PersonalData,
    Purpose,
    Retention,
    Retentions,
    Source,
    Subjects,
    data_map,
    declare,
)


def _account(
    category: Category,
    *,
    erasure: Erasure = Erasure.DELETE,
    exportable: bool = True,
    source: Source = Source.PERSON,
) -> PersonalData:
    return PersonalData(
        category=category,
        purpose=Purpose.ACCOUNT,
        legal_basis=LegalBasis.CONTRACT,
        retention=Retentions.ACCOUNT,
        erasure=erasure,
        exportable=exportable,
        source=source,
    )


def _security(
    category: Category,
    *,
    retention: Retention = Retentions.SECURITY_LOG,
    erasure: Erasure = Erasure.DELETE,
    exportable: bool = True,
) -> PersonalData:
    return PersonalData(
        category=category,
        purpose=Purpose.SECURITY,
        legal_basis=LegalBasis.LEGITIMATE_INTEREST,
        retention=retention,
        erasure=erasure,
        exportable=exportable,
        source=Source.GENERATED,
    )


def _profile(category: Category, *, purpose: Purpose = Purpose.CONTRACT) -> PersonalData:
    return PersonalData(
        category=category,
        purpose=purpose,
        legal_basis=LegalBasis.CONTRACT,
        retention=Retentions.ACCOUNT,
        erasure=Erasure.DELETE,
        source=Source.PERSON,
    )


def _public_profile(category: Category, *, legal_basis: LegalBasis) -> PersonalData:
    return PersonalData(
        category=category,
        purpose=Purpose.PUBLIC_PROFILE,
        legal_basis=legal_basis,
        retention=Retentions.ACCOUNT,
        erasure=Erasure.DELETE,
        source=Source.PERSON,
    )


# The account's data goes with the account (privacy/retention.py queues its erasure).
ACCOUNT_CLOSED = Clock(rule="account closed")
SESSIONS = Clock(rule="sessions")
SIGN_IN_ATTEMPT = Clock(field="attempt_time")


declare(
    "accounts.User",
    subject="pk",
    personal={
        "username": _account(Category.ACCOUNT_USERNAME, erasure=Erasure.PSEUDONYMIZE),
        "username_skeleton": _account(
            Category.ACCOUNT_USERNAME,
            erasure=Erasure.PSEUDONYMIZE,
            exportable=False,
            source=Source.GENERATED,
        ),
        "email": _account(Category.CONTACT_EMAIL, erasure=Erasure.NULL),
        "password": _account(Category.AUTHENTICATION, erasure=Erasure.NULL, exportable=False),
        "last_login": _security(
            Category.SECURITY_EVENTS, retention=Retentions.ACCOUNT, erasure=Erasure.NULL
        ),
    },
    not_personal=[
        "id",
        "is_superuser",
        "is_staff",
        "is_active",
        "date_joined",
        "groups",
        "user_permissions",
    ],
    clock=ACCOUNT_CLOSED,
    note="The row outlives erasure under a pseudonym while records the law keeps point to it; "
    "the person's name lives sealed in accounts.Profile. username_skeleton is a digest derived "
    "from the username (its look-alike skeleton), kept to refuse look-alike names; the export "
    "carries the username itself.",
)

_address = _profile(Category.CONTACT_ADDRESS, purpose=Purpose.COMMUNICATION)
declare(
    "accounts.Profile",
    subject="user",
    personal={
        "full_name": _profile(Category.NAME),
        "company_name": _profile(Category.ORGANIZATION),
        "tax_id": _profile(Category.GOVERNMENT_ID),
        "address_country": _address,
        "address_region": _address,
        "address_city": _address,
        "address_street": _address,
        "address_postcode": _address,
        "phone": _profile(Category.CONTACT_PHONE, purpose=Purpose.COMMUNICATION),
        "language": _account(Category.ACCOUNT_SETTINGS),
        "account_type": _account(Category.ACCOUNT_SETTINGS),
        "is_published": _public_profile(Category.CONSENT, legal_basis=LegalBasis.CONSENT),
        "is_indexable": _public_profile(Category.CONSENT, legal_basis=LegalBasis.CONSENT),
        "public_fields": _public_profile(Category.CONSENT, legal_basis=LegalBasis.CONSENT),
    },
    not_personal=["id", "user", "updated_at"],
    clock=ACCOUNT_CLOSED,
    note="Text fields are sealed with the person's data key: destroying the key erases every "
    "copy, backups included.",
)

declare(
    "accounts.SocialLink",
    subject="profile__user",
    personal={
        "url": _public_profile(Category.SOCIAL, legal_basis=LegalBasis.CONSENT),
    },
    not_personal=["id", "profile", "position"],
    clock=ACCOUNT_CLOSED,
    note="Given only if the person wants to; sealed like the profile.",
)

declare(
    "accounts.PublicProfileChoice",
    subject="user",
    personal={
        # Kept to show what the person agreed to publish, and when.
        name: _public_profile(Category.CONSENT, legal_basis=LegalBasis.LEGAL_OBLIGATION)
        for name in ("action", "public_fields", "at")
    },
    not_personal=["id", "user"],
    clock=ACCOUNT_CLOSED,
)

# Break glass (accounts/break_glass.py)
# Kept like the staff access log: the proof of who held superuser status, why and for how long.
_break_glass = PersonalData(
    category=Category.STAFF_ACTIONS,
    purpose=Purpose.SECURITY,
    legal_basis=LegalBasis.LEGAL_OBLIGATION,
    retention=Retentions.STAFF_AUDIT,
    erasure=Erasure.KEEP_FOR_LAW,
    source=Source.GENERATED,
)
declare(
    "accounts.BreakGlassGrant",
    subject="user",
    subjects=(Subjects.STAFF,),
    personal={
        name: _break_glass
        for name in ("reason", "operator", "was_staff", "granted_at", "expires_at")
    },
    not_personal=["id", "user"],
    clock=Clock(field="expires_at"),
    note="Append-only. operator is the server account that ran the command, not this person.",
)
declare(
    "accounts.BreakGlassEnd",
    subject="grant__user",
    subjects=(Subjects.STAFF,),
    personal={name: _break_glass for name in ("how", "reason", "operator", "at")},
    not_personal=["id", "grant"],
    clock=Clock(field="at"),
    note="Append-only; one per grant, written by `break_glass revoke` or the expiry job.",
)


declare(
    "account.EmailAddress",
    subject="user",
    personal={"email": _account(Category.CONTACT_EMAIL)},
    not_personal=["id", "user", "verified", "primary"],
    clock=ACCOUNT_CLOSED,
)

declare(
    "account.EmailConfirmation",
    subject="email_address__user",
    personal={
        "key": PersonalData(
            category=Category.AUTHENTICATION,
            purpose=Purpose.ACCOUNT,
            legal_basis=LegalBasis.CONTRACT,
            retention=Retentions.EMAIL_CONFIRMATION,
            erasure=Erasure.DELETE,
            exportable=False,
            source=Source.GENERATED,
        ),
    },
    not_personal=["id", "email_address", "created", "sent"],
    clock=Clock(field="created"),
    note="Empty while ACCOUNT_EMAIL_CONFIRMATION_HMAC is on (allauth's default): confirmation "
    "links are signed, not stored.",
)

declare(
    "mfa.Authenticator",
    subject="user",
    personal={
        "data": _security(Category.AUTHENTICATION, retention=Retentions.ACCOUNT, exportable=False),
        "last_used_at": _security(Category.SECURITY_EVENTS, retention=Retentions.ACCOUNT),
    },
    not_personal=["id", "user", "type", "created_at"],
    clock=ACCOUNT_CLOSED,
    note="data holds the TOTP secret and the recovery-code seed as MFA_ADAPTER.encrypt() "
    "returns them; allauth's default adapter stores them as they are.",
)

declare(
    "usersessions.UserSession",
    subject="user",
    personal={
        "ip": _security(Category.NETWORK, retention=Retentions.SESSION),
        "user_agent": _security(Category.DEVICE, retention=Retentions.SESSION),
        "last_seen_at": _security(Category.SECURITY_EVENTS, retention=Retentions.SESSION),
        "session_key": _security(
            Category.COOKIE_ID, retention=Retentions.SESSION, exportable=False
        ),
    },
    not_personal=["id", "user", "created_at", "data"],
    clock=SESSIONS,
    note="data is reserved by allauth for the project and nothing writes it.",
)


_AXES_NOTE = (
    "username holds account:<id> when what was typed at sign-in named an account at that moment "
    "(any identifier of it, any case), and export and erasure find the account's rows by that "
    "key; otherwise it holds the typed text, lowercased, which is nobody's in exports and "
    "erasures, as are rows written before the key (decision 0013); retention removes both. "
    "Axes replaces the values of AXES_SENSITIVE_PARAMETERS in stored request data and in its "
    "log lines."
)
_sign_in_attempt = {
    "user_agent": _security(Category.DEVICE),
    "ip_address": _security(Category.NETWORK),
    "username": _security(Category.ACCOUNT_USERNAME),
    "http_accept": _security(Category.DEVICE),
    "attempt_time": _security(Category.SECURITY_EVENTS),
}

declare(
    "axes.AccessAttempt",
    subject="",
    subjects=(Subjects.VISITORS, Subjects.USERS),
    personal={
        **_sign_in_attempt,
        "get_data": _security(Category.SECURITY_EVENTS),
        "post_data": _security(Category.SECURITY_EVENTS),
        "failures_since_start": _security(Category.SECURITY_EVENTS),
    },
    not_personal=["id", "path_info"],
    clock=SIGN_IN_ATTEMPT,
    note=_AXES_NOTE,
)

declare(
    "axes.AccessAttemptExpiration",
    subject="",
    not_personal=["access_attempt", "expires_at"],
)

declare(
    "axes.AccessLog",
    subject="",
    subjects=(Subjects.VISITORS, Subjects.USERS),
    personal={
        **_sign_in_attempt,
        "logout_time": _security(Category.SECURITY_EVENTS),
        "session_hash": _security(Category.COOKIE_ID, exportable=False),
    },
    not_personal=["id", "path_info"],
    clock=SIGN_IN_ATTEMPT,
    note=_AXES_NOTE,
)

declare(
    "axes.AccessFailureLog",
    subject="",
    subjects=(Subjects.VISITORS, Subjects.USERS),
    personal={**_sign_in_attempt, "locked_out": _security(Category.SECURITY_EVENTS)},
    not_personal=["id", "path_info"],
    clock=SIGN_IN_ATTEMPT,
    note=_AXES_NOTE + " Written only when AXES_ENABLE_ACCESS_FAILURE_LOG is on.",
)


_session = PersonalData(
    category=Category.UNIQUE_ID,
    purpose=Purpose.ACCOUNT,
    legal_basis=LegalBasis.CONTRACT,
    retention=Retentions.SESSION,
    erasure=Erasure.DELETE,
    exportable=False,
    source=Source.GENERATED,
)
declare(
    "sessions.Session",
    subject="",
    subjects=(Subjects.VISITORS, Subjects.USERS),
    personal={"session_key": _session, "session_data": _session},
    not_personal=["expire_date"],
    clock=SESSIONS,
    note="The signed session data holds the user id; a person's sessions are found through "
    "usersessions.UserSession.session_key.",
)

_staff_action = _security(Category.STAFF_ACTIONS, retention=Retentions.STAFF_AUDIT)
declare(
    "admin.LogEntry",
    subject="user",
    subjects=(Subjects.STAFF,),
    personal={
        "action_time": _staff_action,
        "object_repr": _staff_action,
        "change_message": _staff_action,
    },
    not_personal=["id", "user", "content_type", "object_id", "action_flag"],
    clock=Clock(field="action_time"),
    note="About the staff member who acted. object_repr may name the person whose row changed: "
    "erasing that person must blank it, found by content_type and object_id.",
)

declare("auth.Group", subject="", not_personal=["id", "name", "permissions"])
declare("auth.Permission", subject="", not_personal=["id", "name", "content_type", "codename"])
declare("contenttypes.ContentType", subject="", not_personal=["id", "app_label", "model"])

data_map.register_resealer("two-factor secrets", services.mfa_secrets_reseal)

# Export, erasure and retention handlers (accounts/erasure.py, privacy/rights.py)
# Orders: deactivate first; the steps that find rows through the account run before the data-map
# steps (privacy.rights.erasure.DATA_MAP_ORDER) delete the e-mail addresses and pseudonymize the
# user row.


def _register_rights_handlers() -> None:
    from backgroundmusic.accounts import erasure

    data_map.register_exporter(
        "accounts: sign-in records",
        erasure.export_sign_in_records,
        models=list(erasure.AXES_MODELS),
    )
    data_map.register_eraser("accounts: deactivate", erasure.erase_deactivate, order=10)
    data_map.register_eraser(
        "accounts: sessions",
        erasure.erase_sessions,
        order=40,
        models=["usersessions.UserSession", "sessions.Session"],
    )
    data_map.register_eraser(
        "accounts: sign-in records",
        erasure.erase_sign_in_records,
        order=50,
        models=list(erasure.AXES_MODELS),
    )
    data_map.register_eraser(
        "accounts: names in the admin log", erasure.erase_admin_log_names, order=60
    )
    data_map.register_retention(
        "sessions",
        erasure.destroy_old_sessions,
        models=["usersessions.UserSession", "sessions.Session"],
    )
    data_map.register_erasure_due("unverified sign-up", erasure.unverified_signups)
    data_map.register_erasure_due("account closed", erasure.closed_accounts)


_register_rights_handlers()
