"""What the scale stack's journeys and load need, made through the services (the stack runs it
with `manage.py shell`): the published policies and plans of the demo, a few published tracks
whose masters go through the real ingest in the stack's task workers (their audio is made here
in a second, unlike the demo's rendered scores), signed-in visitors for the load test, and the
newsletter readers and campaign the load test's killed worker is sending to."""

import io
import time
import wave

import numpy as np
from django.core.files.base import ContentFile

from backgroundmusic.accounts import services as accounts
from backgroundmusic.accounts.models import User
from backgroundmusic.catalog import services as catalogue
from backgroundmusic.catalog.demo.seed import vocabulary_ensure
from backgroundmusic.licensing.demo import demo_plans_publish, demo_terms_publish
from backgroundmusic.media import services as media
from backgroundmusic.media.models import Master
from backgroundmusic.privacy import demo as privacy_demo
from tests.scale.names import (
    CAMPAIGN_SUBJECT,
    MEMBER_PASSWORD,
    TRACKS,
    member_username,
    reader_username,
)

RATE = 44_100
SECONDS = 40
READY_WITHIN_SECONDS = 900


def chord_wav(root: float, number: int) -> bytes:
    """A soft major chord with a slow swell: a stereo 16-bit WAV, different for every track."""
    time_axis = np.arange(RATE * SECONDS) / RATE
    tone = sum(np.sin(2 * np.pi * root * ratio * time_axis + number) for ratio in (1.0, 1.25, 1.5))
    swell = 0.6 + 0.4 * np.sin(2 * np.pi * time_axis / (7 + number))
    samples = (tone * swell / 3 * 0.5 * 32767).astype("<i2")
    stereo = np.repeat(samples[:, None], 2, axis=1)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(stereo.tobytes())
    return buffer.getvalue()


def tracks_upload(count: int) -> list[int]:
    """Published tracks with their masters uploaded; their ingest jobs are queued."""
    vocabulary_ensure()
    masters = []
    for number in range(count):
        title, genre, mood, instrument, root = TRACKS[number % len(TRACKS)]
        if number >= len(TRACKS):
            title = f"{title} {number // len(TRACKS) + 1}"
        track = catalogue.track_create(
            actor=None,
            title=title,
            catalogue_code=f"SC-{number + 1:04d}",
            description=f"{title}: a test track of the scale-out stack.",
            genres=[genre],
            moods=[mood],
            instruments=[instrument],
            tempo_bpm=90,
            is_published=True,
        )
        master = media.master_upload(
            source=ContentFile(chord_wav(root, number), name=f"SC-{number + 1:04d}.wav"),
            actor=None,
            track=track,
        )
        masters.append(master.pk)
    return masters


def masters_wait(masters: list[int]) -> None:
    """Until the task workers have ingested every master."""
    deadline = time.monotonic() + READY_WITHIN_SECONDS
    while True:
        states = dict(Master.objects.filter(pk__in=masters).values_list("pk", "status"))
        failed = [pk for pk, status in states.items() if status == Master.Status.FAILED]
        if failed:
            raise SystemExit(f"the workers could not ingest masters {failed}")
        if all(status == Master.Status.READY for status in states.values()):
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"masters not ready after {READY_WITHIN_SECONDS} s: {states}")
        time.sleep(1)


def members_create(count: int) -> None:
    """Verified accounts with one password, for the load test's signed-in visitors."""
    first = None
    for number in range(1, count + 1):
        username = member_username(number)
        user = accounts.user_create(
            username=username,
            email=f"{username}@example.com",
            password=MEMBER_PASSWORD if first is None else None,
            email_verified=True,
        )
        if first is None:
            first = user
        else:
            # One Argon2 hash for all: hashing each costs a core for a while.
            User.objects.filter(pk=user.pk).update(password=first.password)


def readers_create(count: int) -> None:
    """Accounts with verified addresses that gave the newsletter consent, as the privacy center
    records it (without a password: they never sign in here)."""
    from backgroundmusic.privacy import consents
    from backgroundmusic.privacy.models import ConsentMethod, ConsentPurpose

    for number in range(1, count + 1):
        username = reader_username(number)
        user = accounts.user_create(
            username=username, email=f"{username}@example.com", password=None, email_verified=True
        )
        consents.consent_give(
            subject=user, purpose=ConsentPurpose.NEWSLETTER, method=ConsentMethod.FORM
        )


def campaign_send_now() -> int:
    """A newsletter campaign scheduled for now by a newsletter editor; the workers' every-minute
    job starts it. Returns its id."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from backgroundmusic.accounts.staff import staff_role_assign
    from backgroundmusic.mailing import services as mailing
    from backgroundmusic.staffroles.roles import StaffRole

    editor = accounts.user_create(
        username="scale-editor",
        email="scale-editor@example.com",
        password=None,
        email_verified=True,
    )
    staff_role_assign(actor=None, user=editor, role=StaffRole.NEWSLETTER_EDITOR)
    TOTP.activate(editor, generate_totp_secret())  # staff act only with two-factor sign-in
    text = mailing.CampaignText(
        subject_en=CAMPAIGN_SUBJECT,
        subject_ru=CAMPAIGN_SUBJECT,
        body_en="# New music\n\nCalm tracks for your venue.",
        body_ru="# Новая музыка\n\nСпокойные треки для вашего заведения.",
    )
    campaign = mailing.campaign_create(actor=editor, text=text)
    return mailing.campaign_schedule(actor=editor, campaign=campaign).pk


def main(tracks: int, members: int) -> None:
    began = time.monotonic()
    privacy_demo.demo_editions_publish()
    privacy_demo.demo_recipients_create()
    demo_terms_publish()
    demo_plans_publish()
    masters = tracks_upload(tracks)
    members_create(members)
    masters_wait(masters)
    print(f"seeded {tracks} tracks and {members} members in {time.monotonic() - began:.0f} s")
