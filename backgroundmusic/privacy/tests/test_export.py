"""Download my data: the request, the job that builds the archive, the single-use link.

The helpers at the top (callers, re-authentication, running queued jobs) are shared by the
erasure, retention and canary tests of the same area.
"""

import hashlib
import io
import json
import re
import time
import zipfile
from datetime import UTC, date, datetime, timedelta
from urllib.parse import quote

import pytest
from allauth.account.models import EmailAddress
from axes.models import AccessAttempt
from django.conf import settings
from django.core import mail
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from backgroundmusic.accounts.lockout import account_key
from backgroundmusic.accounts.models import Profile, SocialLink, User
from backgroundmusic.accounts.tests.factories import PASSWORD, StaffFactory, UserFactory
from backgroundmusic.core import clock
from backgroundmusic.core.errors import DomainError
from backgroundmusic.privacy import consents
from backgroundmusic.privacy.kernel import crypto, keys
from backgroundmusic.privacy.kernel.access_log import access_log_record
from backgroundmusic.privacy.kernel.pseudonyms import subject_pseudonym
from backgroundmusic.privacy.models import (
    ConsentMethod,
    ConsentPurpose,
    DataExport,
    Disclosure,
    ErasureJob,
    LegalBasisForDisclosure,
)
from backgroundmusic.privacy.rights.erasure import erasure_request
from backgroundmusic.privacy.rights.export import (
    ExportGone,
    _open_export_file,
    export_download,
    export_request,
)
from backgroundmusic.privacy.rights.held import data_held
from backgroundmusic.privacy.tasks import build_data_export
from backgroundmusic.staffroles.roles import StaffRole
from tests.s3_double import bucket_keys

pytestmark = pytest.mark.django_db

CALLERS = [
    "anonymous",
    "other_user",
    "owner",
    "support",
    "content_manager",
    "privacy_officer",
    "administrator",
    "licensing_manager",
]
STAFF_CALLERS = [
    "support",
    "content_manager",
    "privacy_officer",
    "administrator",
    "licensing_manager",
]
OWNER_VALUES = {
    "full_name": "Ivan Petrov",
    "address_city": "Vladivostok",
    "address_street": "Svetlanskaya 12",
    "social_link": "https://vk.com/ivan-petrov",
    "phone": "+74232223344",
}
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def make_owner(username: str = "owner") -> User:
    user = UserFactory.create(username=username)
    profile = Profile.objects.get(user=user)
    profile.full_name = OWNER_VALUES["full_name"]
    profile.address_city = OWNER_VALUES["address_city"]
    profile.address_street = OWNER_VALUES["address_street"]
    profile.phone = OWNER_VALUES["phone"]
    profile.save()
    SocialLink.objects.create(profile=profile, url=OWNER_VALUES["social_link"])
    return user


def reauthenticate(client: Client, user: User) -> Client:
    """Signs the client in and records a fresh re-authentication, as allauth's
    /accounts/reauthenticate/ does after the password is typed again."""
    client.force_login(user)
    session = client.session
    session["account_authentication_methods"] = [
        {"method": "password", "at": time.time(), "reauthenticated": True}
    ]
    session["account_authentication_methods_user"] = str(user.pk)
    session.save()
    return client


def queued(task_name: str) -> list[DBTaskResult]:
    return list(
        DBTaskResult.objects.filter(status="READY", task_path__endswith=f".{task_name}").order_by(
            "enqueued_at", "pk"
        )
    )


def run_queued(task_name: str) -> list[object]:
    """Runs the queued jobs of one task as the worker would (one call each, then marked done)."""
    results = []
    for row in queued(task_name):
        call = row.args_kwargs
        results.append(row.task.call(*call["args"], **call["kwargs"]))
        DBTaskResult.objects.filter(pk=row.pk).update(
            status="SUCCESSFUL", finished_at=timezone.now()
        )
    return results


def mailed_link(message: mail.EmailMessage) -> str:
    found = re.search(r"https?://\S+/privacy/export/download/(\S+)/", str(message.body))
    assert found is not None, message.body
    return found.group(0)


def path_of(link: str) -> str:
    return re.sub(r"^https?://[^/]+", "", link)


def ready_export(user: User) -> tuple[DataExport, str]:
    """An export of `user` built by the job, and the path of the link the e-mail carries."""
    export = export_request(subject=user, site_url="http://testserver")
    if not settings.EMAIL_BACKEND.endswith("locmem.EmailBackend"):  # canary: files, no link here
        run_queued("build_data_export")
        export.refresh_from_db()
        return export, ""
    mail.outbox.clear()
    run_queued("build_data_export")
    export.refresh_from_db()
    assert export.status == DataExport.Status.READY
    return export, path_of(mailed_link(mail.outbox[-1]))


def archive_of(content: bytes) -> tuple[dict, str]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        names = archive.namelist()
        assert {"data.json", "index.html"} <= set(names)
        assert all(name.startswith("csv/") for name in set(names) - {"data.json", "index.html"})
        return json.loads(archive.read("data.json")), archive.read("index.html").decode()


def records_of(data: dict) -> dict[str, dict]:
    """data.json's sections by model label, their columns by key and rows as mappings."""
    found = {}
    for section in data["sections"]:
        keys = [column["key"] for column in section["columns"]]
        found[section["key"]] = {
            "title": section["title"],
            "columns": {column["key"]: column for column in section["columns"]},
            "rows": [dict(zip(keys, row, strict=True)) for row in section["rows"]],
        }
    return found


@pytest.fixture
def owner() -> User:
    return make_owner()


@pytest.fixture
def client_for(caller_for):
    """The caller signed in, with a fresh re-authentication unless told otherwise."""

    def login(kind: str, *, reauthenticated: bool = True) -> tuple[Client, User | None]:
        caller = caller_for(kind)
        if caller.user is not None and reauthenticated:
            reauthenticate(caller.client, caller.user)
        return caller.client, caller.user

    return login


@pytest.mark.parametrize("caller", CALLERS)
def test_export_request_by_every_caller_concerns_only_the_caller(caller, client_for, owner):
    client, user = client_for(caller)
    response = client.post("/privacy/export/")
    assert response.status_code == 302
    if user is None:
        assert response["Location"] == "/accounts/login/?next=/privacy/export/"
        assert DataExport.objects.count() == 0
        assert queued("build_data_export") == []
        return
    assert response["Location"] == "/privacy/#data"
    export = DataExport.objects.get()
    assert (export.subject_id, export.status) == (user.pk, DataExport.Status.QUEUED)
    assert DataExport.objects.filter(subject=owner).exists() == (caller == "owner")
    [job] = queued("build_data_export")
    assert job.args_kwargs == {
        "args": [],
        "kwargs": {
            "export_id": export.pk,
            "site_url": "http://testserver",
            "language": "en",
            "method": "preference_center",
        },
    }


def test_export_request_needs_a_fresh_reauthentication_and_creates_nothing_before(
    client_for, owner
):
    client, _user = client_for("owner", reauthenticated=False)
    response = client.post("/privacy/export/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/reauthenticate/?next=%2Fprivacy%2Fexport%2F"
    assert DataExport.objects.count() == 0
    assert queued("build_data_export") == []

    # Typing the password again resumes the suspended request.
    response = client.post(
        "/accounts/reauthenticate/?next=%2Fprivacy%2Fexport%2F", {"password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == "/privacy/#data"
    assert DataExport.objects.filter(subject=owner, status=DataExport.Status.QUEUED).count() == 1


def test_export_request_is_post_only(client_for):
    client, _user = client_for("owner")
    assert client.get("/privacy/export/").status_code == 405
    assert DataExport.objects.count() == 0


def test_a_second_request_while_one_is_prepared_returns_it(owner):
    first = export_request(subject=owner, site_url="http://testserver")
    second = export_request(subject=owner, site_url="http://testserver")
    assert first.pk == second.pk
    assert len(queued("build_data_export")) == 1


def test_no_export_of_an_account_being_erased(owner, client_for):
    erasure_request(subject=owner, reason="privacy center")
    with pytest.raises(DomainError) as refused:
        export_request(subject=owner)
    assert refused.value.code == "erasure_pending"
    client, _user = client_for("owner")
    response = client.post("/privacy/export/", follow=True)
    assert "This account is being deleted: its data can no longer be exported." in (
        response.content.decode()
    )
    assert DataExport.objects.count() == 0


def test_the_job_builds_an_encrypted_archive_under_a_random_name_and_mails_a_link(owner):
    with clock.frozen_at(NOW):
        export = export_request(subject=owner, site_url="https://bgm.example")
        mail.outbox.clear()
        assert run_queued("build_data_export") == ["ready"]
    export.refresh_from_db()
    assert export.status == DataExport.Status.READY
    assert (export.ready_at, export.expires_at) == (NOW, NOW + timedelta(days=7))
    assert re.fullmatch(r"privacy-exports/[0-9a-f]{32}\.bin", export.file_name)
    stored = default_storage.open(export.file_name).read()
    assert export.size_bytes == len(stored)
    assert stored.startswith(b"BMX1")
    assert b"data.json" not in stored and b"Ivan" not in stored  # sealed, not a plain ZIP
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(io.BytesIO(stored))

    [message] = mail.outbox
    assert message.to == ["owner@example.com"]
    assert message.subject == "BACKGROUND MUSIC: your data is ready to download"
    link = mailed_link(message)
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert link == f"https://bgm.example/privacy/export/download/{token}/"
    assert export.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in json.dumps(list(DataExport.objects.values()), default=str)
    assert "The link works once, until 2026-03-17 12:00 UTC." in message.body


def test_the_archive_holds_every_exportable_field_and_nothing_else(owner, client):
    consents.consent_give(
        subject=owner, purpose=ConsentPurpose.NEWSLETTER, method=ConsentMethod.FORM
    )
    officer = StaffFactory.create(username="officer", role=StaffRole.PRIVACY_OFFICER)
    access_log_record(actor=officer, subject_id=owner.pk, fields=["email"], reason="Ticket 7")
    visible = Disclosure.objects.create(
        subject=owner,
        subject_pseudonym=subject_pseudonym(subject_id=owner.pk),
        recipient_name="Tax office",
        country="RU",
        legal_basis=LegalBasisForDisclosure.AUTHORITY_REQUEST,
        categories=["user.name"],
        reference_document="Request 1",
        disclosed_on=date(2026, 1, 5),
        recorded_at=NOW,
        recorded_by_id=officer.pk,
    )
    Disclosure.objects.create(
        subject=owner,
        subject_pseudonym=subject_pseudonym(subject_id=owner.pk),
        recipient_name="Court",
        country="RU",
        legal_basis=LegalBasisForDisclosure.COURT_DECISION,
        categories=["user.name"],
        reference_document="Case 2",
        disclosed_on=date(2026, 1, 6),
        recorded_at=NOW,
        recorded_by_id=officer.pk,
        legal_hold_until=date(2999, 1, 1),
        legal_hold_reason="Gag order",
    )
    AccessAttempt.objects.create(
        username=account_key(user_id=owner.pk),
        ip_address="192.0.2.0",
        user_agent="Firefox",
        http_accept="*/*",
        path_info="/accounts/login/",
        get_data="",
        post_data="login=********",
        failures_since_start=1,
    )
    AccessAttempt.objects.create(
        username="someone-else",
        ip_address="192.0.2.0",
        user_agent="Firefox",
        http_accept="*/*",
        path_info="/accounts/login/",
        get_data="",
        post_data="",
        failures_since_start=1,
    )
    other = make_owner("other")

    _export, link = ready_export(owner)
    client.force_login(owner)
    response = client.get(link)
    assert response.status_code == 200
    data, index = archive_of(b"".join(response.streaming_content))

    assert data["format"] == "backgroundmusic.data-export/2"
    assert data["account_id"] == owner.pk
    records = records_of(data)
    assert set(records) == {
        "accounts.User",
        "accounts.Profile",
        "accounts.SocialLink",
        "account.EmailAddress",
        "privacy.ConsentRecord",
        "privacy.StaffAccessLogEntry",
        "privacy.Disclosure",
        "axes.AccessAttempt",
    }
    [user_row] = records["accounts.User"]["rows"]
    assert user_row["username"] == "owner"
    assert user_row["email"] == "owner@example.com"
    assert "password" not in user_row and "password" not in records["accounts.User"]["columns"]
    [profile_row] = records["accounts.Profile"]["rows"]
    assert profile_row["full_name"] == OWNER_VALUES["full_name"]
    assert profile_row["address_street"] == OWNER_VALUES["address_street"]
    assert (profile_row["phone"], profile_row["language"]) == (OWNER_VALUES["phone"], "English")
    assert records["accounts.Profile"]["columns"]["phone"] == {
        "key": "phone",
        "label": "Contact phone",
        "personal": True,
        "category": "Contact phone number",
        "source": "You gave it to us",
        "purpose": "Keeping in touch with you about your account and licences",
        "legal_basis": "Performance of a contract with you",
        "retention": "While the account is open, then 30 days after it is closed",
    }
    assert [row["url"] for row in records["accounts.SocialLink"]["rows"]] == [
        OWNER_VALUES["social_link"]
    ]
    assert records["accounts.Profile"]["columns"]["full_name"] == {
        "key": "full_name",
        "label": "Full name",
        "personal": True,
        "category": "Name",
        "source": "You gave it to us",
        "purpose": "Performing the user agreement and licence agreements",
        "legal_basis": "Performance of a contract with you",
        "retention": "While the account is open, then 30 days after it is closed",
    }
    assert records["accounts.Profile"]["columns"]["user"] == {
        "key": "user",
        "label": "Account",
        "personal": False,
        "category": None,
        "source": None,
        "purpose": None,
        "legal_basis": None,
        "retention": None,
    }
    [consent] = records["privacy.ConsentRecord"]["rows"]
    assert (consent["purpose"], consent["action"], consent["method"]) == (
        "Newsletters and promotional e-mail",
        "Given",
        "Form",
    )
    [reading] = records["privacy.StaffAccessLogEntry"]["rows"]
    assert (reading["subject_id"], reading["fields"], reading["reason"]) == (
        owner.pk,
        ["E-mail address"],
        "Ticket 7",
    )
    assert "actor_id" not in reading  # who read is not exportable
    assert [row["id"] for row in records["privacy.Disclosure"]["rows"]] == [visible.pk]
    assert [row["username"] for row in records["axes.AccessAttempt"]["rows"]] == [
        account_key(user_id=owner.pk)
    ]
    assert "privacy.DataExport" not in records  # nothing exportable in it

    serialized = json.dumps(data)
    for value in ("other@example.com", "someone-else", '"Court"', "Gag order"):
        assert value not in serialized
    assert other.username not in [row["username"] for row in records["accounts.User"]["rows"]]

    assert "<title>Your data at BACKGROUND MUSIC</title>" in index
    assert (
        'Profiles</h2> <p class="muted">Why we hold it: Registration, sign-in and account '
        "management; Performing the user agreement and licence agreements; Keeping in touch with "
        "you about your account and licences; Showing your public profile (only with your consent) "
        "(performance of a contract with you; your consent). How long: While the account is "
        "open, then 30 days after it is closed. Where we got it: You gave it to us.</p>"
    ) in " ".join(index.split())
    for value in (*OWNER_VALUES.values(), "owner@example.com", "Ticket 7", "Tax office"):
        assert value in index
    # A page to open from disk: no scripts, no external resources.
    assert "<script" not in index
    assert not re.search(r"""(?:src|href)=["']?(?:https?:)?//""", index)
    assert "<link" not in index


def test_the_archive_is_in_the_language_of_the_request(owner, client):
    export = export_request(subject=owner, site_url="http://testserver", language="ru")
    run_queued("build_data_export")
    client.force_login(owner)
    response = client.post(f"/privacy/export/{export.pk}/download/")
    _data, index = archive_of(b"".join(response.streaming_content))
    assert '<html lang="ru">' in index


def test_the_job_run_again_after_success_does_nothing(owner):
    export, _link = ready_export(owner)
    before = DataExport.objects.values().get(pk=export.pk)
    sent = len(mail.outbox)
    assert build_data_export.call(export_id=export.pk, site_url="http://testserver") == "ready"
    assert DataExport.objects.values().get(pk=export.pk) == before
    assert len(mail.outbox) == sent


def test_the_job_run_again_after_a_kill_finishes_over_the_same_file(owner):
    export = export_request(subject=owner, site_url="http://testserver")
    # A worker killed after storing the file, before marking the export ready.
    DataExport.objects.filter(pk=export.pk).update(
        status=DataExport.Status.BUILDING, file_name="privacy-exports/" + "a" * 32 + ".bin"
    )
    default_storage.save("privacy-exports/" + "a" * 32 + ".bin", io.BytesIO(b"half-written"))
    mail.outbox.clear()
    assert build_data_export.call(export_id=export.pk, site_url="http://testserver") == "ready"
    export.refresh_from_db()
    assert export.status == DataExport.Status.READY
    assert export.file_name == "privacy-exports/" + "a" * 32 + ".bin"
    assert default_storage.listdir("privacy-exports")[1] == [export.file_name.split("/")[1]]
    assert len(mail.outbox) == 1


def test_the_job_of_a_deleted_export_does_nothing(owner):
    export = export_request(subject=owner)
    DataExport.objects.filter(pk=export.pk).delete()
    assert run_queued("build_data_export") == ["gone"]
    assert not default_storage.exists("privacy-exports") or default_storage.listdir(
        "privacy-exports"
    ) == ([], [])


def test_the_job_fails_the_export_of_an_account_being_erased(owner):
    export = export_request(subject=owner)
    ErasureJob.objects.create(
        subject_id=owner.pk, subject_pseudonym="x", reason="test", requested_at=NOW
    )
    assert run_queued("build_data_export") == ["failed"]
    export.refresh_from_db()
    assert (export.status, export.failure_reason, export.file_name) == (
        DataExport.Status.FAILED,
        "account closed",
        "",
    )


@pytest.mark.parametrize("caller", CALLERS)
def test_download_by_every_caller(
    caller, client, owner, django_capture_on_commit_callbacks, caller_for
):
    export, link = ready_export(owner)
    caller_for(caller)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(link)
    export.refresh_from_db()
    if caller == "anonymous":
        assert response.status_code == 302
        assert response["Location"] == f"/accounts/login/?next={link}"
    elif caller == "owner":
        assert response.status_code == 200
        assert response["Content-Type"] == "application/zip"
        assert response["Content-Disposition"] == (
            f'attachment; filename="backgroundmusic-data-{export.requested_at:%Y-%m-%d}.zip"'
        )
        assert "no-store" in response["Cache-Control"].split(", ")
        archive_of(b"".join(response.streaming_content))
    else:
        assert response.status_code == 404
        assert response["Content-Type"] == "text/html; charset=utf-8"
        assert b"PK\x03\x04" not in response.content
    downloaded = caller == "owner"
    assert export.status == (
        DataExport.Status.DOWNLOADED if downloaded else DataExport.Status.READY
    )
    assert default_storage.exists(export.file_name) is not downloaded


def test_the_link_works_once_then_answers_410_without_bytes(client, owner):
    export, link = ready_export(owner)
    client.force_login(owner)
    with clock.frozen_at(NOW):
        assert client.get(link).status_code == 200
    export.refresh_from_db()
    assert (export.status, export.downloaded_at) == (DataExport.Status.DOWNLOADED, NOW)
    second = client.get(link)
    assert second.status_code == 410
    assert second["Content-Type"] == "text/html; charset=utf-8"
    assert "This download link was already used: each link works once." in (second.content.decode())
    assert not second.content.startswith(b"PK")


def test_an_expired_link_answers_410(client, owner):
    with clock.frozen_at(NOW):
        _export, link = ready_export(owner)
    client.force_login(owner)
    with clock.frozen_at(NOW + timedelta(days=7)):
        response = client.get(link)
    assert response.status_code == 410
    assert "This download link has expired: links work for 7 days." in response.content.decode()
    with clock.frozen_at(NOW + timedelta(days=7) - timedelta(seconds=1)):
        assert client.get(link).status_code == 200


def test_a_made_up_token_is_404(client, owner):
    ready_export(owner)
    client.force_login(owner)
    assert client.get("/privacy/export/download/made-up/").status_code == 404
    assert client.get("/privacy/export/download/" + "x" * 300 + "/").status_code == 404


@pytest.mark.parametrize("caller", CALLERS)
def test_download_button_of_the_center_by_every_caller(caller, client, owner, caller_for):
    export, _link = ready_export(owner)
    caller_for(caller)
    response = client.post(f"/privacy/export/{export.pk}/download/")
    export.refresh_from_db()
    expected = {"anonymous": 302, "owner": 200}.get(caller, 404)
    assert response.status_code == expected
    assert (export.status == DataExport.Status.DOWNLOADED) is (caller == "owner")
    if caller == "owner":
        assert client.post(f"/privacy/export/{export.pk}/download/").status_code == 410


def test_a_file_sealed_for_someone_else_does_not_open(owner):
    other = make_owner("other")
    mine, _link = ready_export(owner)
    theirs, _link = ready_export(other)
    DataExport.objects.filter(pk=mine.pk).update(file_name=theirs.file_name)
    with pytest.raises(ExportGone):
        export_download(subject=owner, export_id=mine.pk)
    blob = default_storage.open(theirs.file_name).read()
    with pytest.raises(crypto.CiphertextInvalid):
        _open_export_file(blob, subject_id=owner.pk, export_id=theirs.pk)


def test_after_the_data_key_is_destroyed_the_file_is_unreadable(owner):
    export, _link = ready_export(owner)
    blob = default_storage.open(export.file_name).read()
    keys.data_key_destroy(subject_id=owner.pk)
    with pytest.raises(crypto.DataKeyDestroyed):
        _open_export_file(blob, subject_id=owner.pk, export_id=export.pk)


def test_the_center_shows_what_we_hold_by_category_and_each_export_state(client, owner):
    client.force_login(owner)
    with clock.frozen_at(NOW):
        ready, _link = ready_export(owner)
        downloaded, _link = ready_export(owner)
        export_download(subject=owner, export_id=downloaded.pk)
        expired, _link = ready_export(owner)
        DataExport.objects.filter(pk=expired.pk).update(expires_at=NOW - timedelta(seconds=1))
        queued_export = export_request(subject=owner)
        html = client.get("/privacy/").content.decode()

    def state(export: DataExport) -> str:
        row = re.search(
            rf'<tr id="export-{export.pk}" data-state="([a-z]+)">(.*?)</tr>', html, re.S
        )
        assert row is not None
        return row.group(1)

    assert [state(e) for e in (ready, downloaded, expired, queued_export)] == [
        "ready",
        "downloaded",
        "expired",
        "queued",
    ]
    assert html.count('action="/privacy/export/') == 2  # the request form, one download button
    assert f'action="/privacy/export/{ready.pk}/download/"' in html

    held = re.search(r'<table class="data-held[^"]*" id="data-held">(.*?)</table>', html, re.S)
    assert held is not None
    rows = dict(re.findall(r'<tr id="held-([a-z0-9_-]+)">(.*?)</tr>', held.group(1), re.S))

    def items(category: str) -> list[str]:
        return [
            " ".join(re.sub(r"<[^>]+>", " ", item).split())
            for item in re.findall(r"<li>(.*?)</li>", rows[category], re.S)
        ]

    assert items("username") == ["profiles: 1 record full name"]
    assert items("usercontactaddress") == ["profiles: 1 record city, street and building"]
    assert items("usersocial") == ["social links: 1 record profile link"]
    assert items("usercontactphone_number") == ["profiles: 1 record contact phone"]
    assert items("useraccountusername") == [
        "users: 1 record username, username look-alike digest",
        "access logs: 1 record Username",  # the sign-in of force_login, by django-axes
    ]
    assert items("usercontactemail") == [
        "users: 1 record e-mail address",
        "email addresses: 1 record email address",
    ]
    assert "data exports: 4 records" in items("useraccountsettings")[0]
    # Fields without a value are not claimed: no tax id, no company was given.
    assert "usergovernment_id" not in rows and "userworkplace" not in rows
    assert "Your consent" in rows["usersocial"]
    assert "While the account is open, then 30 days after it is closed" in rows["usersocial"]
    # Where and why, not the values themselves.
    assert OWNER_VALUES["full_name"] not in held.group(1)
    assert "223344" not in held.group(1)


def test_data_held_counts_only_the_persons_rows(owner):
    make_owner("other")
    held = {category.category: category for category in data_held(subject=owner)}
    social = held["user.social"]
    assert [(r.label, r.count, r.fields) for r in social.records] == [
        ("accounts.SocialLink", 1, ["profile link"])
    ]
    assert social.purposes == ["Showing your public profile (only with your consent)"]
    assert social.legal_bases == ["Your consent"]
    assert social.retention == ["While the account is open, then 30 days after it is closed"]
    email = held["user.contact.email"]
    assert [(r.label, r.count) for r in email.records] == [
        ("accounts.User", 1),
        ("account.EmailAddress", 1),
    ]
    assert EmailAddress.objects.count() == 2
    phone = held["user.contact.phone_number"]
    assert (phone.label, [(r.label, r.count, r.fields) for r in phone.records]) == (
        "Contact phone number",
        [("accounts.Profile", 1, ["contact phone"])],
    )
    assert phone.purposes == ["Keeping in touch with you about your account and licences"]


@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    token=st.text(
        alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="/?#%\x00"),
        min_size=1,
    )
)
def test_any_token_is_a_404_never_an_error_nor_a_download(token, client, owner):
    client.force_login(owner)
    response = client.get(f"/privacy/export/download/{quote(token, safe='')}/")
    assert response.status_code == 404


def test_on_s3_storage_the_archive_is_in_the_bucket_until_downloaded(
    bucket, client, owner, django_capture_on_commit_callbacks
):
    export, link = ready_export(owner)
    assert bucket_keys(bucket) == [export.file_name]
    assert bucket.Object(export.file_name).get()["Body"].read().startswith(b"BMX1")
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(link)
    assert response.status_code == 200
    archive_of(b"".join(response.streaming_content))
    assert bucket_keys(bucket) == []
