"""Envelope encryption of personal fields (DESIGN.md §4).

Each person has a random 256-bit data key; the data key is stored wrapped (AES-GCM) by a
master key that lives only in the environment. Field values are sealed with the data key.
Destroying the data key leaves every copy of the sealed values (database, dumps, backups)
unreadable.
"""

import base64
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

NONCE_BYTES = 12
TOKEN_PREFIX = "enc1"  # noqa: S105 - a format marker, not a secret


class DataKeyDestroyed(Exception):
    """The data key a value was sealed with no longer exists: the value cannot be read."""


class CiphertextInvalid(Exception):
    """A sealed value or wrapped key failed authentication: altered, or sealed under another key."""


@dataclass(frozen=True)
class MasterKeyRing:
    current_id: str
    keys: dict[str, bytes]

    @classmethod
    def from_setting(cls, value: str) -> "MasterKeyRing":
        keys: dict[str, bytes] = {}
        order: list[str] = []
        for item in filter(None, (part.strip() for part in value.split(","))):
            key_id, _, encoded = item.partition(":")
            try:
                raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
            except ValueError as exc:
                raise ImproperlyConfigured(
                    f"DATA_MASTER_KEYS: key {key_id!r} is not base64"
                ) from exc
            if not key_id or len(raw) != 32:
                raise ImproperlyConfigured(
                    f"DATA_MASTER_KEYS: key {key_id!r} must be 'id:base64' of 32 bytes"
                )
            keys[key_id] = raw
            order.append(key_id)
        if not order:
            raise ImproperlyConfigured("DATA_MASTER_KEYS holds no key")
        return cls(current_id=order[0], keys=keys)


def master_key_ring() -> MasterKeyRing:
    return MasterKeyRing.from_setting(settings.DATA_MASTER_KEYS)


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def wrap_data_key(data_key: bytes, *, key_owner: str) -> tuple[str, bytes]:
    ring = master_key_ring()
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(ring.keys[ring.current_id]).encrypt(nonce, data_key, key_owner.encode())
    return ring.current_id, nonce + sealed


def unwrap_data_key(master_key_id: str, wrapped: bytes, *, key_owner: str) -> bytes:
    ring = master_key_ring()
    if master_key_id not in ring.keys:
        raise ImproperlyConfigured(f"master key {master_key_id!r} is not in DATA_MASTER_KEYS")
    try:
        return AESGCM(ring.keys[master_key_id]).decrypt(
            wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], key_owner.encode()
        )
    except InvalidTag as exc:
        raise CiphertextInvalid("wrapped data key failed authentication") from exc


def seal(plaintext: str, *, data_key: bytes, data_key_id: int, context: str) -> str:
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(data_key).encrypt(
        nonce, plaintext.encode(), f"{data_key_id}:{context}".encode()
    )
    body = base64.urlsafe_b64encode(nonce + sealed).decode()
    return f"{TOKEN_PREFIX}:{data_key_id}:{body}"


def token_key_id(token: str) -> int:
    prefix, key_id, _ = token.split(":", 2)
    if prefix != TOKEN_PREFIX:
        raise CiphertextInvalid("not a sealed value")
    return int(key_id)


def open_sealed(token: str, *, data_key: bytes, context: str) -> str:
    key_id = token_key_id(token)
    raw = base64.urlsafe_b64decode(token.split(":", 2)[2])
    try:
        plain = AESGCM(data_key).decrypt(
            raw[:NONCE_BYTES], raw[NONCE_BYTES:], f"{key_id}:{context}".encode()
        )
    except InvalidTag as exc:
        raise CiphertextInvalid("sealed value failed authentication") from exc
    return plain.decode()


MASTER_TOKEN_PREFIX = "mk1"  # noqa: S105 - a format marker, not a secret


def seal_with_master(plaintext: str, *, context: str) -> str:
    """Seals a secret that belongs to no one person's data key (e.g. a TOTP seed) under the
    current master key; the token names the master key so rotation can find and re-seal it."""
    ring = master_key_ring()
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(ring.keys[ring.current_id]).encrypt(
        nonce, plaintext.encode(), f"master:{context}".encode()
    )
    body = base64.urlsafe_b64encode(nonce + sealed).decode()
    return f"{MASTER_TOKEN_PREFIX}:{ring.current_id}:{body}"


def master_token_key_id(token: str) -> str:
    prefix, key_id, _ = token.split(":", 2)
    if prefix != MASTER_TOKEN_PREFIX:
        raise CiphertextInvalid("not a master-sealed value")
    return key_id


def open_with_master(token: str, *, context: str) -> str:
    key_id = master_token_key_id(token)
    ring = master_key_ring()
    if key_id not in ring.keys:
        raise ImproperlyConfigured(f"master key {key_id!r} is not in DATA_MASTER_KEYS")
    raw = base64.urlsafe_b64decode(token.split(":", 2)[2])
    try:
        plain = AESGCM(ring.keys[key_id]).decrypt(
            raw[:NONCE_BYTES], raw[NONCE_BYTES:], f"master:{context}".encode()
        )
    except InvalidTag as exc:
        raise CiphertextInvalid("master-sealed value failed authentication") from exc
    return plain.decode()
