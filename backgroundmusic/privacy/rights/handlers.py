"""The privacy app's own erasers and exporters (registered in privacy/privacy.py)."""

import email
import email.policy
import os
import tempfile
from email.utils import getaddresses
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import models

from backgroundmusic.core.sms import SmsMessage, sms_file_messages
from backgroundmusic.privacy.kernel import keys, tombstones
from backgroundmusic.privacy.kernel.registry import Category, ErasureSubject, data_map
from backgroundmusic.privacy.rights.export import exports_destroy
from backgroundmusic.privacy.rights.rows import person_model, subject_values


def erase_tombstone(*, subject: ErasureSubject) -> dict[str, int]:
    """Remembers a keyed digest of the username, so /u/<username>/ answers 410 Gone."""
    user_model = person_model()
    username = (
        user_model._default_manager.filter(pk=subject.subject_id)
        .values_list(user_model.USERNAME_FIELD, flat=True)
        .first()
    )
    if username and username != subject.pseudonym:
        tombstones.profile_tombstone_record(username=username)
    return {}


_MAIL_SEPARATOR = b"-" * 79 + b"\n"


def _mail_mentions(message: bytes, addresses: set[str]) -> bool:
    parsed = email.message_from_bytes(message, policy=email.policy.default)
    headers = [str(value) for name in ("To", "Cc", "Bcc") for value in parsed.get_all(name, [])]
    if {address.lower() for _name, address in getaddresses(headers)} & addresses:
        return True
    texts = [message.decode("utf-8", "replace")]
    for part in parsed.walk():
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            texts.append(payload.decode("utf-8", "replace"))
    lowered = "\n".join(texts).lower()
    return any(address in lowered for address in addresses)


def erase_mail_outbox(*, subject: ErasureSubject) -> dict[str, int]:
    """Removes the messages to or about the person's e-mail addresses from the files Django's
    file e-mail backend writes (the embedded default: var/mail/). Messages already handed to an
    SMTP server are beyond reach (docs/decisions/0005-erasure.md)."""
    backend = str(getattr(settings, "EMAIL_BACKEND", ""))
    directory = getattr(settings, "EMAIL_FILE_PATH", None)
    if not backend.endswith("filebased.EmailBackend") or not directory:
        return {}
    addresses = {
        value.lower()
        for value in subject_values(subject_id=subject.subject_id, category=Category.CONTACT_EMAIL)
    }
    path = Path(directory)
    if not addresses or not path.is_dir():
        return {}
    removed = 0
    for mail_file in sorted(p for p in path.iterdir() if p.is_file()):
        content = mail_file.read_bytes()
        messages = [m for m in content.split(_MAIL_SEPARATOR) if m.strip()]
        kept = [m for m in messages if not _mail_mentions(m, addresses)]
        if len(kept) == len(messages):
            continue
        removed += len(messages) - len(kept)
        if not kept:
            mail_file.unlink(missing_ok=True)
            continue
        with tempfile.NamedTemporaryFile(dir=path, delete=False) as rewritten:
            rewritten.write(b"".join(m + _MAIL_SEPARATOR for m in kept))
        os.replace(rewritten.name, mail_file)
    return {"mail outbox": removed} if removed else {}


def erase_sms_outbox(*, subject: ErasureSubject) -> dict[str, int]:
    """Removes the text messages to or about the person's contact phone from the files the file
    SMS backend writes (var/sms/), whichever backend is configured now. Messages handed to a
    provider are beyond reach, like mail handed to an SMTP server."""
    phones = subject_values(subject_id=subject.subject_id, category=Category.CONTACT_PHONE)
    if not phones:
        return {}
    removed = 0
    for path, message in sms_file_messages():
        if sms_is_about(message, phones):
            path.unlink(missing_ok=True)
            removed += 1
    return {"sms outbox": removed} if removed else {}


def sms_is_about(message: SmsMessage, phones: set[str]) -> bool:
    """Whether a text message went to, or names, one of these phone numbers."""
    return message.to in phones or any(phone in message.body for phone in phones)


def erase_exports(*, subject: ErasureSubject) -> dict[str, int]:
    return exports_destroy(subject_id=subject.subject_id)


def erase_cached_values(*, subject: ErasureSubject) -> dict[str, int]:
    """Deletes the cache keys apps register as holding the person's values."""
    names = [
        str(key)
        for handler in data_map.cache_keys.values()
        for key in handler.run(subject_id=subject.subject_id)
    ]
    if not names:
        return {}
    present = len(cache.get_many(names))
    cache.delete_many(names)
    return {"cache": present} if present else {}


def erase_data_key(*, subject: ErasureSubject) -> dict[str, int]:
    """After this, every sealed copy of the person's values (backups included) is unreadable."""
    destroyed = keys.data_key_destroy(subject_id=subject.subject_id)
    return {"privacy.DataKey": destroyed} if destroyed else {}


def export_staff_access_log(*, subject_id: int) -> dict[str, list[models.Model]]:
    """Staff readings of the person's data (found by plain id, the log keeps no foreign key)."""
    from backgroundmusic.privacy.kernel.models import StaffAccessLogEntry

    return {
        "privacy.StaffAccessLogEntry": list(
            StaffAccessLogEntry.objects.filter(subject_id=subject_id).order_by("pk")
        )
    }


def export_disclosures(*, subject_id: int) -> dict[str, list[models.Model]]:
    """Disclosures about the person, except those a legal hold keeps from them for now."""
    from backgroundmusic.privacy.disclosures import disclosures_visible_to

    person = person_model()._default_manager.filter(pk=subject_id).first()
    if person is None:
        return {}
    return {"privacy.Disclosure": list(disclosures_visible_to(subject=person).order_by("pk"))}
