"""Borders (decision 0031): where the service sends data and where it keeps it, each with its
country, read from settings (docs/operations.md, "Borders").

- OUTBOUND_DESTINATIONS: every host an outbound client of the service connects to (the SMTP
  server, the S3 endpoint, YooKassa's API, the IMAP mailbox, a mail provider's API), with its
  purpose, the recipient on the privacy register it is, its country and the basis of the
  transfer. Each client calls `destination_require` (or `url_destination_require`) before it
  opens a connection: a host, port or purpose not declared is refused with
  DestinationRefused naming it, before a byte is sent.
- DATA_STORES: every place the service keeps data (the databases, media storage, the cache,
  the files under var/), with its country and whether it is a primary store of personal data.
  The deploy check (`manage.py check --deploy`) refuses a primary store outside
  OPERATOR_COUNTRY (152-FZ art. 18(5)).

A destination outside OPERATOR_COUNTRY is a transfer abroad: the privacy app registers a
transfer check (`transfer_check_register`) that refuses it without a transfer record in force;
core knows nothing of those records.
"""

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from backgroundmusic.core.hostnames import normal_host


class Purpose:
    """What an outbound client connects for; a declaration names one of these."""

    MAIL = "mail"  # the SMTP server or a mail provider's API sending the service's e-mail
    STORAGE = "storage"  # S3-compatible object storage
    PAYMENTS = "payments"  # the card payment provider's API
    MAILBOX = "mailbox"  # the IMAP server holding the service's own mailboxes

    ALL = frozenset({MAIL, STORAGE, PAYMENTS, MAILBOX})


DEFAULT_PORTS = {"http": 80, "https": 443, "smtp": 25, "imap": 143, "imaps": 993}


class DestinationRefused(ImproperlyConfigured):
    """An outbound connection refused before it was opened: its host is not declared for this
    purpose (`code` "undeclared"), or it goes abroad without a transfer record in force
    ("no_transfer_record")."""

    def __init__(self, message: str, *, host: str, port: int | None, code: str) -> None:
        super().__init__(message)
        self.host = host
        self.port = port
        self.code = code


@dataclass(frozen=True)
class Destination:
    host: str
    port: int | None  # None: any port of the host
    purpose: str
    recipient: str  # the name of the privacy register's Recipient
    country: str  # ISO 3166-1 alpha-2
    basis: str  # the legal basis of the transfer, as the records of processing state it

    @property
    def abroad(self) -> bool:
        return self.country != settings.OPERATOR_COUNTRY

    def describe(self) -> str:
        return f"{self.host}:{self.port or '*'} ({self.purpose})"


@dataclass(frozen=True)
class DataStore:
    name: str
    country: str
    # A primary store records and accumulates personal data (152-FZ art. 18(5)); a cache holds
    # copies of what a primary store has.
    primary: bool
    description: str


TransferCheck = Callable[[Destination], None]
_transfer_checks: list[TransferCheck] = []


def transfer_check_register(check: TransferCheck) -> None:
    """Called by the privacy app when it loads: `check(destination)` raises DestinationRefused
    when a destination abroad has no transfer record in force."""
    if check not in _transfer_checks:
        _transfer_checks.append(check)


def _declared(entry: object, index: int) -> Destination:
    if not isinstance(entry, dict):
        raise ImproperlyConfigured(f"OUTBOUND_DESTINATIONS[{index}] must be a mapping")
    missing = [k for k in ("host", "purpose", "recipient", "country", "basis") if not entry.get(k)]
    if missing:
        raise ImproperlyConfigured(
            f"OUTBOUND_DESTINATIONS[{index}] lacks {', '.join(missing)}: every destination names "
            "its host, purpose, recipient, country and transfer basis"
        )
    host = normal_host(str(entry["host"]))
    if not host:
        raise ImproperlyConfigured(f"OUTBOUND_DESTINATIONS[{index}]: {entry['host']!r} is no host")
    if entry["purpose"] not in Purpose.ALL:
        raise ImproperlyConfigured(
            f"OUTBOUND_DESTINATIONS[{index}]: purpose must be one of {sorted(Purpose.ALL)}"
        )
    port = entry.get("port")
    return Destination(
        host=host,
        port=int(port) if port else None,
        purpose=str(entry["purpose"]),
        recipient=str(entry["recipient"]),
        country=str(entry["country"]).upper(),
        basis=str(entry["basis"]),
    )


def destinations_declared() -> list[Destination]:
    """Every declared outbound destination, in the order of OUTBOUND_DESTINATIONS."""
    return [_declared(entry, i) for i, entry in enumerate(settings.OUTBOUND_DESTINATIONS)]


def data_stores_declared() -> list[DataStore]:
    """Every declared data store, in the order of DATA_STORES."""
    return [
        DataStore(
            name=name,
            country=str(store.get("country") or "").upper(),
            primary=bool(store.get("primary")),
            description=str(store.get("description") or ""),
        )
        for name, store in settings.DATA_STORES.items()
    ]


def destination_require(*, host: str, port: int | None, purpose: str) -> Destination:
    """The declaration of the destination a client is about to connect to; DestinationRefused,
    naming the host, when there is none (or, abroad, when no transfer record is in force)."""
    normal = normal_host(host) or host
    for destination in destinations_declared():
        if (
            destination.host == normal
            and destination.purpose == purpose
            and destination.port in (None, port)
        ):
            if destination.abroad:
                for check in _transfer_checks:
                    check(destination)
            return destination
    raise DestinationRefused(
        f"Outbound connection to {normal}:{port} ({purpose}) refused: it is not a declared "
        "destination. Declare it in OUTBOUND_DESTINATIONS with its recipient, country and "
        "transfer basis (docs/operations.md, Borders).",
        host=normal,
        port=port,
        code="undeclared",
    )


def url_destination_require(url: str, *, purpose: str) -> Destination:
    """destination_require for the host and port of `url` (the scheme's port when it has none)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        port = None
    return destination_require(host=host, port=port, purpose=purpose)


def _store_problems() -> list[checks.CheckMessage]:
    problems: list[checks.CheckMessage] = []
    for store in data_stores_declared():
        if not store.country:
            problems.append(
                checks.Error(
                    f"The data store {store.name!r} declares no country.",
                    hint="Set its country in DATA_STORES (docs/operations.md, Borders).",
                    obj=store.name,
                    id="core.E031",
                )
            )
        elif store.primary and store.country != settings.OPERATOR_COUNTRY:
            problems.append(
                checks.Error(
                    f"The data store {store.name!r} is a primary store of personal data in "
                    f"{store.country}, outside {settings.OPERATOR_COUNTRY}: 152-FZ art. 18(5) "
                    "requires the personal data of Russian citizens to be recorded and kept in "
                    "databases in Russia.",
                    hint="Move the store to Russia, or correct its declared country.",
                    obj=store.name,
                    id="core.E032",
                )
            )
    return problems


@checks.register(checks.Tags.security, deploy=True)
def borders_check(**kwargs: object) -> list[checks.CheckMessage]:
    """`manage.py check --deploy`: every store and destination declares its country, and no
    primary store of personal data is abroad."""
    try:
        destinations = destinations_declared()
    except ImproperlyConfigured as error:
        return [checks.Error(str(error), id="core.E033")]
    problems = _store_problems()
    for destination in destinations:
        if len(destination.country) != 2 or not destination.country.isalpha():
            problems.append(
                checks.Error(
                    f"The destination {destination.describe()} declares no valid country "
                    f"({destination.country!r}).",
                    obj=destination.host,
                    id="core.E034",
                )
            )
    return problems
