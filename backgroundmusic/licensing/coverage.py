"""What a licence covers: the channels a licensee publishes on and the works they published
under it (issue 11 §7; docs/architecture.md "Licensing", decision 0023-coverage).

A work is covered when it was published on a day the agreement was in force. Those days come
from the agreement's history (AgreementEvent): each move to "active" opens a stretch that runs to
the paid date it names, or to the next move away from "active", whichever is first. So a
subscription that lapsed and was renewed later has two stretches and the gap between them covers
nothing, and a work published while subscribed stays covered after the subscription ends: it
can still be registered then, and the letter still lists it. A revoked agreement (refunded or
cancelled) covers nothing.

Days are UTC days, as the agreement's documents state its moments in UTC. A publication date
may be up to "today" where the day starts first (UTC+14), so nobody is told that today is in
the future.

The claim-clearing letter (`letter_pdf`) is a document for platforms' content-identification
teams: licensor, licensee as the certificate shows them, the agreement and the stretches it was
in force, its status now, the channels and the covered works, and the certificate's /verify/
link as a QR code.
"""

import ipaddress
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.db import transaction
from django.utils import formats, translation
from django.utils.encoding import iri_to_uri
from django.utils.translation import gettext as _

from backgroundmusic.catalog.models import Track
from backgroundmusic.core import clock
from backgroundmusic.core.documents import document_pdf
from backgroundmusic.core.errors import DomainError, PermissionDenied
from backgroundmusic.core.hostnames import normal_host
from backgroundmusic.core.text import TextKind, text_refusal
from backgroundmusic.licensing.certificates import certificate_verify_url
from backgroundmusic.licensing.entitlements import agreements_in_force
from backgroundmusic.licensing.models import (
    Agreement,
    AgreementEvent,
    BuyerKind,
    Certificate,
    CoveredChannel,
    CoveredUse,
    Platform,
    Scope,
    Territory,
    Use,
)

# Licences for making works that are published somewhere: these have channels and works to
# register. A venue's licence to perform in public has none.
COVERABLE_USES = frozenset(
    {Use.ONLINE_VIDEO, Use.PODCAST, Use.COMPANY_CHANNEL, Use.ADVERTISING, Use.PROJECT}
)
MAX_URL_LENGTH = 500  # CoveredChannel.url and CoveredUse.url
MAX_TITLE_LENGTH = 300  # CoveredUse.title
MAX_CHANNELS = 20
MAX_USES = 1000
# The earliest time zone (UTC+14): a date that is today anywhere is not in the future.
EARLIEST_ZONE_AHEAD = timedelta(hours=14)

# Sites whose links say which platform a work is on: the site itself or any subdomain of it.
PLATFORM_SITES: dict[str, tuple[str, ...]] = {
    Platform.YOUTUBE: ("youtube.com", "youtu.be", "youtube-nocookie.com"),
    Platform.VK: ("vk.com", "vk.ru", "vkvideo.ru"),
    Platform.RUTUBE: ("rutube.ru",),
    Platform.TELEGRAM: ("t.me", "telegram.me"),
    Platform.PODCAST: (
        "podcasts.apple.com",
        "music.yandex.ru",
        "music.yandex.com",
        "open.spotify.com",
        "podcasters.spotify.com",
        "castbox.fm",
        "podster.fm",
        "mave.digital",
    ),
}
# Platforms that are one site: a link elsewhere is not on them. "Podcast platform" and "other"
# take any site.
SITE_PLATFORMS = frozenset({Platform.YOUTUBE, Platform.VK, Platform.RUTUBE, Platform.TELEGRAM})
_DAY_FORMATS = {"en": "j F Y", "ru": "j E Y"}


class CoverageRefused(DomainError):
    """A rule of coverage refused the change; `field` names the form field it is about (None:
    the form as a whole). Nothing was written."""

    code = "coverage_refused"

    def __init__(self, message: str, *, code: str, field: str | None = None) -> None:
        super().__init__(message, code=code)
        self.field = field


class CoverageNotFound(DomainError):
    """No agreement of this person by that number has coverage to show."""

    code = "not_found"


def day_display(day: date) -> str:
    """A day as documents show it, in the active language: "1 March 2026", "1 марта 2026"."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    return formats.date_format(day, _DAY_FORMATS.get(language[:2], _DAY_FORMATS["en"]))


@dataclass(frozen=True)
class InForce:
    """A stretch of time an agreement was in force: from `start` until `end` (exclusive; None
    for a perpetual licence, which does not end)."""

    start: datetime
    end: datetime | None

    @property
    def first_day(self) -> date:
        return self.start.astimezone(UTC).date()

    @property
    def last_day(self) -> date | None:
        """The last UTC day with a moment in force."""
        if self.end is None:
            return None
        return (self.end - timedelta(microseconds=1)).astimezone(UTC).date()

    def covers(self, day: date) -> bool:
        last = self.last_day
        return self.first_day <= day and (last is None or day <= last)

    def display(self) -> str:
        last = self.last_day
        if last is None:
            return _("from %(first)s") % {"first": day_display(self.first_day)}
        return _("%(first)s – %(last)s") % {
            "first": day_display(self.first_day),
            "last": day_display(last),
        }


def in_force_stretches(*, agreement: Agreement, events: list[AgreementEvent]) -> list[InForce]:
    """When the agreement was in force for coverage, from its history (`events` in order),
    merged into stretches that neither touch nor overlap: none for a revoked agreement, which
    covers nothing."""
    if agreement.status == Agreement.Status.REVOKED:
        return []
    return history_stretches(agreement=agreement, events=events)


def history_stretches(*, agreement: Agreement, events: list[AgreementEvent]) -> list[InForce]:
    """When the agreement was in force as its history (`events` in order) tells it, a revoked
    agreement's days before the revocation included: what entitled its holder then."""
    found: list[InForce] = []
    for index, event in enumerate(events):
        if event.status_to != Agreement.Status.ACTIVE:
            continue
        ends = [event.paid_until] if event.paid_until is not None else []
        left = next(
            (
                later.at
                for later in events[index + 1 :]
                if later.status_to != Agreement.Status.ACTIVE
            ),
            None,
        )
        if left is not None:
            ends.append(left)
        start = max(event.at, agreement.starts_at)
        end = min(ends) if ends else None
        if end is None or end > start:
            found.append(InForce(start=start, end=end))
    merged: list[InForce] = []
    for stretch in sorted(found, key=lambda s: s.start):
        last = merged[-1] if merged else None
        if last is None or (last.end is not None and stretch.start > last.end):
            merged.append(stretch)
        elif last.end is not None and (stretch.end is None or stretch.end > last.end):
            merged[-1] = InForce(start=last.start, end=stretch.end)
    return merged


@dataclass(frozen=True)
class Coverage:
    """An agreement's coverage as it stands: when it was in force, whether it is now, what the
    licensee registered, and which of the registered works it covers."""

    agreement: Agreement
    stretches: list[InForce]
    in_force: bool
    channels: list[CoveredChannel]
    uses: list[CoveredUse]

    @cached_property
    def covered_uses(self) -> list[CoveredUse]:
        return [use for use in self.uses if self.covers(use.published_on)]

    @property
    def revoked(self) -> bool:
        return self.agreement.status == Agreement.Status.REVOKED

    @property
    def suspended(self) -> bool:
        return self.agreement.status == Agreement.Status.SUSPENDED

    @property
    def perpetual(self) -> bool:
        return self.agreement.paid_until is None

    @property
    def last_day(self) -> date | None:
        """The last day in force so far (None: perpetual, or never in force)."""
        return self.stretches[-1].last_day if self.stretches else None

    @property
    def last_day_display(self) -> str:
        return day_display(self.last_day) if self.last_day else ""

    def covers(self, day: date) -> bool:
        return any(stretch.covers(day) for stretch in self.stretches)

    def stretches_display(self) -> str:
        return "; ".join(stretch.display() for stretch in self.stretches)


def agreement_is_coverable(agreement: Agreement) -> bool:
    return any(use in COVERABLE_USES for use in agreement.uses)


def coverage_agreement_get(*, user: Any, number: str) -> Agreement:
    """The person's agreement by its number, when it is one with coverage; else CoverageNotFound
    (another person's agreement is not found either)."""
    agreement = (
        Agreement.objects.select_related("plan_edition", "track", "certificate")
        .filter(user_id=user.pk, number=number)
        .first()
    )
    if agreement is None or not agreement_is_coverable(agreement):
        raise CoverageNotFound(_("There is no such licence with coverage."))
    return agreement


def coverage_of(*, agreement: Agreement, now: datetime) -> Coverage:
    """The agreement's coverage at `now` (four queries: history, in force, channels, works)."""
    events = list(agreement.events.all())
    in_force = (
        agreement.user_id is not None
        and agreements_in_force(user_id=agreement.user_id, now=now).filter(pk=agreement.pk).exists()
    )
    return Coverage(
        agreement=agreement,
        stretches=in_force_stretches(agreement=agreement, events=events),
        in_force=in_force,
        channels=list(agreement.channels.all()),
        uses=list(agreement.covered_uses.select_related("track")),
    )


def covered_uses_of(*, user: Any) -> list[CoveredUse]:
    """Every registered work of the person that one of their agreements covers, newest first
    (three queries)."""
    agreements = (
        Agreement.objects.filter(user_id=user.pk)
        .exclude(status=Agreement.Status.REVOKED)
        .prefetch_related("events", "covered_uses__track")
    )
    covered: list[CoveredUse] = []
    for agreement in agreements:
        stretches = in_force_stretches(agreement=agreement, events=list(agreement.events.all()))
        covered.extend(
            use
            for use in agreement.covered_uses.all()
            if any(stretch.covers(use.published_on) for stretch in stretches)
        )
    return sorted(covered, key=lambda use: (use.published_on, use.pk), reverse=True)


def track_by_code(*, code: str) -> Track:
    """The published track with this catalogue code (any letter case)."""
    track = Track.objects.filter(catalogue_code__iexact=code.strip(), is_published=True).first()
    if track is None:
        raise CoverageRefused(
            _("No published track has the catalogue code %(code)s.") % {"code": code.strip()},
            code="track_unknown",
            field="track",
        )
    return track


def link_normal(url: str) -> tuple[str, str]:
    """A link from outside as it is stored: http(s) only, the host checked and in its IDNA
    A-label form (core/hostnames.py), letters outside ASCII %-escaped, at most 500 characters;
    returns the link and its host. One spelling per address, so a link is found again however
    it was typed."""
    text = url.strip()
    if not text:
        raise CoverageRefused(_("Enter the link."), code="url_missing", field="url")
    if len(text) > MAX_URL_LENGTH * 4:
        raise _too_long()
    refusal = text_refusal(text, TextKind.LINE)
    if refusal is not None:
        raise CoverageRefused(refusal.message, code=refusal.code, field="url")
    if any(char.isspace() for char in text):
        raise CoverageRefused(_("A link has no spaces."), code="url_space", field="url")
    try:
        parts = urlsplit(text)
    except ValueError:  # e.g. an IPv6 bracket left open
        raise _no_host() from None
    if parts.scheme.lower() not in ("https", "http"):
        raise CoverageRefused(
            _("The link must start with https:// or http://."), code="url_scheme", field="url"
        )
    if "@" in parts.netloc:
        raise CoverageRefused(
            _("The link must not hold a user name or password before the site's name."),
            code="url_credentials",
            field="url",
        )
    try:
        names_port = parts.port is not None
    except ValueError:  # not a number, or past 65535
        names_port = True
    if names_port:
        raise CoverageRefused(
            _("The link must not name a port: give the site's usual address."),
            code="url_port",
            field="url",
        )
    host = normal_host(parts.hostname or "")
    if not host:
        raise _no_host()
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        raise CoverageRefused(
            _("Give the site's name, not an IP address."), code="url_ip", field="url"
        )
    if "." not in host:
        raise _no_host()
    link = urlunsplit(
        (
            parts.scheme.lower(),
            host,
            iri_to_uri(parts.path),
            iri_to_uri(parts.query),
            iri_to_uri(parts.fragment),
        )
    )
    if len(link) > MAX_URL_LENGTH:
        raise _too_long()
    return link, host


def _too_long() -> CoverageRefused:
    return CoverageRefused(
        _(
            "The link is too long: at most %(limit)s characters, counting each letter outside "
            "ASCII as its %%-escape."
        )
        % {"limit": MAX_URL_LENGTH},
        code="url_too_long",
        field="url",
    )


def _no_host() -> CoverageRefused:
    return CoverageRefused(
        _("The link has no valid site name (such as youtube.com)."), code="url_host", field="url"
    )


def platform_of_host(host: str) -> str | None:
    """The platform whose site `host` is on, or None."""
    for platform, sites in PLATFORM_SITES.items():
        if any(host == site or host.endswith("." + site) for site in sites):
            return platform
    return None


def platform_for(*, chosen: str, host: str) -> str:
    """The platform of a link on `host`: the one its site says, and the person's choice only
    where the site says none ("" chooses nothing)."""
    if chosen and chosen not in Platform.values:
        raise CoverageRefused(
            _("Choose a platform from the list."), code="platform_unknown", field="platform"
        )
    found = platform_of_host(host)
    if not chosen:
        return found or Platform.OTHER
    if found is not None and chosen != found:
        raise CoverageRefused(
            _("This link is on %(platform)s: choose %(platform)s, or let the platform be detected.")
            % {"platform": Platform(found).label},
            code="platform_mismatch",
            field="platform",
        )
    if found is None and chosen in SITE_PLATFORMS:
        raise CoverageRefused(
            _("This link is not on %(platform)s: its site is %(host)s.")
            % {"platform": Platform(chosen).label, "host": host},
            code="platform_mismatch",
            field="platform",
        )
    return chosen


def _agreement_for_change(*, user: Any, agreement: Agreement) -> Agreement:
    """The agreement locked for a change by its owner (concurrent additions queue here, so the
    duplicate and count checks hold)."""
    locked = Agreement.objects.select_for_update().get(pk=agreement.pk)
    if user is None or locked.user_id != user.pk:
        raise PermissionDenied(_("Only the licensee can change what this licence covers."))
    if not agreement_is_coverable(locked):
        raise CoverageRefused(
            _(
                "This licence is for public performance at a venue: it has no channels or "
                "published works to register."
            ),
            code="not_coverable",
        )
    if locked.status == Agreement.Status.REVOKED:
        raise CoverageRefused(
            _("This licence was revoked: it covers nothing, so nothing can be registered."),
            code="revoked",
        )
    return locked


@transaction.atomic
def channel_add(*, user: Any, agreement: Agreement, platform: str, url: str) -> CoveredChannel:
    """Registers a channel the licensee publishes on under the agreement."""
    agreement = _agreement_for_change(user=user, agreement=agreement)
    link, host = link_normal(url)
    platform = platform_for(chosen=platform, host=host)
    if agreement.channels.filter(url=link).exists():
        raise CoverageRefused(
            _("This channel is already registered for this licence."),
            code="channel_duplicate",
            field="url",
        )
    if agreement.channels.count() >= MAX_CHANNELS:
        raise CoverageRefused(
            _("A licence holds at most %(limit)s channels: remove one first.")
            % {"limit": MAX_CHANNELS},
            code="channel_limit",
        )
    return CoveredChannel.objects.create(
        agreement=agreement, platform=platform, url=link, added_at=clock.now()
    )


@transaction.atomic
def channel_remove(*, user: Any, channel: CoveredChannel) -> None:
    if user is None or channel.agreement.user_id != user.pk:
        raise PermissionDenied(_("Only the licensee can change what this licence covers."))
    CoveredChannel.objects.filter(pk=channel.pk).delete()


def _title_clean(title: str) -> str:
    title = title.strip()
    refusal = text_refusal(title, TextKind.LINE)
    if refusal is not None:
        raise CoverageRefused(refusal.message, code=refusal.code, field="title")
    if len(title) > MAX_TITLE_LENGTH:
        raise CoverageRefused(
            _("The title is too long: at most %(limit)s characters.") % {"limit": MAX_TITLE_LENGTH},
            code="title_too_long",
            field="title",
        )
    return title


def _track_for(*, agreement: Agreement, track: Track | None) -> Track | None:
    if agreement.scope != Scope.TRACK:
        if track is not None and not track.is_published:
            raise CoverageRefused(
                _("No published track has the catalogue code %(code)s.")
                % {"code": track.catalogue_code},
                code="track_unknown",
                field="track",
            )
        return track
    licensed = agreement.track
    assert licensed is not None  # a database constraint of a track-scoped agreement
    if track is not None and track.pk != licensed.pk:
        raise CoverageRefused(
            _("This licence covers one track only: %(title)s (%(code)s).")
            % {"title": licensed.title, "code": licensed.catalogue_code},
            code="track_not_licensed",
            field="track",
        )
    return licensed


@transaction.atomic
def use_add(
    *,
    user: Any,
    agreement: Agreement,
    platform: str,
    url: str,
    published_on: date,
    title: str,
    track: Track | None,
) -> CoveredUse:
    """Registers a published work (a video, an episode, an advertisement) under the agreement:
    one published on a day the agreement was in force, which it then covers for good."""
    agreement = _agreement_for_change(user=user, agreement=agreement)
    link, host = link_normal(url)
    platform = platform_for(chosen=platform, host=host)
    title = _title_clean(title)
    track = _track_for(agreement=agreement, track=track)
    now = clock.now()
    if published_on > (now + EARLIEST_ZONE_AHEAD).astimezone(UTC).date():
        raise CoverageRefused(
            _("The publication date is in the future."), code="date_future", field="published_on"
        )
    stretches = in_force_stretches(agreement=agreement, events=list(agreement.events.all()))
    if not any(stretch.covers(published_on) for stretch in stretches):
        raise _outside(published_on, stretches)
    duplicate = agreement.covered_uses.filter(url=link).first()
    if duplicate is not None:
        raise CoverageRefused(
            _("This work is already registered for this licence (published on %(day)s).")
            % {"day": day_display(duplicate.published_on)},
            code="use_duplicate",
            field="url",
        )
    if agreement.covered_uses.count() >= MAX_USES:
        raise CoverageRefused(
            _("A licence holds at most %(limit)s works: remove one first.") % {"limit": MAX_USES},
            code="use_limit",
        )
    return CoveredUse.objects.create(
        agreement=agreement,
        track=track,
        platform=platform,
        url=link,
        title=title,
        published_on=published_on,
        added_at=now,
    )


def _outside(day: date, stretches: list[InForce]) -> CoverageRefused:
    if not stretches:
        message = _("The licence has not been in force on any day, so it covers no work yet.")
    else:
        message = _(
            "The licence covers works published %(stretches)s; %(day)s is outside that."
        ) % {
            "stretches": "; ".join(stretch.display() for stretch in stretches),
            "day": day_display(day),
        }
    return CoverageRefused(message, code="date_not_covered", field="published_on")


@transaction.atomic
def use_remove(*, user: Any, use: CoveredUse) -> None:
    if user is None or use.agreement.user_id != user.pk:
        raise PermissionDenied(_("Only the licensee can change what this licence covers."))
    CoveredUse.objects.filter(pk=use.pk).delete()


def _licensee_shown(*, certificate: Certificate, agreement: Agreement) -> str:
    """The licensee as the certificate shows them: a company by its name; a private person as
    "A private person" unless they chose their full name, and always after erasure (no account).
    The licences area owns certificates and states the same rule (certificates.licensee_shown);
    this copy stands until both are on one branch."""
    if agreement.licensee_kind == BuyerKind.LEGAL:
        return agreement.licensee_name
    if certificate.licensee_display == Certificate.Display.FULL_NAME and agreement.user_id:
        return agreement.licensee_name
    return _("A private person")


def _letter_context(*, coverage: Coverage, language: str, now: datetime) -> dict[str, Any]:
    """What the letter says at `now`, in `language` (called with that language active)."""
    agreement = coverage.agreement
    certificate = agreement.certificate
    edition = agreement.plan_edition
    operator = settings.OPERATOR_DETAILS
    track = agreement.track
    return {
        "coverage": coverage,
        "number": agreement.number,
        "licensor": {
            "name": operator[language]["name"],
            "address": operator[language]["address"],
            "registration": operator["registration"],
        },
        "licensee": _licensee_shown(certificate=certificate, agreement=agreement),
        "plan_title": edition.title_ru if language == "ru" else edition.title_en,
        "uses": [str(Use(use).label) for use in agreement.uses],
        "territory": str(Territory(agreement.territory).label),
        "track": track,
        "concluded_on": day_display(agreement.concluded_at.astimezone(UTC).date()),
        "stretches": coverage.stretches_display(),
        "channels": [
            {"platform": Platform(channel.platform).label, "url": channel.url}
            for channel in coverage.channels
        ],
        "works": [
            {
                "published_on": day_display(use.published_on),
                "platform": Platform(use.platform).label,
                "url": use.url,
                "title": use.title,
                "track": use.track,
            }
            for use in coverage.covered_uses
        ],
        "verify_url": certificate_verify_url(certificate.public_id),
        "dated": day_display(now.astimezone(UTC).date()),
    }


def letter_pdf(*, agreement: Agreement, language: str) -> bytes:
    """The claim-clearing letter of the agreement, as a PDF in `language`; CoverageRefused for
    a revoked agreement, which covers nothing."""
    now = clock.now()
    coverage = coverage_of(agreement=agreement, now=now)
    if coverage.revoked:
        raise CoverageRefused(_("A revoked licence has no coverage letter."), code="revoked")
    with translation.override(language):
        context = _letter_context(coverage=coverage, language=language, now=now)
    return document_pdf("licensing/letter.html", context, language=language)
