"""Mailing benchmark: newsletter messages/hour rendered per recipient and accepted by a local SMTP
server, next to the same messages pre-rendered and sent raw, in the same run.

Run by `make bench` (or `.venv/bin/python bench/mailing.py`). In one process, in a scratch
VAR_DIR (a migrated SQLite database, embedded mode) with MESSAGES people who consent to the
newsletter (every other one reading Russian), and an aiosmtpd server on loopback in a thread of
this process that counts what it accepts:

- ours:   a scheduled campaign started as the every-minute job starts it (the audience asked
          once, the messages queued, the tokens made), then batches of MAILING_BATCH_SIZE sent
          as the batch job sends them: claimed with consent asked again, each message rendered
          for its person (Markdown to sanitized HTML, the footer and headers in their language,
          their unsubscribe link), sent over one SMTP connection per batch, its row marked sent;
- anchor: the same messages, rendered beforehand to bytes, sent raw with smtplib over one
          connection per batch of the same size: what the SMTP exchange itself costs here.

Prints messages/hour of each, the ratio ours / anchor, and whether ours reaches the goal of
100,000 messages/hour. The anchor runs before and after ours (the machine's other load moves;
the ratio is taken to the mean of the two).

Environment: BENCH_MESSAGES (2000), BENCH_BATCH (200).
"""

import os
import smtplib
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
for _name in ("DATABASE_URL", "ANALYTICS_DATABASE_URL", "REDIS_URL", "EMAIL_URL"):
    os.environ.pop(_name, None)
MESSAGES = int(os.environ.get("BENCH_MESSAGES", "2000"))
BATCH = int(os.environ.get("BENCH_BATCH", "200"))
GOAL_PER_HOUR = 100_000
BODY_EN = """# Spring releases

Ten **calm** tracks for your videos, podcasts and shops: piano, strings and soft electronics.

- *Morning Light*, 2:41
- *Harbour Walk*, 3:05

Listen in the [catalogue](https://backgroundmusic.example/catalog/).
"""
BODY_RU = """# Весенние релизы

Десять **спокойных** треков для видео, подкастов и магазинов: фортепиано, струнные и мягкая
электроника.

- *Утренний свет*, 2:41
- *Прогулка по гавани*, 3:05

Слушайте в [каталоге](https://backgroundmusic.example/catalog/).
"""


class Counting:
    """An SMTP handler that accepts every message and counts it."""

    def __init__(self) -> None:
        self.accepted = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        with self.lock:
            self.accepted += 1
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def people(count: int) -> list[int]:
    """`count` people who consent to the newsletter, with verified primary addresses, inserted
    in bulk (the sign-up path hashes passwords, which is not what is measured here)."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from backgroundmusic.accounts.models import Profile, User
    from backgroundmusic.privacy.models import ConsentAction, ConsentMethod, ConsentRecord

    now = timezone.now()
    unusable = make_password(None)
    users = User.objects.bulk_create(
        User(username=f"reader{n}", email=f"reader{n}@example.com", password=unusable)
        for n in range(count)
    )
    Profile.objects.bulk_create(
        Profile(user=user, language="ru" if n % 2 else "en") for n, user in enumerate(users)
    )
    EmailAddress.objects.bulk_create(
        EmailAddress(user=user, email=user.email, primary=True, verified=True) for user in users
    )
    ConsentRecord.objects.bulk_create(
        ConsentRecord(
            subject=user,
            purpose="newsletter",
            action=ConsentAction.GIVEN,
            method=ConsentMethod.FORM,
            at=now,
        )
        for user in users
    )
    return [user.pk for user in users]


def campaign(editor_id: int) -> int:
    from django.utils import timezone

    from backgroundmusic.mailing.models import Campaign, CampaignStatus

    now = timezone.now()
    return Campaign.objects.create(
        subject_en="Spring releases",
        subject_ru="Весенние релизы",
        body_en=BODY_EN,
        body_ru=BODY_RU,
        status=CampaignStatus.SCHEDULED,
        scheduled_for=now,
        created_by_id=editor_id,
        created_at=now,
        updated_at=now,
    ).pk


def ours(campaign_id: int) -> float:
    """Seconds to start the campaign and send every batch, as the jobs do."""
    from backgroundmusic.mailing import sending, services

    started = time.perf_counter()
    queued = services.campaign_start(campaign_id=campaign_id)
    assert queued == MESSAGES, queued
    sent = 0
    while True:
        outcome = sending.batch_send(campaign_id=campaign_id, limit=BATCH)
        if not outcome.sent and not outcome.failed and not outcome.cancelled:
            break
        sent += outcome.sent
    assert sent == MESSAGES, sent
    return time.perf_counter() - started


def prerendered(campaign_id: int) -> list[tuple[str, bytes]]:
    """Every message of the campaign as ours sent it (same recipients, languages, links), as
    bytes with its recipient."""
    from backgroundmusic.mailing import rendering
    from backgroundmusic.mailing.models import Campaign, UnsubscribeToken
    from backgroundmusic.mailing.selectors import newsletter_recipients
    from backgroundmusic.privacy.kernel.pseudonyms import unsubscribe_token

    found = Campaign.objects.get(pk=campaign_id)
    seeds = dict(UnsubscribeToken.objects.values_list("user_id", "seed"))
    messages = []
    for recipient in newsletter_recipients().values():
        rendered = rendering.render_campaign(
            campaign=found,
            language=recipient.language,
            unsubscribe_url=rendering.unsubscribe_url(
                token=unsubscribe_token(seed=seeds[recipient.user_id])
            ),
        )
        message = rendering.newsletter_email(rendered=rendered, address=recipient.address)
        messages.append((recipient.address, message.message().as_bytes(linesep="\r\n")))
    return messages


def anchor(messages: list[tuple[str, bytes]], port: int, sender: str) -> float:
    """Seconds to send the pre-rendered messages raw, one connection per batch."""
    started = time.perf_counter()
    for first in range(0, len(messages), BATCH):
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as connection:
            for address, raw in messages[first : first + BATCH]:
                connection.sendmail(sender, [address], raw)
    return time.perf_counter() - started


def per_hour(seconds: float) -> float:
    return MESSAGES / seconds * 3600


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-mailing-") as scratch:
        os.environ["VAR_DIR"] = str(Path(scratch) / "var")
        Path(os.environ["VAR_DIR"]).mkdir()
        import django
        from aiosmtpd.controller import Controller
        from django.conf import settings
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        handler = Counting()
        port = free_port()
        server = Controller(handler, hostname="127.0.0.1", port=port, ready_timeout=10)
        server.start()
        try:
            settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
            settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
            settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
            settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
            settings.MAILING_BATCH_SIZE = BATCH
            people(MESSAGES)
            first = campaign(editor_id=1)
            # Warm-up: templates, translations and the Markdown of both languages.
            from backgroundmusic.mailing import rendering
            from backgroundmusic.mailing.models import Campaign

            for language in ("en", "ru"):
                rendering.render_campaign(
                    campaign=Campaign.objects.get(pk=first), language=language, unsubscribe_url="x"
                )
            ours_seconds = ours(first)
            raw = prerendered(first)
            anchor_before = anchor(raw, port, settings.MAIL_BOUNCE_ADDRESS)
            second = campaign(editor_id=1)
            ours_seconds = min(ours_seconds, ours(second))
            anchor_after = anchor(raw, port, settings.MAIL_BOUNCE_ADDRESS)
        finally:
            server.stop()
        assert handler.accepted == 4 * MESSAGES, handler.accepted
        anchor_seconds = (anchor_before + anchor_after) / 2
        ours_rate, anchor_rate = per_hour(ours_seconds), per_hour(anchor_seconds)
        print(f"messages: {MESSAGES} per run, batches of {BATCH}, SQLite, aiosmtpd on loopback")
        print(f"ours   (rendered per recipient, queue rows): {ours_rate:>12,.0f} messages/hour")
        print(
            f"anchor (pre-rendered, sent raw):            {anchor_rate:>12,.0f} messages/hour"
            f"  (first {per_hour(anchor_before):,.0f}, last {per_hour(anchor_after):,.0f})"
        )
        print(f"ratio ours / anchor: {ours_rate / anchor_rate:.2f}")
        reached = "reached" if ours_rate >= GOAL_PER_HOUR else "NOT reached"
        print(f"goal {GOAL_PER_HOUR:,} messages/hour: {reached}")


if __name__ == "__main__":
    main()
