"""Moves every data key under the current master key, so the old master key can be retired."""

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from backgroundmusic.privacy.kernel import crypto, keys
from backgroundmusic.privacy.kernel.registry import data_map
from backgroundmusic.privacy.selectors import master_key_ids_in_use

USAGE = 'DATA_MASTER_KEYS="new-id:new-key,old-id:old-key" (keys: 32 bytes, url-safe base64)'


class Command(BaseCommand):
    help = "Re-wrap every data key under the current (first) master key in DATA_MASTER_KEYS"

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            ring = crypto.master_key_ring()
        except ImproperlyConfigured as exc:
            raise CommandError(f"{exc}. Expected {USAGE}.") from exc
        # Checked up front so every missing key is named at once and nothing is half done.
        missing = sorted(master_key_ids_in_use() - set(ring.keys))
        if missing:
            raise CommandError(
                f"Data keys are still wrapped by master key(s) {', '.join(missing)}, missing from "
                f"DATA_MASTER_KEYS. List them after the current key {ring.current_id} ({USAGE}), "
                "run this command again, and remove them only after that."
            )
        try:
            changed = keys.data_keys_rewrap()
        except crypto.CiphertextInvalid as exc:
            raise CommandError(
                "A master key in DATA_MASTER_KEYS has a known id but the wrong value: it does not "
                "open the data keys wrapped under that id. Keys rewrapped before this stop are "
                "already under the current key; fix the value and run this command again."
            ) from exc
        self.stdout.write(f"Rewrapped {changed} data keys under master key {ring.current_id}.")
        for name, handler in sorted(data_map.resealers.items()):
            try:
                resealed = handler.run()
            except ImproperlyConfigured as exc:
                raise CommandError(f"{name}: {exc}. Expected {USAGE}.") from exc
            self.stdout.write(f"Re-sealed {resealed} {name} under master key {ring.current_id}.")
