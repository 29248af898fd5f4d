"""The canary: a person whose every value carries a unique token uses the service the way people
do, a purchase and a playlist included, then deletes the account. Afterwards the token is
nowhere: in no column of any table, no file under media or var/, no log line, no message of the
mail or text-message outbox; nor is the canary's phone number (digits cannot carry the token);
and nobody else's rows changed. The one exception is what the law keeps: the accounting and
contract documents of the purchase (a company's requisites on the order, the concluded
agreement's text, the covered work's link and title), each a column the data map declares kept
for the law, with the person's name replaced by the pseudonym wherever it stood apart from the
document.
"""

import io
import json
import logging
import pickle
import re
import zipfile
import zlib
from collections.abc import Iterator
from datetime import date
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection, connections
from django.test import Client

from backgroundmusic.accounts.models import User
from backgroundmusic.accounts.tests.factories import PASSWORD, StaffFactory
from backgroundmusic.analytics.buffer import event_buffer
from backgroundmusic.analytics.identity import pseudonym_from_cookie
from backgroundmusic.analytics.models import AnalyticsIdentity, Event
from backgroundmusic.core import clock, sms
from backgroundmusic.core.logging import PersonalDataMaskFilter
from backgroundmusic.inbox.models import InboundRawMessage, Outcome
from backgroundmusic.inbox.services import inbound_record
from backgroundmusic.inbox.tests.letters import letter
from backgroundmusic.library import services as library
from backgroundmusic.library.models import Favourite, Playlist, PlaylistEntry
from backgroundmusic.licensing import billing, coverage, orders
from backgroundmusic.licensing.models import (
    Agreement,
    BuyerKind,
    Certificate,
    CoveredUse,
    Invoice,
    Order,
    PaymentMethod,
    PlanKind,
)
from backgroundmusic.licensing.tests.checkout_scene import (
    BROWSER,
    COMPANY_INN,
    plan_edition,
    terms_edition,
)
from backgroundmusic.mailing import services as mailing
from backgroundmusic.mailing.models import (
    CampaignMessage,
    Suppression,
    SuppressionReason,
    UnsubscribeToken,
)
from backgroundmusic.media.models import Download, Rendition
from backgroundmusic.media.streaming import playable_url
from backgroundmusic.media.tests.streaming_fixtures import playable_track
from backgroundmusic.privacy import disclosures
from backgroundmusic.privacy.demo import demo_editions_publish
from backgroundmusic.privacy.kernel.models import DataKey, StaffAccessLogEntry
from backgroundmusic.privacy.kernel.pseudonyms import subject_pseudonym
from backgroundmusic.privacy.kernel.registry import Erasure, data_map
from backgroundmusic.privacy.models import (
    DataExport,
    DataSubjectRequest,
    DestructionRecord,
    ErasureJob,
    LegalBasisForDisclosure,
    PolicyAcceptance,
)
from backgroundmusic.privacy.promotional_sms import promotional_sms_send
from backgroundmusic.privacy.rights.rows import model_of
from backgroundmusic.privacy.tests.test_erasure import fill_every_store, rows_of, sign_in_keys_of
from backgroundmusic.privacy.tests.test_export import make_owner, records_of, run_queued
from backgroundmusic.staffroles.roles import StaffRole

pytestmark = pytest.mark.django_db(transaction=False, databases="__all__")

TOKEN = "canary7f3a"
# The contact phone as typed, and its digits, which no store may keep after the erasure.
PHONE_TYPED = "8 (914) 417-73-29"
PHONE_DIGITS = "9144177329"
WRONG_PASSWORD = "not-the-password-1"
LINK = re.compile(r"https?://testserver(/[^\s\"'<>]+)")


class Capture(logging.Handler):
    """Every log line as the service writes it (through the same masking filter)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.addFilter(PersonalDataMaskFilter())
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
        if record.exc_text:
            self.lines.append(record.exc_text)


@pytest.fixture
def var_dir(settings, tmp_path) -> Path:
    """var/ of this test: media, the mail outbox (Django's file backend), the text-message
    outbox (core.sms's file backend) and the cache files."""
    var = tmp_path / "var"
    settings.VAR_DIR = var
    settings.MEDIA_ROOT = var / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(var / "mail")
    settings.SMS_BACKEND = "backgroundmusic.core.sms.FileSmsBackend"
    settings.SMS_FILE_PATH = str(var / "sms")
    # Links in mail sent by jobs (no request to take the host from) point at the test client.
    settings.SITE_URL = "http://testserver"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(var / "cache"),
        }
    }
    return var


@pytest.fixture
def logs() -> Iterator[Capture]:
    capture = Capture()
    root = logging.getLogger()
    level = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        root.setLevel(level)


def mails(var: Path) -> list[str]:
    folder = var / "mail"
    # Oldest first by write time: file names only have one-second resolution.
    files = sorted(folder.iterdir(), key=lambda p: p.stat().st_mtime_ns) if folder.is_dir() else []
    return [p.read_text() for p in files]


def last_link(var: Path, pattern: str) -> str:
    found = [m for text in mails(var) for m in LINK.findall(text) if re.search(pattern, m)]
    assert found, f"no link matching {pattern}"
    return found[-1]


def _texts(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, bytes):
        return [value.decode("utf-8", "replace"), value.decode("latin-1")]
    return [str(value)]


def _session_texts(session_data: str) -> list[str]:
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    return [repr(store.decode(session_data))]


def scan_database(token: str) -> list[str]:
    """Every column of every row of every table of every database (raw SQL, bytes decoded;
    session data decoded too, since it is signed and compressed)."""
    found = []
    for alias in settings.DATABASES:
        found += _scan_connection(connections[alias], token)
    return found


def _scan_connection(connection: Any, token: str) -> list[str]:
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            columns = [
                column.name
                for column in connection.introspection.get_table_description(cursor, table)
            ]
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    texts = _texts(value)
                    if table == "django_session" and column == "session_data" and value:
                        texts += _session_texts(value)
                    if any(token in text.lower() for text in texts):
                        found.append(f"{table}.{column}")
    return found


def _cache_file_texts(path: Path) -> list[str]:
    with path.open("rb") as handle:
        pickle.load(handle)  # noqa: S301 - the expiry, written by Django's file cache
        return [zlib.decompress(handle.read()).decode("latin-1")]


def scan_files(root: Path, token: str) -> list[str]:
    """Every file under root, as bytes; the file cache's entries decompressed too."""
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        content = path.read_bytes()
        texts = _texts(content)
        if path.suffix == ".djcache":
            texts += _cache_file_texts(path)
        if any(token in text.lower() for text in texts):
            found.append(str(path.relative_to(root)))
    return found


def keep_for_law_labels() -> set[str]:
    return {
        declaration.label
        for declaration in data_map.models.values()
        if any(data.erasure == Erasure.KEEP_FOR_LAW for data in declaration.personal.values())
    }


def kept_for_law(column: str) -> bool:
    """Whether a "table.column" the scan names is a personal field the data map keeps for the
    law after erasure."""
    table, name = column.split(".")
    return any(
        model_of(declaration)._meta.db_table == table
        and declaration.personal.get(name.removesuffix("_id")) is not None
        and declaration.personal[name.removesuffix("_id")].erasure == Erasure.KEEP_FOR_LAW
        for declaration in data_map.models.values()
    )


# Where the purchase's documents keep the token after erasure: a company's requisites on the
# order (its name and address, for the invoice), the frozen texts of the agreement (which name the
# licensee and the use), and the covered work as it was registered (link, title).
KEPT_DOCUMENT_COLUMNS = {
    "licensing_order.company_name",
    "licensing_order.buyer_address",
    "licensing_agreement.document_en",
    "licensing_agreement.document_ru",
    "licensing_covereduse.url",
    "licensing_covereduse.title",
}


def test_after_erasure_the_canary_is_nowhere(var_dir, logs):
    demo_editions_publish()  # sign-up records acceptance of the editions in force
    officer = StaffFactory.create(username="officer", role=StaffRole.PRIVACY_OFFICER)
    bystander = make_owner("bystander")
    fill_every_store(bystander, Client(), officer)

    browser = Client()
    # Sign-up, with the agreement box, then the e-mail confirmation.
    response = browser.post(
        "/accounts/signup/",
        {
            "username": TOKEN,
            "email": f"{TOKEN}@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "agreement": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()
    canary = User.objects.get(username=TOKEN)
    assert PolicyAcceptance.objects.filter(user=canary).count() == 2
    confirm = last_link(var_dir, r"/accounts/confirm-email/")
    assert browser.post(confirm).status_code == 302

    # Sign-in, profile, public profile, consents.
    response = browser.post("/accounts/login/", {"login": TOKEN, "password": PASSWORD})
    assert response.status_code == 302
    response = browser.post(
        "/account/profile/",
        {
            "username": TOKEN,
            "full_name": f"Anna {TOKEN.capitalize()} Smith",
            "account_type": "legal",
            "company_name": f"{TOKEN.capitalize()} Sound LLC",
            "tax_id": COMPANY_INN,
            "address_country": "Russia",
            "address_region": f"{TOKEN} region",
            "address_city": f"{TOKEN}-town",
            "address_street": f"{TOKEN} street 5",
            "address_postcode": "690000",
            "phone": PHONE_TYPED,
            "language": "ru",
            "links-TOTAL_FORMS": "2",
            "links-INITIAL_FORMS": "0",
            "links-MIN_NUM_FORMS": "0",
            "links-MAX_NUM_FORMS": "20",
            "links-0-url": f"https://vk.com/{TOKEN}",
            "links-1-url": f"https://t.me/{TOKEN}_music",
        },
    )
    assert response.status_code == 302, response.content.decode()
    response = browser.post(
        "/account/profile/public/",
        {"is_published": "on", "public_fields": ["full_name", "social_links"]},
    )
    assert response.status_code == 302
    assert Client().get(f"/u/{TOKEN}/").status_code == 200
    for purpose in ("newsletter", "promotional_sms", "research", "analytics"):
        response = browser.post("/privacy/consents/", {"purpose": purpose, "action": "give"})
        assert response.status_code == 302
    # The newsletter counts once the link mailed to the canary's address is confirmed (the
    # bystander's request, from fill_every_store, is sent too and stays unconfirmed).
    assert run_queued("send_consent_confirmation") == ["sent", "sent"]
    assert browser.post(last_link(var_dir, r"/privacy/confirm/")).status_code == 200
    # A promotional text message to the canary's phone, and one to the bystander's, which stays.
    assert promotional_sms_send(recipient=canary, body=f"{TOKEN}, new tracks are in.") is True
    sms.send_sms(to="+74232223344", body="New tracks are in.")

    # A newsletter reaches the canary (the bystander has restricted processing); the message's
    # file in the outbox carries the address. Later a complaint suppresses the address.
    editor = StaffFactory.create(username="editor", role=StaffRole.NEWSLETTER_EDITOR)
    campaign = mailing.campaign_schedule(
        actor=editor,
        campaign=mailing.campaign_create(
            actor=editor,
            text=mailing.CampaignText(
                subject_en="Spring releases",
                subject_ru="Весенние релизы",
                body_en="Ten calm tracks.",
                body_ru="Десять спокойных треков.",
            ),
        ),
    )
    assert mailing.campaigns_start_due()["queued"] == 1
    run_queued("send_campaign_batch")
    assert any(f"{TOKEN}@example.com" in text.lower() for text in mails(var_dir))
    assert UnsubscribeToken.objects.filter(user=canary).count() == 1
    mailing.suppression_record(address=f"{TOKEN}@example.com", reason=SuppressionReason.COMPLAINT)

    # A purchase for the company: the licence terms accepted at checkout, the invoice, the bank
    # transfer confirmed by staff, the agreement and its certificate (checked by anyone), a
    # download of a covered track, a published work registered as covered, and the documents.
    terms = terms_edition()
    plan = plan_edition(kind=PlanKind.CREATOR)
    track = playable_track(kinds=[Rendition.Kind.MP3_320])
    orders.cart_add(user=canary, edition_id=plan.pk, quantity=1)
    order = orders.order_place(
        user=canary,
        currency="RUB",
        payment_method=PaymentMethod.BANK_TRANSFER,
        buyer_kind=BuyerKind.LEGAL,
        accept_terms_edition_id=terms.pk,
        ip="203.0.113.77",
        user_agent=BROWSER,
        tax_registration_code="770701001",
    )
    billing.payment_start(
        order=order, provider_name="bank_transfer", return_url="http://testserver/orders/"
    )
    manager = StaffFactory.create(username="manager", role=StaffRole.LICENSING_MANAGER)
    billing.bank_transfer_confirm(
        actor=manager, order=order, reference=f"BM {order.public_id}", now=clock.now()
    )
    order.refresh_from_db()
    assert (order.status, order.buyer_name) == (
        Order.Status.PAID,
        f"Anna {TOKEN.capitalize()} Smith",
    )
    invoice_number = Invoice.objects.get(order=order).number
    assert browser.get(f"/orders/{order.public_id}/invoice.pdf").status_code == 200
    agreement = Agreement.objects.get(user=canary)
    certificate = Certificate.objects.get(agreement=agreement)
    assert TOKEN in agreement.document_en.lower() and TOKEN in agreement.document_ru.lower()
    assert Client().get(f"/verify/{certificate.public_id}/").status_code == 200
    download_url = playable_url(user=canary, track=track, kind=Rendition.Kind.MP3_320)
    assert download_url is not None
    response = browser.get(download_url)
    assert response.status_code == 200
    assert response.getvalue()  # the bytes were sent
    assert Download.objects.filter(user=canary, track=track).count() == 1
    work = coverage.use_add(
        user=canary,
        agreement=agreement,
        platform="",
        url=f"https://www.youtube.com/watch?v={TOKEN}",
        published_on=clock.now().date(),
        title=f"{TOKEN} vlog, episode 1",
        track=track,
    )
    kept_documents = (agreement.document_hash, agreement.document_en, agreement.document_ru)
    # Its library, made through the pages: a favourite, and a playlist named with the token
    # holding the track. The bystander keeps a library of its own.
    assert browser.post(f"/account/favourites/{track.slug}/", {"next": "/"}).status_code == 302
    response = browser.post(
        "/account/playlists/", {"name": f"{TOKEN} lobby", "description": f"Calm {TOKEN} mornings"}
    )
    playlist = Playlist.objects.get(owner=canary)
    assert response["Location"] == f"/account/playlists/{playlist.pk}/"
    response = browser.post(
        "/account/playlists/add/", {"playlist": playlist.pk, "track": track.slug}
    )
    assert response.status_code == 302
    assert (Favourite.objects.filter(person=canary).count(), playlist.entries.count()) == (1, 1)
    library.favourite_add(person=bystander, slug=track.slug)
    library.playlist_create(person=bystander, name="Bystander's lobby")
    # The documents the person takes away, rendered on request: the agreement and the certificate
    # as PDFs, and the claim-clearing letter listing the work.
    for path in (
        f"/licences/{agreement.number}/agreement.pdf",
        f"/licences/{agreement.number}/certificate.pdf",
        f"/licences/{agreement.number}/letter.pdf?language=ru",
    ):
        response = browser.get(path)
        assert (response.status_code, response["Content-Type"]) == (200, "application/pdf"), path
        assert response.getvalue()[:5] == b"%PDF-"

    # Identified analytics: the next page sets the pseudonym and links it to the account; a
    # beacon carries it, and a kept query parameter carries the token into a stored path.
    pseudonym = pseudonym_from_cookie(browser.get("/catalog/").cookies["bm_aid"].value)
    assert AnalyticsIdentity.objects.get(user=canary).pseudonym == pseudonym
    beacon = {"kind": "view", "view": "6f1c1f7e-2a53-4c1e-9a0c-1f1b2c3d4e5f"}
    response = browser.post(
        "/a/e",
        json.dumps({"events": [{**beacon, "path": f"/catalog/?genre={TOKEN}"}]}),
        content_type="text/plain",
    )
    assert response.status_code == 204
    event_buffer.flush()
    assert Event.objects.get(pseudonym=pseudonym).path == f"/catalog/?genre={TOKEN}"

    # A failed sign-in elsewhere (django-axes keeps it), by username and by e-mail.
    for login in (TOKEN, f"{TOKEN.upper()}@example.com"):
        Client().post("/accounts/login/", {"login": login, "password": WRONG_PASSWORD})

    # Download my data: the password again, the job, the e-mailed link; a second export stays
    # ready to download, so erasure must destroy its file.
    response = browser.post("/privacy/export/")
    assert response["Location"] == "/accounts/reauthenticate/?next=%2Fprivacy%2Fexport%2F"
    response = browser.post(
        "/accounts/reauthenticate/?next=%2Fprivacy%2Fexport%2F", {"password": PASSWORD}
    )
    assert response["Location"] == "/privacy/#data"
    assert run_queued("build_data_export") == ["ready"]
    download = browser.get(last_link(var_dir, r"/privacy/export/download/"))
    assert download.status_code == 200
    archive_bytes = download.getvalue()  # streamed: read once
    assert archive_bytes[:2] == b"PK"  # the ZIP itself
    with zipfile.ZipFile(io.BytesIO(archive_bytes)) as archive:
        exported = records_of(json.loads(archive.read("data.json")))
    # The purchase is in it: the order, its invoice, the agreement, the download, the work.
    assert [row["id"] for row in exported["licensing.Order"]["rows"]] == [order.pk]
    assert [row["number"] for row in exported["licensing.Invoice"]["rows"]] == [invoice_number]
    assert [row["number"] for row in exported["licensing.Agreement"]["rows"]] == [agreement.number]
    assert [row["id"] for row in exported["licensing.CoveredUse"]["rows"]] == [work.pk]
    [exported_profile] = exported["accounts.Profile"]["rows"]
    assert exported_profile["phone"] == f"+7{PHONE_DIGITS}"
    assert len(exported["media.Download"]["rows"]) == 1
    assert [row["name"] for row in exported["library.Playlist"]["rows"]] == [f"{TOKEN} lobby"]
    assert [row["track"] for row in exported["library.Favourite"]["rows"]] == [track.title]
    assert len(exported["library.PlaylistEntry"]["rows"]) == 1
    # The canary reads our messages in Russian (its profile says so), so that is what it got.
    assert [
        (row["campaign"], row["subject"], row["status"])
        for row in exported["mailing.CampaignMessage"]["rows"]
    ] == [(f"campaign #{campaign.pk}", "Весенние релизы", "Sent")]
    assert browser.post("/privacy/export/").status_code == 302
    assert run_queued("build_data_export") == ["ready"]
    pending_file = DataExport.objects.get(subject=canary, status="ready").file_name
    assert (var_dir / "media" / pending_file).is_file()

    # A staff reading of the profile, a disclosure, a request received by letter.
    staff = Client()
    staff.force_login(officer)
    response = staff.post(f"/staff/people/{canary.pk}/", {"reason": "Ticket 1: address check"})
    assert response.status_code == 200
    assert f"{TOKEN} street 5" in response.content.decode()
    assert "+7 914 417-73-29" in response.content.decode()
    disclosures.disclosure_record(
        actor=officer,
        subject=canary,
        recipient_name="Tax office",
        country="RU",
        legal_basis=LegalBasisForDisclosure.AUTHORITY_REQUEST,
        categories=["user.name", "user.contact.address"],
        reference_document="Request 77",
        disclosed_on=date(2026, 1, 5),
    )
    DataSubjectRequest.objects.create(
        kind="access",
        channel="letter",
        received_at=canary.date_joined,
        subject=canary,
        requester_contact=f"Anna {TOKEN}, {TOKEN} street 5",
        due_ru=date(2026, 1, 20),
        due_gdpr=date(2026, 2, 5),
    )

    # A deletion request by e-mail to the privacy address, confirmed by the link sent to the
    # account's verified address; the letter is kept (sealed) and recorded.
    inbound = inbound_record(
        raw=letter(
            sender=f"Anna {TOKEN} <{TOKEN}@example.com>",
            subject=f"Delete the account {TOKEN}",
            body=f"I am Anna {TOKEN}, please delete everything.",
        ),
        received_at=clock.now(),
    )
    assert inbound.outcome == Outcome.CONFIRMATION_SENT
    assert run_queued("send_request_confirmation") == ["sent"]
    assert browser.post(last_link(var_dir, r"/privacy/requests/confirm/")).status_code == 200
    assert inbound.request is not None
    inbound.request.refresh_from_db()
    assert inbound.request.subject_id == canary.pk
    assert InboundRawMessage.objects.filter(message=inbound).exists()

    # The canary is everywhere now; the bystander's rows are taken down to compare later.
    assert scan_database(TOKEN)
    assert scan_files(var_dir, TOKEN)
    assert [path.split("/")[0] for path in scan_files(var_dir, PHONE_DIGITS)] == ["sms"]
    bystander_before = rows_of(bystander.pk, sign_in_keys_of(bystander))
    key_id = DataKey.objects.get(subject_id=canary.pk).pk

    # Delete my account: still within the re-authentication of the export.
    assert browser.get("/privacy/delete/").status_code == 200
    response = browser.post("/privacy/delete/", {"confirmation": TOKEN})
    assert response["Location"] == "/privacy/delete/done/"
    assert run_queued("erase_account") == ["done"]

    # The token is nowhere; no analytics row or mapping is left for the pseudonym.
    assert not AnalyticsIdentity.objects.filter(pseudonym=pseudonym).exists()
    assert not Event.objects.filter(pseudonym=pseudonym).exists()
    left = set(scan_database(TOKEN))
    assert left == KEPT_DOCUMENT_COLUMNS
    assert all(kept_for_law(column) for column in left), left
    assert scan_files(var_dir, TOKEN) == []
    assert [line for line in logs.lines if TOKEN in line.lower()] == []
    assert scan_database(PHONE_DIGITS) == []
    assert scan_files(var_dir, PHONE_DIGITS) == []
    assert [line for line in logs.lines if PHONE_DIGITS in line] == []
    assert [message.to for _path, message in sms.sms_file_messages()] == ["+74232223344"]
    assert mails(var_dir) == [] or all(TOKEN not in text.lower() for text in mails(var_dir))

    # The library is gone with the account.
    assert not Favourite.objects.filter(person_id=canary.pk).exists()
    assert not Playlist.objects.filter(owner_id=canary.pk).exists()
    assert not PlaylistEntry.objects.filter(playlist_id=playlist.pk).exists()

    # The letter is gone; its record stays, naming nobody.
    assert not InboundRawMessage.objects.filter(message=inbound).exists()
    inbound.refresh_from_db()
    assert (inbound.subject_id, inbound.request_id, inbound.sender_digest) == (None, None, None)

    # What the law keeps stays, under the pseudonym; the sealed copies cannot be opened.
    pseudonym = subject_pseudonym(subject_id=canary.pk)
    assert {"privacy.PolicyAcceptance", "privacy.Disclosure"} <= keep_for_law_labels()
    assert PolicyAcceptance.objects.filter(subject_pseudonym=pseudonym, user=None).count() == 2
    assert StaffAccessLogEntry.objects.filter(subject_id=canary.pk).count() == 1
    assert not DataKey.objects.filter(pk=key_id).exists()
    order.refresh_from_db()
    assert (order.user_id, order.buyer_name, order.buyer_email, order.terms_ip_truncated) == (
        None,
        pseudonym,
        "",
        "",
    )
    assert order.status == Order.Status.PAID
    assert Invoice.objects.get(order=order).number == invoice_number
    agreement.refresh_from_db()
    assert (agreement.user_id, agreement.licensee_name) == (None, pseudonym)
    assert (agreement.document_hash, agreement.document_en, agreement.document_ru) == kept_documents
    assert Certificate.objects.filter(agreement=agreement).count() == 1
    assert CoveredUse.objects.filter(agreement=agreement).count() == 1
    assert Download.objects.filter(track=track, user=None).count() == 1
    # The newsletter still counts the message, naming nobody; the token is gone; the
    # suppression, which holds no address, stays.
    assert list(
        CampaignMessage.objects.filter(campaign=campaign).values_list("recipient_id", "status")
    ) == [(None, "sent")]
    assert not UnsubscribeToken.objects.filter(user_id=canary.pk).exists()
    assert Suppression.objects.count() == 1
    assert scan_database(f"enc1:{key_id}:") == []  # no value sealed with the destroyed key left
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM accounts_profile")
        [(profiles,)] = cursor.fetchall()
    # The bystander's, the officer's, the manager's and the editor's; the canary's is gone.
    assert profiles == 4
    [record] = DestructionRecord.objects.all()
    assert (record.subject_pseudonym, record.reason) == (pseudonym, "privacy center")
    assert ErasureJob.objects.get().status == ErasureJob.Status.DONE

    # The public address answers Gone; the canary cannot sign in.
    assert Client().get(f"/u/{TOKEN}/").status_code == 410
    again = Client()
    again.post("/accounts/login/", {"login": TOKEN, "password": PASSWORD})
    assert "_auth_user_id" not in again.session

    # Nobody else lost or changed anything.
    assert rows_of(bystander.pk, sign_in_keys_of(bystander)) == bystander_before
