"""A text field sealed with its owner's data key (see crypto.py).

Written only through Model.save() / create() / bulk_create(), where the owning instance is known;
QuerySet.update() with a plain value is refused, so plaintext can never reach the database.
Not usable for lookups: each value is sealed with a fresh nonce.
"""

from typing import Any

from django.db import models
from django.db.models.query_utils import DeferredAttribute

from backgroundmusic.privacy.kernel import crypto, keys


class SealedValue(str):
    """A value already sealed for storage."""


class OpenedValue(str):
    """A value opened on load, not yet checked against the row it was read from."""

    sealed_for: int


class SealedAttribute(DeferredAttribute):
    """On first read, checks that the value was sealed with this row owner's data key.

    The token names its key and the seal binds the field, but not the row: without this check a
    value copied into another person's row would open there (and leave in their export).
    """

    field: "EncryptedTextField"

    def __get__(self, instance: Any, cls: Any = None) -> Any:
        if instance is None:
            return self
        value = super().__get__(instance, cls)
        if isinstance(value, OpenedValue):
            if value.sealed_for != self.field.owner_id(instance):
                raise crypto.CiphertextInvalid(
                    f"{self.field.seal_context} was sealed for another person"
                )
            value = instance.__dict__[self.field.attname] = str(value)
        return value

    def __set__(self, instance: Any, value: Any) -> None:
        instance.__dict__[self.field.attname] = value


class EncryptedTextField(models.TextField):
    descriptor_class = SealedAttribute

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
        subject_id, data_key = keys.data_key_open_with_owner(key_id=crypto.token_key_id(value))
        opened = OpenedValue(
            crypto.open_sealed(value, data_key=data_key, context=self.seal_context)
        )
        opened.sealed_for = subject_id
        return opened
