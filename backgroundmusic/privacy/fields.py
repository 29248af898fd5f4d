"""A text field sealed with its owner's data key (see crypto.py).

Written only through Model.save() / create() / bulk_create(), where the owning instance is known;
QuerySet.update() with a plain value is refused, so plaintext can never reach the database.
Not usable for lookups: each value is sealed with a fresh nonce.
"""

from typing import Any

from django.db import models

from backgroundmusic.privacy import crypto, keys


class SealedValue(str):
    """A value already sealed for storage."""


class EncryptedTextField(models.TextField):
    def __init__(self, *args: Any, key_owner: str = "user", **kwargs: Any) -> None:
        # key_owner: attribute path from the instance to the user whose data key seals the value.
        self.key_owner = key_owner
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["key_owner"] = self.key_owner
        return name, path, args, kwargs

    @property
    def seal_context(self) -> str:
        return f"{self.model._meta.label_lower}.{self.attname}"

    def owner_id(self, instance: models.Model) -> int:
        target: Any = instance
        *path, last = self.key_owner.split(".")
        for part in path:
            target = getattr(target, part)
        return int(getattr(target, f"{last}_id"))

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        value = getattr(model_instance, self.attname)
        if value in (None, ""):
            return value
        key_id, data_key = keys.data_key_for_subject(subject_id=self.owner_id(model_instance))
        return SealedValue(
            crypto.seal(
                str(value), data_key=data_key, data_key_id=key_id, context=self.seal_context
            )
        )

    def get_prep_value(self, value: Any) -> Any:
        if value in (None, "") or isinstance(value, SealedValue):
            return value
        raise ValueError(
            f"{self.seal_context} is encrypted: write it through save(), not update() or lookups"
        )

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if not value:
            return value
        data_key = keys.data_key_open(key_id=crypto.token_key_id(value))
        return crypto.open_sealed(value, data_key=data_key, context=self.seal_context)
