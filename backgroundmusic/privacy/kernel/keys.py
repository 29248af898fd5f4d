"""Services over per-person data keys: create, open (with a per-request cache), destroy, rewrap.

The keys live in the key store (settings.KEYS_DB_ALIAS, kernel/routers.py), a database of their
own whose transactions are not the main database's. A key is created at once, even while the main
database's transaction that needs it may still roll back: the key left behind names only a user
id and seals nothing, and the person (or whoever gets that id) uses it next time, so it is
harmless. A key is destroyed at once and for good, whatever the main database does next: erasure
must not depend on a later commit.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import IntegrityError, transaction

from backgroundmusic.core import clock
from backgroundmusic.privacy.kernel import crypto
from backgroundmusic.privacy.kernel.models import DataKey

# key id -> (id of the person the key belongs to, plain key)
_open_keys: ContextVar[dict[int, tuple[int, bytes]] | None] = ContextVar(
    "open_data_keys", default=None
)


@contextmanager
def data_key_cache_scope() -> Iterator[None]:
    """Keeps unwrapped keys for the length of one request or task, never longer."""
    token = _open_keys.set({})
    try:
        yield
    finally:
        _open_keys.reset(token)


def _owner_context(subject_id: int) -> str:
    return f"data-key:{subject_id}"


def data_key_for_subject(*, subject_id: int) -> tuple[int, bytes]:
    """The subject's data key (id, plain bytes), created on first use."""
    key = DataKey.objects.filter(subject_id=subject_id).first()
    if key is None:
        plain = crypto.new_data_key()
        master_id, wrapped = crypto.wrap_data_key(plain, key_owner=_owner_context(subject_id))
        try:
            with transaction.atomic(using=settings.KEYS_DB_ALIAS):
                key = DataKey.objects.create(
                    subject_id=subject_id, master_key_id=master_id, wrapped_key=wrapped
                )
        except IntegrityError:
            # Another process made the key first: use that one.
            key = DataKey.objects.get(subject_id=subject_id)
            return key.pk, data_key_open(key_id=key.pk)
        _remember(key.pk, subject_id, plain)
        return key.pk, plain
    return key.pk, data_key_open(key_id=key.pk)


def data_key_open(*, key_id: int) -> bytes:
    return data_key_open_with_owner(key_id=key_id)[1]


def data_key_open_with_owner(*, key_id: int) -> tuple[int, bytes]:
    """(id of the person the key belongs to, plain key)."""
    cache = _open_keys.get()
    if cache is not None and key_id in cache:
        return cache[key_id]
    key = DataKey.objects.filter(pk=key_id).first()
    if key is None:
        raise crypto.DataKeyDestroyed(f"data key #{key_id} was destroyed")
    plain = crypto.unwrap_data_key(
        key.master_key_id, bytes(key.wrapped_key), key_owner=_owner_context(key.subject_id)
    )
    _remember(key_id, key.subject_id, plain)
    return key.subject_id, plain


def _remember(key_id: int, subject_id: int, plain: bytes) -> None:
    cache = _open_keys.get()
    if cache is not None:
        cache[key_id] = (subject_id, plain)


def data_key_destroy(*, subject_id: int) -> int:
    """Deletes the subject's data key; returns how many keys were deleted (0 or 1)."""
    cache = _open_keys.get()
    ids = list(DataKey.objects.filter(subject_id=subject_id).values_list("pk", flat=True))
    if cache is not None:
        for key_id in ids:
            cache.pop(key_id, None)
    with transaction.atomic(using=settings.KEYS_DB_ALIAS):
        deleted, _ = DataKey.objects.filter(pk__in=ids).delete()
    return deleted


def data_keys_rewrap(*, batch_size: int = 500) -> int:
    """Re-wraps every data key not yet under the current master key; returns how many changed.

    Field values stay as they are: only the small wrapped keys change, so rotation is cheap and
    can be interrupted and run again.
    """
    ring = crypto.master_key_ring()
    changed = 0
    while True:
        with transaction.atomic(using=settings.KEYS_DB_ALIAS):
            batch = list(
                DataKey.objects.select_for_update()
                .exclude(master_key_id=ring.current_id)
                .order_by("pk")[:batch_size]
            )
            if not batch:
                return changed
            for key in batch:
                owner = _owner_context(key.subject_id)
                plain = crypto.unwrap_data_key(
                    key.master_key_id, bytes(key.wrapped_key), key_owner=owner
                )
                key.master_key_id, key.wrapped_key = crypto.wrap_data_key(plain, key_owner=owner)
                key.rewrapped_at = clock.now()
            DataKey.objects.bulk_update(batch, ["master_key_id", "wrapped_key", "rewrapped_at"])
            changed += len(batch)
