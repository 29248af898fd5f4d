"""Keeps the key store's tables (data keys, erasure ledger) in their own database alias
(settings.KEYS_DB_ALIAS), and nothing else there (decision 0036).

Models are recognised by their table, not their name: the first migration created the data keys
in the main database as privacy_datakey, and that historical model must still migrate there
(to be moved out and dropped by migration 0012); only the key store's tables go to the alias.
"""

from typing import Any

from django.conf import settings
from django.db.models import Model

KEY_STORE_TABLES = frozenset({"keystore_datakey", "keystore_erasureledgerentry"})


def is_key_store_model(model: type[Model]) -> bool:
    return model._meta.db_table in KEY_STORE_TABLES


class KeyStoreRouter:
    def _alias(self, model: type[Model]) -> str | None:
        return str(settings.KEYS_DB_ALIAS) if is_key_store_model(model) else None

    def db_for_read(self, model: type[Model], **hints: Any) -> str | None:
        return self._alias(model)

    def db_for_write(self, model: type[Model], **hints: Any) -> str | None:
        return self._alias(model)

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool | None:
        return None

    def allow_migrate(
        self, db: str, app_label: str, model_name: str | None = None, **hints: Any
    ) -> bool | None:
        model = hints.get("model")
        if model is not None and is_key_store_model(model):
            return db == settings.KEYS_DB_ALIAS
        if db == settings.KEYS_DB_ALIAS:
            return False
        return None
