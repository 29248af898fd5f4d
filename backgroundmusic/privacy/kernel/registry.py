"""The personal-data map (DESIGN.md §4): what each model holds about people, and why.

This module imports no app of the project. Each app declares its own models in its `privacy.py`
(autodiscovered when the privacy app loads); export, erasure, retention and the records of
processing iterate what is declared here.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.utils.functional import Promise
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class Category(StrEnum):
    """Data categories as fideslang keys; `user.social` is the name DESIGN.md uses."""

    ACCOUNT_USERNAME = "user.account.username"
    ACCOUNT_SETTINGS = "user.account.settings"
    AUTHENTICATION = "user.authorization.credentials"
    CONTACT_EMAIL = "user.contact.email"
    CONTACT_PHONE = "user.contact.phone_number"
    CONTACT_ADDRESS = "user.contact.address"
    NAME = "user.name"
    SOCIAL = "user.social"
    GOVERNMENT_ID = "user.government_id"
    ORGANIZATION = "user.workplace"
    DEVICE = "user.device"
    NETWORK = "user.device.ip_address"
    BROWSING = "user.behavior.browsing_history"
    CONSENT = "user.privacy_preferences"
    SECURITY_EVENTS = "user.behavior"  # sign-in attempts and sessions
    CONTRACT = "user.behavior.purchase_history"  # licences and invoices
    MEDIA_CONSUMPTION = "user.behavior.media_consumption"  # favourites and playlists
    STAFF_ACTIONS = "user.account"  # what staff did as, or with, an account
    UNIQUE_ID = "user.unique_id"
    COOKIE_ID = "user.device.cookie_id"


class Purpose(StrEnum):
    """Purposes of processing (policy clause 4.1 and what the law adds)."""

    CONTRACT = "contract"  # 4.1.1 perform the user and licence agreements
    COMMUNICATION = "communication"  # 4.1.2
    NEWSLETTER = "newsletter"  # 4.1.3, only with consent
    SERVICE_IMPROVEMENT = "service_improvement"  # 4.1.4
    ACCOUNT = "account"  # 4.1.5 registration, identification, account management
    JUSTICE = "justice"  # 4.1.6
    LEGAL_COMPLIANCE = "legal_compliance"  # 4.1.7
    SECURITY = "security"  # 5.1 protect accounts and data
    PUBLIC_PROFILE = "public_profile"  # 7.1, only with consent
    # First-party page statistics (analytics/): how the site is used, so it can be improved.
    ANALYTICS = "analytics"
    # Depersonalized research datasets released to a named partner (analytics/research.py).
    RESEARCH = "research"
    # Ad targeting by partners: nothing serves it today; named so the policy rules can refuse
    # contact data flowing to it (privacy/kernel/policy_rules.py).
    ADVERTISING = "advertising"


class Subjects(StrEnum):
    """Categories of data subjects (GDPR art. 30(1)(c); 152-FZ art. 22(3))."""

    USERS = "users"  # people with an account, and those who act for a company's account
    CUSTOMERS = "customers"  # buyers and licensees
    VISITORS = "visitors"  # anyone who opens the website, signed in or not
    STAFF = "staff"
    NEWSLETTER_SUBSCRIBERS = "newsletter_subscribers"
    REQUESTERS = "requesters"  # people who write to the service or ask about their data


class Source(StrEnum):
    """Where a piece of personal data comes from (GDPR art. 14(2)(f), 15(1)(g))."""

    PERSON = "person"  # the person typed or chose it
    GENERATED = "generated"  # the service recorded or derived it while working for them
    THIRD_PARTY = "third_party"  # someone else gave it to us (a payment service, a sender)


class LegalBasis(StrEnum):
    CONTRACT = "contract"
    CONSENT = "consent"
    LEGAL_OBLIGATION = "legal_obligation"
    LEGITIMATE_INTEREST = "legitimate_interest"


class Erasure(StrEnum):
    """What erasure does with a field."""

    DELETE = "delete"  # the row goes
    NULL = "null"  # the value is emptied, the row stays
    PSEUDONYMIZE = "pseudonymize"  # replaced by a stable pseudonym
    KEEP_FOR_LAW = "keep_for_law"  # kept, with the person replaced by a pseudonym elsewhere


class RetentionStart(StrEnum):
    COLLECTED = "collected"
    ACCOUNT_CLOSED = "account_closed"
    AGREEMENTS_ENDED = "agreements_ended"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    REPORTING_YEAR_ENDED = "reporting_year_ended"


@dataclass(frozen=True)
class Retention:
    days: int
    start: RetentionStart
    # Human text for the records of processing, translatable (gettext_lazy): str() it to use it.
    description: str | Promise

    def __str__(self) -> str:
        return str(self.description)


class Retentions:
    """Shared retention rules: each period is stated once, so changing it changes every field."""

    ACCOUNT = Retention(
        days=30,
        start=RetentionStart.ACCOUNT_CLOSED,
        description=_("While the account is open, then 30 days after it is closed"),
    )
    SECURITY_LOG = Retention(
        days=90,
        start=RetentionStart.COLLECTED,
        description=_("90 days after the sign-in event"),
    )
    # SESSION_COOKIE_AGE is Django's default of two weeks.
    SESSION = Retention(
        days=14,
        start=RetentionStart.COLLECTED,
        description=_("Until the session ends, at most 14 days"),
    )
    # Finished job rows: tasks take ids, so their arguments and results name people by id.
    FINISHED_JOBS = Retention(
        days=14,
        start=RetentionStart.COLLECTED,
        description=_("14 days after the job finishes"),
    )
    # ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS is allauth's default of three days.
    EMAIL_CONFIRMATION = Retention(
        days=3,
        start=RetentionStart.COLLECTED,
        description=_("3 days, the life of an e-mail confirmation link"),
    )
    STAFF_AUDIT = Retention(
        days=365,
        start=RetentionStart.COLLECTED,
        description=_("1 year after the staff action"),
    )
    # Three years: the general limitation period for claims under a contract (Civil Code art. 196).
    CONTRACT_EVIDENCE = Retention(
        days=3 * 365,
        start=RetentionStart.AGREEMENTS_ENDED,
        description=_("3 years after the agreements end (limitation period for claims)"),
    )
    # Accounting documents (orders, invoices, payments): Federal Law 402-FZ art. 29 keeps them
    # at least five years after the reporting year; kept until the keep_until the licensing
    # services write on each row.
    ACCOUNTING_RECORDS = Retention(
        days=5 * 365,
        start=RetentionStart.REPORTING_YEAR_ENDED,
        description=_("5 years after the end of the year of payment (accounting law)"),
    )
    # Licence agreements are accounting documents too, and evidence for claims under them.
    LICENCE_AGREEMENTS = Retention(
        days=5 * 365,
        start=RetentionStart.AGREEMENTS_ENDED,
        description=_("5 years after the end of the year in which the agreement ended"),
    )
    # What a licensee downloaded: evidence under the licence for the limitation period.
    DOWNLOADS = Retention(
        days=3 * 365,
        start=RetentionStart.COLLECTED,
        description=_("3 years after the download, then the download names nobody"),
    )
    REQUEST_RECORDS = Retention(
        days=3 * 365,
        start=RetentionStart.COLLECTED,
        description=_("3 years after the request was answered"),
    )
    EXPORT_FILE = Retention(
        days=7,
        start=RetentionStart.COLLECTED,
        description=_("7 days, the life of a download link"),
    )
    # First-party page statistics (analytics/aggregates.py): raw events, then daily totals.
    ANALYTICS_EVENTS = Retention(
        days=25 * 31,
        start=RetentionStart.COLLECTED,
        description=_("25 months, then only daily totals that name nobody"),
    )
    # The copies of text messages the embedded SMS backend writes to var/sms/ (core/sms.py): long
    # enough to answer "did you send me that?", no longer.
    TEXT_MESSAGE_COPIES = Retention(
        days=30,
        start=RetentionStart.COLLECTED,
        description=_("30 days after the text message was sent"),
    )
    # Who got which newsletter, and whether it left (mailing/): the person is emptied after a
    # year, and the row then only counts a message of the campaign.
    NEWSLETTER_MESSAGES = Retention(
        days=365,
        start=RetentionStart.COLLECTED,
        description=_("1 year after the newsletter was sent, then the message names nobody"),
    )
    # Letters to the service's addresses (inbox/): the letter itself while staff answer it (the
    # longest deadline, GDPR's month, fits), the record of its arrival and outcome for a year.
    INBOUND_LETTER = Retention(
        days=30,
        start=RetentionStart.COLLECTED,
        description=_("30 days after the letter arrived"),
    )
    INBOUND_RECORD = Retention(
        days=365,
        start=RetentionStart.COLLECTED,
        description=_("1 year after the letter arrived, then the record names nobody"),
    )
    # A consent waiting for its confirmation by e-mail (privacy/optin.py): the link works 7 days
    # from when it is sent, and a request made at sign-up is sent within the 7 days an
    # unconfirmed sign-up lives; the consent, once confirmed, is in the ledger.
    CONSENT_CONFIRMATION = Retention(
        days=14,
        start=RetentionStart.COLLECTED,
        description=_("14 days after it was asked for: the confirmation link works 7 days"),
    )
    # A sign-up whose e-mail address is never confirmed is erased (privacy/retention.py).
    UNVERIFIED_SIGNUP = Retention(
        days=7,
        start=RetentionStart.COLLECTED,
        description=_("7 days when the e-mail address is never confirmed"),
    )


PURPOSE_LABELS = {
    Purpose.CONTRACT: _("Performing the user agreement and licence agreements"),
    Purpose.COMMUNICATION: _("Keeping in touch with you about your account and licences"),
    Purpose.NEWSLETTER: _("Newsletters and promotional e-mail (only with your consent)"),
    Purpose.SERVICE_IMPROVEMENT: _("Improving the service"),
    Purpose.ACCOUNT: _("Registration, sign-in and account management"),
    Purpose.JUSTICE: _("Answering lawful requests of courts and authorities"),
    Purpose.LEGAL_COMPLIANCE: _("Complying with the law"),
    Purpose.SECURITY: _("Protecting accounts and data"),
    Purpose.PUBLIC_PROFILE: _("Showing your public profile (only with your consent)"),
    Purpose.ANALYTICS: _("Measuring how the website is used"),
    Purpose.RESEARCH: _("Depersonalized research for partners (only with your consent)"),
    Purpose.ADVERTISING: _("Ad targeting by partners"),
}

SUBJECTS_LABELS = {
    Subjects.USERS: _("Users with an account, and people who act for a company's account"),
    Subjects.CUSTOMERS: _("Buyers and licensees"),
    Subjects.VISITORS: _("Visitors of the website"),
    Subjects.STAFF: _("Staff of the operator"),
    Subjects.NEWSLETTER_SUBSCRIBERS: _("Newsletter subscribers"),
    Subjects.REQUESTERS: _("People who write to us or make requests about their data"),
}

# Labels of categories and legal bases, for the records of processing (privacy/processing.py)

DATA_CATEGORY_LABELS = {
    Category.ACCOUNT_USERNAME: _("Username"),
    Category.ACCOUNT_SETTINGS: _("Account settings"),
    Category.AUTHENTICATION: _("Sign-in credentials (password hash, two-factor secrets)"),
    Category.CONTACT_EMAIL: _("E-mail address"),
    Category.CONTACT_PHONE: _("Contact phone number"),
    Category.CONTACT_ADDRESS: _("Postal address"),
    Category.NAME: _("Name"),
    Category.SOCIAL: _("Links to social-network profiles"),
    Category.GOVERNMENT_ID: _("Tax id"),
    Category.ORGANIZATION: _("Company details"),
    Category.DEVICE: _("Browser and device type"),
    Category.NETWORK: _("IP address"),
    Category.BROWSING: _("Pages visited and time spent on them"),
    Category.CONSENT: _("Consents, privacy choices and requests"),
    Category.SECURITY_EVENTS: _("Sign-in attempts and sessions"),
    Category.CONTRACT: _("Licences, orders and invoices"),
    Category.MEDIA_CONSUMPTION: _("Favourite tracks and playlists"),
    Category.STAFF_ACTIONS: _("Staff actions on the account"),
    Category.UNIQUE_ID: _("Account id and pseudonyms"),
    Category.COOKIE_ID: _("Cookie identifiers"),
}

SOURCE_LABELS = {
    Source.PERSON: _("You gave it to us"),
    Source.GENERATED: _("We recorded it while providing the service"),
    Source.THIRD_PARTY: _("We received it from a third party"),
}

LEGAL_BASIS_LABELS = {
    LegalBasis.CONTRACT: _("Performance of a contract with you"),
    LegalBasis.CONSENT: _("Your consent"),
    LegalBasis.LEGAL_OBLIGATION: _("A legal obligation"),
    LegalBasis.LEGITIMATE_INTEREST: _("Our legitimate interest"),
}


@dataclass(frozen=True)
class Use:
    """A purpose a field serves, and the legal basis for it."""

    purpose: Purpose
    legal_basis: LegalBasis


@dataclass(frozen=True)
class PersonalData:
    """further_uses: purposes the field also serves beyond its main one, each on its own basis
    (e.g. analytics events also feed the research release, with consent). source: where we got
    it, shown in the access package; every declared field names one (test_data_map)."""

    category: Category
    purpose: Purpose
    legal_basis: LegalBasis
    retention: Retention
    erasure: Erasure
    exportable: bool = True
    further_uses: tuple[Use, ...] = ()
    source: Source | None = None

    def uses(self) -> tuple[Use, ...]:
        return (Use(purpose=self.purpose, legal_basis=self.legal_basis), *self.further_uses)


def staff_record(*, exportable: bool) -> PersonalData:
    """A field of a record of what staff did (the access log, the audit trail). Kept for law: it
    is the proof of who did what and why (152-FZ art. 19, GDPR art. 5(2)/32), so erasure leaves
    it whole; the ids then lead to the erased account, which holds only the pseudonym."""
    return PersonalData(
        category=Category.STAFF_ACTIONS,
        purpose=Purpose.SECURITY,
        legal_basis=LegalBasis.LEGAL_OBLIGATION,
        retention=Retentions.STAFF_AUDIT,
        erasure=Erasure.KEEP_FOR_LAW,
        exportable=exportable,
        source=Source.GENERATED,
    )


@dataclass(frozen=True)
class Clock:
    """What a model's retention period counts from.

    field: the row's own timestamp; the rule is then row-shaped (model, clock field, period,
    erasure strategy) and the generic retention step (privacy/retention.py) enforces it: rows
    whose field is older than the period are deleted, or their personal fields emptied when the
    strategy is Erasure.NULL.
    rule: otherwise, the name of the registered handler that enforces the period (a retention
    handler listing the model, or an erasure-due handler such as "account closed").
    """

    field: str = ""
    rule: str = ""

    def __post_init__(self) -> None:
        if bool(self.field) == bool(self.rule):
            raise ValueError("a retention clock names either a field or a rule")


@dataclass
class ModelDeclaration:
    """One model's entry in the data map.

    subject: ORM path from a row to the user it is about ("pk" for the user model itself; "" when
    no relation leads to a user: a model holding personal data then says in its note how a
    person's rows are found).
    personal: field name → what it holds and why.
    not_personal: the other fields, named so that nothing goes unclassified.
    clock: what the retention period of the personal fields counts from (None only for a model
    holding no personal data).
    subjects: whom the personal fields are about; a model whose rows lead to an account defaults
    to users, any other model holding personal data names them.
    """

    label: str
    subject: str
    personal: dict[str, PersonalData]
    not_personal: frozenset[str]
    note: str = ""
    clock: Clock | None = None
    subjects: tuple[Subjects, ...] = ()

    def retention(self) -> Retention | None:
        """The one period of the model's personal fields (a model's fields share one clock)."""
        periods = {data.retention for data in self.personal.values()}
        if len(periods) > 1:
            raise ValueError(f"{self.label} declares more than one retention period")
        return next(iter(periods), None)

    def classified(self) -> set[str]:
        return set(self.personal) | set(self.not_personal)


@dataclass
class Handler:
    """An app's own export, erasure or retention routine, called by the privacy services.

    models: labels of the declared models the handler takes care of; the generic, data-map
    driven export and erasure leave those models to it (privacy/rights.py).
    method: what a retention handler does to the data ("delete" or "depersonalize"), as written
    in its destruction records.
    """

    name: str
    order: int
    run: Callable[..., Any]
    models: tuple[str, ...] = ()
    method: str = "delete"


@dataclass(frozen=True)
class PersonSection:
    """A part of a person's records shown on the staff person page after the profile fields,
    read by the app that keeps it (the privacy center's consents, requests and exports sit above
    accounts, which draws the page). The reading's access-log entry names the section.

    may(*, actor) -> bool: the staff_may_* question of who is shown it;
    rows(*, subject_id) -> rows, one value per column, newest first.
    """

    name: str
    label: Any
    columns: tuple[Any, ...]
    may: Callable[..., bool]
    rows: Callable[..., list[tuple[Any, ...]]]
    order: int = 100


@dataclass
class Registry:
    models: dict[str, ModelDeclaration] = field(default_factory=dict)
    exporters: dict[str, Handler] = field(default_factory=dict)
    erasers: dict[str, Handler] = field(default_factory=dict)
    # Re-seal master-sealed secrets under the current master key; each returns how many changed.
    resealers: dict[str, Handler] = field(default_factory=dict)
    # Consent purpose → callables run with subject_id=... when that consent stops (withdrawn or
    # suspended), so an app can stop what the consent allowed (see privacy/consents.py).
    consent_listeners: dict[str, list[Callable[..., Any]]] = field(default_factory=dict)
    # Data category → callables run with subject_id=... when the person removes that contact
    # (e.g. the phone, from the profile), so the center can stop what needed it: the app that
    # holds the contact sits below the center and cannot call it.
    contact_removed_listeners: dict[str, list[Callable[..., Any]]] = field(default_factory=dict)
    # Callables run with subject_id= and site_url= when a person's e-mail address is verified
    # (accounts/adapter.py), e.g. to send a confirmation asked for at sign-up.
    address_verified_listeners: list[Callable[..., Any]] = field(default_factory=list)
    # Retention (privacy/retention.py) and cached values (privacy/rights.py)
    # run(*, now) -> {model label or store: rows destroyed} for data past its retention period.
    retention_handlers: dict[str, Handler] = field(default_factory=dict)
    # run(*, now) -> ids of people whose whole account is due for erasure (the handler's name is
    # the reason recorded, e.g. "unverified sign-up").
    erasure_due: dict[str, Handler] = field(default_factory=dict)
    # run(*, subject_id) -> cache keys holding the person's values, deleted on erasure.
    cache_keys: dict[str, Handler] = field(default_factory=dict)
    # The staff person page's sections beyond the profile fields (accounts/staff.py).
    person_sections: dict[str, PersonSection] = field(default_factory=dict)

    def declare(
        self,
        label: str,
        *,
        subject: str,
        personal: dict[str, PersonalData] | None = None,
        not_personal: Iterable[str] = (),
        note: str = "",
        clock: Clock | None = None,
        subjects: Iterable[Subjects] = (),
    ) -> None:
        if label in self.models:
            raise ValueError(f"{label} is declared twice in the data map")
        if personal and clock is None:
            raise ValueError(f"{label} holds personal data: declare the clock of its retention")
        self.models[label] = ModelDeclaration(
            label=label,
            subject=subject,
            personal=dict(personal or {}),
            not_personal=frozenset(not_personal),
            note=note,
            clock=clock,
            subjects=tuple(subjects) or ((Subjects.USERS,) if subject and personal else ()),
        )

    def register_exporter(
        self, name: str, run: Callable[..., Any], *, order: int = 100, models: Iterable[str] = ()
    ) -> None:
        """run(*, subject_id) -> {model label: rows (model instances)} of the person's rows that
        no subject path finds; the export writes each row's exportable fields (rights.py)."""
        self.exporters[name] = Handler(name=name, order=order, run=run, models=tuple(models))

    def register_eraser(
        self, name: str, run: Callable[..., Any], *, order: int = 100, models: Iterable[str] = ()
    ) -> None:
        """run(*, subject: ErasureSubject) -> {model label or store: rows destroyed}. Each eraser
        is one step of the erasure job, run in `order` and recorded when done; it must do nothing
        when run again (rights.py)."""
        self.erasers[name] = Handler(name=name, order=order, run=run, models=tuple(models))

    def register_resealer(self, name: str, run: Callable[[], int]) -> None:
        self.resealers[name] = Handler(name=name, order=100, run=run)

    # Consent listeners (privacy/consents.py)
    def register_consent_listener(self, purpose: str, run: Callable[..., Any]) -> None:
        listeners = self.consent_listeners.setdefault(str(purpose), [])
        if run not in listeners:
            listeners.append(run)

    def consent_listeners_for(self, purpose: str) -> list[Callable[..., Any]]:
        return list(self.consent_listeners.get(str(purpose), ()))

    def register_contact_removed_listener(
        self, category: Category, run: Callable[..., Any]
    ) -> None:
        listeners = self.contact_removed_listeners.setdefault(str(category), [])
        if run not in listeners:
            listeners.append(run)

    def contact_removed(self, *, category: Category, subject_id: int) -> None:
        """Called by the app holding the contact, in the transaction that removed it."""
        for listener in list(self.contact_removed_listeners.get(str(category), ())):
            listener(subject_id=subject_id)

    def register_person_section(self, section: PersonSection) -> None:
        self.person_sections[section.name] = section

    def person_sections_for(self, *, actor: Any) -> list[PersonSection]:
        """The sections the staff member is shown, in order."""
        sections = sorted(self.person_sections.values(), key=lambda s: (s.order, s.name))
        return [section for section in sections if section.may(actor=actor)]

    # Address verification (accounts/adapter.py)
    def register_address_verified_listener(self, run: Callable[..., Any]) -> None:
        if run not in self.address_verified_listeners:
            self.address_verified_listeners.append(run)

    def address_verified(self, *, subject_id: int, site_url: str) -> None:
        """Tells the registered listeners that the person's e-mail address was just verified."""
        for listener in list(self.address_verified_listeners):
            listener(subject_id=subject_id, site_url=site_url)

    # Retention and cached values (privacy/retention.py, privacy/rights.py)
    def register_retention(
        self,
        name: str,
        run: Callable[..., Any],
        *,
        models: Iterable[str],
        order: int = 100,
        method: str = "delete",
    ) -> None:
        """A period that is not row-shaped: `models` are the declared models whose clock names
        this handler (Clock(rule=name))."""
        self.retention_handlers[name] = Handler(
            name=name, order=order, run=run, models=tuple(models), method=method
        )

    def row_retentions(self) -> Iterator[tuple[ModelDeclaration, Retention, str]]:
        """The row-shaped periods: declaration, period and the clock field it counts from."""
        for declaration in self.models.values():
            retention = declaration.retention()
            if declaration.clock and declaration.clock.field and retention is not None:
                yield declaration, retention, declaration.clock.field

    def register_erasure_due(self, name: str, run: Callable[..., Any]) -> None:
        self.erasure_due[name] = Handler(name=name, order=100, run=run)

    def register_cache_keys(self, name: str, run: Callable[..., Any]) -> None:
        self.cache_keys[name] = Handler(name=name, order=100, run=run)

    def personal_fields(self) -> Iterator[tuple[ModelDeclaration, str, PersonalData]]:
        for declaration in self.models.values():
            for name, data in declaration.personal.items():
                yield declaration, name, data


# Erasure (privacy/rights.py)


@dataclass(frozen=True)
class ErasureSubject:
    """Whom an eraser erases: the user id, the pseudonym that replaces them in the records the law
    keeps, and the reason written in the destruction record."""

    subject_id: int
    pseudonym: str
    reason: str


data_map = Registry()
declare = data_map.declare


def autodiscover() -> None:
    autodiscover_modules("privacy")
