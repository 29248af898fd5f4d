"""What the licensing journeys start from: the demo plans and licence terms, a published track
whose renditions are 40 seconds long (the preview 30) and made by ingest's own encoders, people
who sign in through the sign-in page, staff with an authenticator, and the browser's view of a
stream or a download."""

import functools
import hashlib
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import (
    TOTP,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from playwright.sync_api import Page, expect

from backgroundmusic.accounts import services as accounts
from backgroundmusic.accounts.models import User
from backgroundmusic.accounts.tests.factories import StaffFactory
from backgroundmusic.catalog.models import Track
from backgroundmusic.catalog.tests.fixtures import ready_track
from backgroundmusic.core import clock
from backgroundmusic.licensing import agreements, demo, editions
from backgroundmusic.licensing.models import Agreement
from backgroundmusic.licensing.tests.paid_orders import paid_order
from backgroundmusic.media import pipeline
from backgroundmusic.media.models import Master, Rendition
from backgroundmusic.media.tests.audio import sine, write_wav
from backgroundmusic.staffroles.roles import StaffRole

PASSWORD = "amber-lantern-5820"
TRACK_SECONDS = 40.0


def plans_on_sale() -> None:
    """The four demo plans (VAT 22 %) and the licence terms, as `make run` publishes them."""
    demo.demo_terms_publish()
    demo.demo_plans_publish()


@dataclass(frozen=True)
class Made:
    """A rendition as ingest leaves it: the file and what ingest measured of it."""

    data: bytes
    encoded: pipeline.Encoded


@functools.cache
def _renditions() -> dict[str, Made]:
    """The five renditions of a 40-second tone, encoded once per run with ingest's encoders:
    the four lossy ones from the 48 kHz buffer (the preview the loudest 30 s, with its fades),
    the FLAC from the master file."""
    made = {}
    with tempfile.TemporaryDirectory(prefix="journey-") as folder:
        work = Path(folder)
        master = write_wav(work / "master.wav", sine(TRACK_SECONDS, dbfs=-14.0, freq=440.0))
        probed = pipeline.probe(master, max_seconds=600)
        audio = pipeline.decode(master, probed=probed)
        for spec in pipeline.RENDITIONS:
            path = work / f"{spec.kind}.{spec.extension}"
            if spec.kind == Rendition.Kind.PREVIEW:
                start, end = pipeline.preview_window(audio, cue_in=0.0, cue_out=TRACK_SECONDS)
                encoded = pipeline.encode(
                    audio,
                    spec,
                    path,
                    gain_db=-2.0,
                    start=start,
                    end=end,
                    fade_in=pipeline.PREVIEW_FADE_IN,
                    fade_out=pipeline.PREVIEW_FADE_OUT,
                )
            else:
                encoded = pipeline.encode(audio, spec, path, gain_db=-2.0)
            made[spec.kind] = Made(path.read_bytes(), encoded)
        lossless = pipeline.lossless_format(probed)
        assert lossless is not None
        path = work / "master.flac"
        encoded = pipeline.encode_lossless(master, path, target=lossless)
        made[pipeline.LOSSLESS.kind] = Made(path.read_bytes(), encoded)
    return made


def full_track(*, title: str, composer: str) -> Track:
    """A published track with a ready master and all five renditions stored."""
    track = ready_track(title=title, composer=composer, duration_seconds=int(TRACK_SECONDS))
    master = Master.objects.get(track=track)
    for kind, rendition in _renditions().items():
        spec = pipeline.SPECS[kind]
        key = default_storage.save(
            f"renditions/{rendition.encoded.sha256}.{spec.extension}",
            ContentFile(rendition.data),
        )
        Rendition.objects.create(
            master=master,
            kind=kind,
            storage_key=key,
            mime_type=spec.mime_type,
            bitrate=rendition.encoded.bitrate,
            size_bytes=rendition.encoded.size_bytes,
            duration_seconds=rendition.encoded.duration_seconds,
            sha256=rendition.encoded.sha256,
        )
    return track


def creator_subscription(user: User, *, full_name: str) -> Agreement:
    """The demo creator subscription paid for now and concluded as billing concludes it (the
    purchase itself is the first journey's)."""
    edition = editions.current_plan_edition(code="creator")
    assert edition is not None
    paid_at = clock.now()
    order = paid_order(
        user=user, lines=[{"edition": edition}], paid_at=paid_at, buyer_name=full_name
    )
    [agreement] = agreements.agreements_conclude(order=order, now=paid_at)
    return agreement


def rendition_of(track: Track, kind: str) -> Rendition:
    return Rendition.objects.get(master__track=track, kind=kind)


def person(username: str) -> User:
    """An account with a confirmed address, as sign-up and the e-mailed link leave it."""
    return accounts.user_create(
        username=username,
        email=f"{username}@example.com",
        password=PASSWORD,
        email_verified=True,
    )


def licensing_manager(username: str) -> tuple[User, str]:
    """A licensing manager and the secret of their authenticator app."""
    manager = StaffFactory.create(
        username=username,
        email=f"{username}@example.com",
        role=StaffRole.LICENSING_MANAGER,
        totp=False,
        password=PASSWORD,
    )
    secret = generate_totp_secret()
    TOTP.activate(manager, secret)
    return manager, secret


def wait_idle(page: Page) -> None:
    """No boosted (htmx) navigation is under way: player.js sets aria-busy on <body> while one
    is, so a form posted back to its own address has been answered and swapped in."""
    expect(page.locator("body")).not_to_have_attribute("aria-busy", "true")


def messages(page: Page) -> list[str]:
    wait_idle(page)
    return [text.strip() for text in page.locator("ul.messages li").all_inner_texts()]


def at(page: Page, base: str, path: str) -> None:
    expect(page).to_have_url(re.compile(f"^{re.escape(base + path)}$"))


def sign_in(page: Page, base: str, username: str, *, totp_secret: str = "") -> None:
    """Through the sign-in page, and the authenticator's code when the account has one."""
    page.goto(f"{base}/accounts/login/")
    page.locator("#id_login").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    if totp_secret:
        at(page, base, "/accounts/2fa/authenticate/")
        page.locator("#id_code").fill(totp_code(totp_secret))
        page.get_by_role("button", name="Sign In").click()
    at(page, base, "/account/profile/")
    assert messages(page) == [f"Successfully signed in as {username}."]


def totp_code(secret: str) -> str:
    """The code an authenticator app shows now. allauth accepts only the current time step, so
    a code about to expire is not used: wait for the next step."""
    period = mfa_settings.TOTP_PERIOD
    left = period - time.time() % period
    if left < 4:
        time.sleep(left + 0.5)
    counter = next(iter(yield_hotp_counters_from_time()))
    return f"{hotp_value(secret, counter):06d}"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
