"""Delete my account: the page, the job that erases every store in order, its record, the 410."""

import hashlib
import re
from datetime import UTC, date, datetime
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from allauth.usersessions.models import UserSession
from axes.models import AccessAttempt, AccessLog
from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.core.mail import EmailMessage, get_connection
from django.test import Client
from django_tasks_db.models import DBTaskResult
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from backgroundmusic.accounts.lockout import account_key
from backgroundmusic.accounts.models import Profile, PublicProfileChoice, SocialLink, User
from backgroundmusic.accounts.tests.factories import PASSWORD, UserFactory
from backgroundmusic.core import clock
from backgroundmusic.core.errors import DomainError
from backgroundmusic.inbox.models import InboundMessage, InboundRawMessage, Mailbox, Outcome
from backgroundmusic.inbox.services import RAW_CONTEXT
from backgroundmusic.media.models import Download, Master
from backgroundmusic.privacy import consents, optin
from backgroundmusic.privacy.kernel import tombstones
from backgroundmusic.privacy.kernel.access_log import access_log_record
from backgroundmusic.privacy.kernel.crypto import seal_with_master
from backgroundmusic.privacy.kernel.models import (
    DataKey,
    ErasedProfileTombstone,
    StaffAccessLogEntry,
)
from backgroundmusic.privacy.kernel.pseudonyms import address_digest, subject_pseudonym
from backgroundmusic.privacy.kernel.registry import Erasure, ErasureSubject, Handler, data_map
from backgroundmusic.privacy.models import (
    AcceptanceAction,
    ConsentMethod,
    ConsentPurpose,
    ConsentRecord,
    DataExport,
    DataSubjectRequest,
    DestructionRecord,
    Disclosure,
    DocumentKind,
    ErasureJob,
    LegalBasisForDisclosure,
    PolicyAcceptance,
    PolicyEdition,
    ProcessingRestriction,
)
from backgroundmusic.privacy.public_profile import public_profile_set
from backgroundmusic.privacy.rights import erasure, rows
from backgroundmusic.privacy.tasks import erase_account
from backgroundmusic.privacy.tests.test_export import (
    CALLERS,
    STAFF_CALLERS,
    make_owner,
    queued,
    ready_export,
    reauthenticate,
    run_queued,
)
from tests.callers import caller_user

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
STEP_NAMES = [
    "accounts: deactivate",
    "privacy: profile tombstone",
    "privacy: mail outbox",
    "privacy: sms outbox",
    "licensing: orders awaiting payment",
    "accounts: sessions",
    "accounts: sign-in records",
    "accounts: names in the admin log",
    "analytics: identified events and mapping",
    "media: uploader of masters",
    "mailing: author of campaigns",
    "privacy: data exports",
    "privacy: cached values",
    "data map: privacy.PolicyAcceptance",
    "data map: privacy.ConsentRecord",
    "data map: privacy.ConsentConfirmation",
    "data map: privacy.ProcessingRestriction",
    "data map: privacy.DataSubjectRequest",
    "data map: privacy.Disclosure",
    "data map: accounts.Profile",
    "data map: accounts.SocialLink",
    "data map: accounts.PublicProfileChoice",
    "data map: account.EmailAddress",
    "data map: account.EmailConfirmation",
    "data map: mfa.Authenticator",
    "data map: admin.LogEntry",
    "data map: media.Download",
    "data map: licensing.CartLine",
    "data map: licensing.Order",
    "data map: licensing.Agreement",
    "data map: licensing.Notice",
    "data map: library.Favourite",
    "data map: library.Playlist",
    "data map: library.PlaylistEntry",
    "data map: mailing.CampaignMessage",
    "data map: mailing.UnsubscribeToken",
    "data map: inbox.InboundRawMessage",
    "data map: inbox.InboundMessage",
    "data map: incidents.IncidentLetter",
    "privacy: data key",
    "data map: accounts.User",
]

# A person with something in every store, and a snapshot of everything that is theirs


def edition() -> PolicyEdition:
    found = PolicyEdition.objects.filter(version="test-1").first()
    return found or PolicyEdition.objects.create(
        kind=DocumentKind.TERMS_OF_USE,
        version="test-1",
        title_en="Terms",
        title_ru="Условия",
        body_en="Terms.",
        body_ru="Условия.",
        content_hash="f" * 64,
        effective_at=NOW,
        published_at=NOW,
    )


def fill_every_store(user: User, client: Client, recorder: User) -> None:
    """Sessions, sign-ins, consents, a restriction, an acceptance, a disclosure, a request, an
    export ready to download, a published profile, two-factor, an admin log entry, a staff
    reading: one of each, as the service would write them."""
    reauthenticate(client, user)  # a session and an axes AccessLog row
    client.get("/account/profile/")  # allauth's middleware maps the session to the user
    AccessAttempt.objects.create(
        username=account_key(user_id=user.pk),
        ip_address="192.0.2.0",
        user_agent="Firefox",
        http_accept="*/*",
        path_info="/accounts/login/",
        get_data="",
        post_data="login=********",
        failures_since_start=2,
    )
    public_profile_set(user=user, published=True, public_fields=["full_name"], indexable=False)
    consents.consent_give(subject=user, purpose=ConsentPurpose.NEWSLETTER, method="form")
    # A newsletter asked for again, waiting for its confirmation by e-mail.
    optin.newsletter_optin_request_at_signup(subject=user)
    consents.restriction_start(subject=user, method=ConsentMethod.PREFERENCE_CENTER)
    PolicyAcceptance.objects.create(
        user=user,
        subject_pseudonym=subject_pseudonym(subject_id=user.pk),
        edition=edition(),
        edition_hash="f" * 64,
        action=AcceptanceAction.ACCEPTED,
        at=NOW,
        ip_truncated="192.0.2.0",
        user_agent_family="Firefox 120",
    )
    Disclosure.objects.create(
        subject=user,
        subject_pseudonym=subject_pseudonym(subject_id=user.pk),
        recipient_name="Tax office",
        country="RU",
        legal_basis=LegalBasisForDisclosure.AUTHORITY_REQUEST,
        categories=["user.name"],
        reference_document="Request 1",
        disclosed_on=date(2026, 1, 5),
        recorded_at=NOW,
        recorded_by_id=recorder.pk,
    )
    DataSubjectRequest.objects.create(
        kind="access",
        channel="letter",
        received_at=NOW,
        subject=user,
        requester_contact=f"{user.username}, Svetlanskaya 12",
        due_ru=date(2026, 3, 24),
        due_gdpr=date(2026, 4, 10),
    )
    # A letter of theirs to the unsubscribe address (inbox/), recorded and kept sealed.
    inbound = InboundMessage.objects.create(
        received_at=NOW,
        mailbox=Mailbox.UNSUBSCRIBE,
        sender_digest=address_digest(address=user.email),
        message_id_digest=hashlib.sha256(f"<{user.username}@mail>".encode()).hexdigest(),
        content_digest=hashlib.sha256(user.username.encode()).hexdigest(),
        outcome=Outcome.UNSUBSCRIBED,
        subject=user,
    )
    InboundRawMessage.objects.create(
        message=inbound,
        received_at=NOW,
        sealed=seal_with_master(f"From: {user.email}", context=RAW_CONTEXT),
    )
    TOTP.activate(user, generate_totp_secret())
    LogEntry.objects.create(
        user=recorder,
        content_type=ContentType.objects.get_for_model(User),
        object_id=str(user.pk),
        object_repr=user.username,
        action_flag=CHANGE,
        change_message="[]",
    )
    access_log_record(actor=recorder, subject_id=user.pk, fields=["email"], reason="Ticket 1")
    Master.objects.create(
        sha256=hashlib.sha256(user.username.encode()).hexdigest(),
        storage_key=f"masters/{user.username}",
        uploaded_by_id=user.pk,
        uploaded_at=NOW,
    )
    Download.objects.create(
        user=user,
        kind="flac",
        token_sha256=hashlib.sha256(f"download {user.username}".encode()).hexdigest(),
        at=NOW,
    )
    ready_export(user)


def rows_of(user_id: int, sign_in_keys: set[str]) -> dict[str, list[dict[str, Any]]]:
    """Every row that is the person's, found as erasure finds them: each declared model through
    its subject path, and the rows found by id or key (sessions, axes, access log, data key)."""
    snapshot: dict[str, list[dict[str, Any]]] = {}
    for declaration in data_map.models.values():
        if declaration.subject:
            snapshot[declaration.label] = list(
                rows.subject_rows(declaration, user_id).order_by("pk").values()
            )
    keys = UserSession.objects.filter(user_id=user_id).values_list("session_key", flat=True)
    snapshot["sessions.Session"] = [
        dict(row) for row in Session.objects.filter(pk__in=list(keys)).values()
    ]
    for model in (AccessAttempt, AccessLog):
        snapshot[model._meta.label] = list(
            model.objects.filter(username__in=sign_in_keys).order_by("pk").values()
        )
    snapshot["privacy.StaffAccessLogEntry"] = list(
        StaffAccessLogEntry.objects.filter(subject_id=user_id).order_by("pk").values()
    )
    snapshot["privacy.DataKey"] = [
        dict(row) for row in DataKey.objects.filter(subject_id=user_id).values()
    ]
    return snapshot


def sign_in_keys_of(user: User) -> set[str]:
    """What axes files the person's sign-ins under (accounts/lockout.py)."""
    return {account_key(user_id=user.pk)}


@pytest.fixture
def recorder() -> User:
    return caller_user("privacy_officer")


@pytest.fixture
def owner() -> User:
    return make_owner()


def erase(user: User, reason: str = "privacy center") -> ErasureJob:
    job = erasure.erasure_request(subject=user, reason=reason)
    assert run_queued("erase_account") == ["done"]
    job.refresh_from_db()
    return job


@pytest.mark.parametrize("caller", CALLERS)
def test_delete_page_by_every_caller(caller, client, owner, caller_for):
    user = caller_for(caller).user
    if user is not None:
        reauthenticate(client, user)
    response = client.get("/privacy/delete/")
    if caller == "anonymous":
        assert response.status_code == 302
        assert response["Location"] == "/accounts/login/?next=/privacy/delete/"
    elif caller in STAFF_CALLERS:
        assert response.status_code == 403
        assert "Staff accounts are not deleted here" in response.content.decode()
    else:
        assert user is not None
        assert response.status_code == 200
        html = response.content.decode()
        assert f"Your username is <strong>{user.username}</strong>." in html
        assert 'name="confirmation"' in html
    assert ErasureJob.objects.count() == 0


@pytest.mark.parametrize("caller", CALLERS)
def test_delete_request_by_every_caller_typing_the_owners_username(
    caller, client, owner, caller_for
):
    user = caller_for(caller).user
    if user is not None:
        reauthenticate(client, user)
    response = client.post("/privacy/delete/", {"confirmation": "owner"})
    if caller == "anonymous":
        assert response.status_code == 302
        assert response["Location"] == "/accounts/login/?next=/privacy/delete/"
    elif caller in STAFF_CALLERS:
        assert response.status_code == 403
    elif caller == "other_user":
        assert response.status_code == 200
        html = response.content.decode()
        assert "That is not your username. Type other exactly to delete the account." in html
        assert 'value="owner"' in html  # the input is kept
    else:
        assert response.status_code == 302
        assert response["Location"] == "/privacy/delete/done/"
        assert "_auth_user_id" not in client.session
    if caller == "owner":
        job = ErasureJob.objects.get()
        assert (job.subject_id, job.subject_pseudonym, job.status, job.reason) == (
            owner.pk,
            subject_pseudonym(subject_id=owner.pk),
            ErasureJob.Status.QUEUED,
            "privacy center",
        )
        [task] = queued("erase_account")
        assert task.args_kwargs == {"args": [], "kwargs": {"job_id": job.pk}}
    else:
        assert ErasureJob.objects.count() == 0
        assert queued("erase_account") == []
    assert User.objects.get(pk=owner.pk).is_active


def test_the_delete_page_needs_a_fresh_reauthentication(client, owner):
    client.force_login(owner)
    response = client.get("/privacy/delete/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/reauthenticate/?next=%2Fprivacy%2Fdelete%2F"
    response = client.post(
        "/accounts/reauthenticate/?next=%2Fprivacy%2Fdelete%2F", {"password": PASSWORD}
    )
    assert response["Location"] == "/privacy/delete/"
    assert client.get("/privacy/delete/").status_code == 200
    assert ErasureJob.objects.count() == 0


def test_a_delete_request_waits_for_the_password_then_runs(client, owner):
    client.force_login(owner)
    response = client.post("/privacy/delete/", {"confirmation": "owner"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/reauthenticate/?next=%2Fprivacy%2Fdelete%2F"
    assert ErasureJob.objects.count() == 0
    # A wrong password: still nothing.
    client.post("/accounts/reauthenticate/?next=%2Fprivacy%2Fdelete%2F", {"password": "wrong"})
    assert ErasureJob.objects.count() == 0
    # The right one resumes the request that was waiting.
    response = client.post(
        "/accounts/reauthenticate/?next=%2Fprivacy%2Fdelete%2F", {"password": PASSWORD}
    )
    assert response["Location"] == "/privacy/delete/done/"
    assert ErasureJob.objects.get().subject_id == owner.pk
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("typed", ["", "Owner", "owner2", "someone"])
def test_a_wrong_confirmation_deletes_nothing(typed, client, owner):
    reauthenticate(client, owner)
    response = client.post("/privacy/delete/", {"confirmation": typed})
    assert response.status_code == 200
    assert ErasureJob.objects.count() == 0
    assert "_auth_user_id" in client.session


def test_the_done_page_says_what_happens(client):
    response = client.get("/privacy/delete/done/")
    assert response.status_code == 200
    assert "Your account is being deleted" in response.content.decode()


def test_the_center_offers_deletion_to_people_and_explains_it_to_staff(client, owner, caller_for):
    client.force_login(owner)
    assert 'href="/privacy/delete/"' in client.get("/privacy/").content.decode()
    caller_for("support")
    html = client.get("/privacy/").content.decode()
    assert 'href="/privacy/delete/"' not in html
    assert "This is a staff account" in html


def test_asking_twice_returns_the_same_job(owner):
    first = erasure.erasure_request(subject=owner, reason="privacy center")
    second = erasure.erasure_request(subject=owner, reason="request #4")
    assert first.pk == second.pk
    assert len(queued("erase_account")) == 1


@pytest.mark.parametrize("reason", ["", "   ", "x" * 65])
def test_a_reason_is_required_and_short(reason, owner):
    with pytest.raises(DomainError) as refused:
        erasure.erasure_request(subject=owner, reason=reason)
    assert refused.value.code == "reason_invalid"
    assert ErasureJob.objects.count() == 0


def test_erasure_empties_every_store_in_order_and_keeps_records_the_law_requires(
    client, owner, recorder, django_capture_on_commit_callbacks
):
    other = make_owner("other")
    fill_every_store(owner, Client(), recorder)
    fill_every_store(other, Client(), recorder)
    other_before = rows_of(other.pk, sign_in_keys_of(other))
    export = DataExport.objects.get(subject=owner)
    key_id = DataKey.objects.get(subject_id=owner.pk).pk
    cache.set("test:owner-cached", "Ivan Petrov")

    def cached_keys(*, subject_id: int) -> list[str]:
        return ["test:owner-cached"] if subject_id == owner.pk else []

    data_map.register_cache_keys("test cache", cached_keys)
    try:
        with clock.frozen_at(NOW):
            job = erase(owner)
    finally:
        del data_map.cache_keys["test cache"]

    assert job.status == ErasureJob.Status.DONE
    assert job.finished_at == NOW
    assert erasure.erasure_completed_steps(job=job) == STEP_NAMES
    pseudonym = subject_pseudonym(subject_id=owner.pk)

    # The user row stays as a shell named by the pseudonym (docs/decisions/0005-erasure.md).
    shell = User.objects.get(pk=owner.pk)
    assert (shell.username, shell.email, shell.password, shell.last_login) == (
        pseudonym,
        "",
        "",
        None,
    )
    assert shell.username_skeleton == pseudonym  # no digest of the old name stays
    assert (shell.is_active, shell.is_staff, shell.is_superuser) == (False, False, False)
    assert list(shell.groups.all()) == []

    # Rows that go.
    for model in (
        Profile,
        SocialLink,
        PublicProfileChoice,
        EmailAddress,
        Authenticator,
        ConsentRecord,
        ProcessingRestriction,
        DataExport,
        UserSession,
    ):
        label = model._meta.label
        assert rows.subject_rows(data_map.models[label], owner.pk).count() == 0, label
    assert not default_storage.exists(export.file_name)
    assert AccessAttempt.objects.filter(username=account_key(user_id=owner.pk)).count() == 0
    assert AccessLog.objects.filter(username=account_key(user_id=owner.pk)).count() == 0
    assert not DataKey.objects.filter(pk=key_id).exists()
    assert cache.get("test:owner-cached") is None

    # Rows the law keeps, with the person replaced by the pseudonym.
    acceptance = PolicyAcceptance.objects.get(subject_pseudonym=pseudonym)
    assert (acceptance.user_id, acceptance.ip_truncated) == (None, "192.0.2.0")
    disclosure = Disclosure.objects.get(subject_pseudonym=pseudonym)
    assert disclosure.subject_id is None
    request = DataSubjectRequest.objects.get(pk=DataSubjectRequest.objects.order_by("pk")[0].pk)
    assert (request.subject_id, request.requester_contact) == (None, "")
    assert StaffAccessLogEntry.objects.filter(subject_id=owner.pk).count() == 1
    entry = LogEntry.objects.get(object_id=str(owner.pk))
    assert entry.object_repr == ""
    # The masters they uploaded stay in the catalogue, no longer naming them.
    assert Master.objects.get(storage_key="masters/owner").uploaded_by_id is None
    # Their downloads still count, naming nobody.
    download = Download.objects.get(token_sha256=hashlib.sha256(b"download owner").hexdigest())
    assert (download.user_id, download.kind, download.at) == (None, "flac", NOW)
    assert ErasedProfileTombstone.objects.count() == 1

    # One destruction record: categories, counts, method, reason, date; no values.
    [record] = DestructionRecord.objects.all()
    assert record.subject_pseudonym == pseudonym
    assert (record.method, record.reason, record.at) == ("erasure", "privacy center", NOW)
    assert record.counts == {
        "account.EmailAddress": 1,
        "accounts.Profile": 1,
        "accounts.PublicProfileChoice": 1,
        "accounts.SocialLink": 1,
        "accounts.User": 1,
        "admin.LogEntry": 1,
        "axes.AccessAttempt": 1,
        "axes.AccessLog": 1,
        "cache": 1,
        "inbox.InboundMessage": 1,
        "inbox.InboundRawMessage": 1,
        "media.Download": 1,
        "media.Master": 1,
        "export files": 1,
        "mfa.Authenticator": 1,
        "privacy.ConsentRecord": 2,
        "privacy.ConsentConfirmation": 1,
        "privacy.DataExport": 1,
        "privacy.DataKey": 1,
        "privacy.DataSubjectRequest": 1,
        "privacy.Disclosure": 1,
        "privacy.PolicyAcceptance": 1,
        "privacy.ProcessingRestriction": 1,
        "sessions.Session": 1,
        "usersessions.UserSession": 1,
    }
    assert record.categories == sorted(record.categories)
    assert {"user.name", "user.contact.email", "user.social", "user.contact.address"} <= set(
        record.categories
    )
    assert "owner" not in str(record.counts) + str(record.categories)

    # Nobody else lost anything.
    assert rows_of(other.pk, sign_in_keys_of(other)) == other_before


def test_the_erased_account_cannot_sign_in_and_its_profile_answers_410(client, owner):
    public_profile_set(user=owner, published=True, public_fields=["full_name"], indexable=True)
    assert client.get("/u/owner/").status_code == 200
    erase(owner)
    response = client.post("/accounts/login/", {"login": "owner", "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert response.status_code == 200
    gone = client.get("/u/owner/")
    assert gone.status_code == 410
    assert "This profile was deleted" in gone.content.decode()
    assert "Ivan Petrov" not in gone.content.decode()
    assert client.get("/u/OWNER/").status_code == 410
    assert client.get("/u/never-existed/").status_code == 404
    assert client.get(f"/u/{subject_pseudonym(subject_id=owner.pk)}/").status_code == 404


def test_a_new_account_with_the_erased_name_is_not_a_tombstone(client, owner):
    erase(owner)
    assert tombstones.profile_was_erased(username="owner")
    newcomer = UserFactory.create(username="owner")
    assert not tombstones.profile_was_erased(username="owner")
    assert client.get("/u/owner/").status_code == 404  # unpublished: absent, not gone
    public_profile_set(user=newcomer, published=True, public_fields=[], indexable=False)
    assert client.get("/u/owner/").status_code == 200


def test_an_unpublished_profile_also_answers_410_once_erased(client, owner):
    erase(owner)
    assert client.get("/u/owner/").status_code == 410


def test_the_mail_outbox_keeps_only_other_peoples_messages(settings, tmp_path, owner):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    other = make_owner("other")
    # Each connection writes one file (three alive at once, so three names).
    mixed, owners, mention = (get_connection() for _ in range(3))
    for to in ("owner@example.com", "other@example.com", "OWNER@example.com"):
        EmailMessage("Hello", f"Dear {to}", to=[to], connection=mixed).send()
    EmailMessage("Link", "http://x/", to=["owner@example.com"], connection=owners).send()
    EmailMessage("Note", "About owner@example.com", to=["b@example.com"], connection=mention).send()
    assert len(list(Path(settings.EMAIL_FILE_PATH).iterdir())) == 3

    erase(owner)

    files = list(Path(settings.EMAIL_FILE_PATH).iterdir())
    assert len(files) == 1
    text = files[0].read_text()
    assert "other@example.com" in text
    assert "owner@example.com" not in text.lower()
    assert DestructionRecord.objects.get().counts["mail outbox"] == 4
    assert other.is_active


# Job rows name people only through the ids of other rows (an export, an erasure job), the
# erasure itself runs as one, and the retention run deletes them after their period.
# A visitor's cookie choice names no account: no erasure step can find it, its period ends it.
LEFT_TO_THEIR_RETENTION = {
    "django_tasks_database.DBTaskResult",
    # A Redis job between its commit and its push: ids, as in a job row, gone within a minute.
    "core.OutboxJob",
    "privacy.VisitorCookieChoice",
    # A request form waiting for its code names no account; it is gone a day after it was sent.
    "privacy.PendingRequest",
}


def test_every_field_erasure_empties_is_reached_by_a_step():
    # A declared field that erasure should empty is reached through a subject path or by an
    # eraser that names its model; otherwise the map promises what no step does.
    covered = rows.covered_labels(data_map.erasers.values())
    unreached = {
        label
        for label, declaration in data_map.models.items()
        if erasure._erasure_changes(declaration)
        and not declaration.subject
        and label not in covered
    }
    assert unreached == LEFT_TO_THEIR_RETENTION


def test_the_data_map_says_how_to_erase_every_field_it_empties():
    """Erasure.NULL needs a nullable or text column, else the generic step could not run."""
    for declaration in data_map.models.values():
        model = rows.model_of(declaration)
        for name, data in declaration.personal.items():
            if data.erasure in (Erasure.NULL, Erasure.PSEUDONYMIZE):
                erasure.erased_value(model, name, data.erasure, "subject-x")


def test_every_step_is_named_once_and_the_user_row_goes_last():
    names = [step.name for step in erasure.erasure_steps()]
    assert names == STEP_NAMES
    assert len(set(names)) == len(names)


class Killed(Exception):
    """Stands for the worker process dying in the middle of a step."""


def test_a_killed_erasure_run_again_completes_with_the_same_record(owner, recorder, monkeypatch):
    twin = make_owner("twin")
    fill_every_store(owner, Client(), recorder)
    fill_every_store(twin, Client(), recorder)
    calls: list[int] = []

    def dies_once(*, subject: ErasureSubject) -> dict[str, int]:
        calls.append(subject.subject_id)
        if len(calls) == 1:
            # A change made before the death is rolled back with the step.
            User.objects.filter(pk=subject.subject_id).update(email="half-done@example.com")
            raise Killed
        return {}

    monkeypatch.setitem(
        data_map.erasers,
        "test: dies once",
        Handler(name="test: dies once", order=35, run=dies_once),
    )
    job = erasure.erasure_request(subject=owner, reason="privacy center")
    with pytest.raises(Killed):
        erasure.erasure_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ErasureJob.Status.RUNNING
    assert erasure.erasure_completed_steps(job=job) == STEP_NAMES[:5]
    assert User.objects.get(pk=owner.pk).email == "owner@example.com"
    assert DestructionRecord.objects.count() == 0

    # The worker runs the job again: nothing done twice, everything done once.
    assert erase_account.call(job_id=job.pk) == "done"
    job.refresh_from_db()
    assert erasure.erasure_completed_steps(job=job) == [
        *STEP_NAMES[:5],
        "test: dies once",
        *STEP_NAMES[5:],
    ]
    assert erase_account.call(job_id=job.pk) == "done"  # a third run changes nothing
    [interrupted] = DestructionRecord.objects.all()

    twin_job = erasure.erasure_request(subject=twin, reason="privacy center")
    assert erase_account.call(job_id=twin_job.pk) == "done"
    uninterrupted = DestructionRecord.objects.exclude(pk=interrupted.pk).get()
    assert interrupted.counts == uninterrupted.counts
    assert interrupted.categories == uninterrupted.categories
    assert DestructionRecord.objects.count() == 2


def test_stalled_jobs_are_queued_again(owner):
    with clock.frozen_at(NOW):
        job = erasure.erasure_request(subject=owner, reason="privacy center")
    run_queued("erase_account")  # done
    other = make_owner("other")
    with clock.frozen_at(NOW):
        stalled = erasure.erasure_request(subject=other, reason="privacy center")
    DBTaskResult.objects.all().delete()  # the worker died with the job
    with clock.frozen_at(NOW.replace(hour=12, minute=59)):
        assert erasure.erasure_resume_stalled() == 0
    with clock.frozen_at(NOW.replace(hour=13, minute=1)):
        assert erasure.erasure_resume_stalled() == 1
    [task] = queued("erase_account")
    assert task.args_kwargs["kwargs"] == {"job_id": stalled.pk}
    assert job.pk != stalled.pk


def test_session_engine_entries_go_with_the_user_sessions(owner):
    client = Client()
    reauthenticate(client, owner)
    client.get("/account/profile/")
    key = client.session.session_key
    store = import_module(settings.SESSION_ENGINE).SessionStore
    assert store().exists(key)
    erase(owner)
    assert not store().exists(key)
    assert client.get("/privacy/").status_code == 302  # signed out everywhere


def test_no_value_of_the_person_reaches_the_mail_sent_during_erasure(owner):
    mail.outbox.clear()
    erase(owner)
    assert mail.outbox == []


def test_the_generic_step_of_a_model_with_a_delete_field_deletes_the_rows(owner):
    consents.consent_give(subject=owner, purpose=ConsentPurpose.NEWSLETTER, method="form")
    declaration = data_map.models["privacy.ConsentRecord"]
    subject = ErasureSubject(subject_id=owner.pk, pseudonym="subject-x", reason="test")
    assert erasure._erase_declared(declaration, subject=subject) == {"privacy.ConsentRecord": 1}
    assert erasure._erase_declared(declaration, subject=subject) == {}


def test_destruction_records_hold_no_values(owner, recorder):
    fill_every_store(owner, Client(), recorder)
    erase(owner)
    record = DestructionRecord.objects.values().get()
    text = repr(record)
    for value in ("owner", "Ivan", "Petrov", "Vladivostok", "vk.com", "192.0.2"):
        assert value not in text.replace(record["subject_pseudonym"], "")
    assert re.fullmatch(r"subject-[0-9a-f]{24}", record["subject_pseudonym"])


@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(typed=st.text(max_size=300))
def test_any_confirmation_but_the_username_is_refused_without_an_error(typed, client, owner):
    reauthenticate(client, owner)
    response = client.post("/privacy/delete/", {"confirmation": typed})
    if "\x00" in typed:  # refused for the whole request: no row can hold NUL (core/middleware.py)
        assert response.status_code == 400
        assert ErasureJob.objects.count() == 0
        return
    if typed.strip() == "owner":
        assert response.status_code == 302
        ErasureJob.objects.all().delete()
        return
    assert response.status_code == 200
    assert ErasureJob.objects.count() == 0
