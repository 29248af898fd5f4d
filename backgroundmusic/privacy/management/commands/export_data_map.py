"""Prints the personal-data map as JSON, for the records of processing and for review."""

import json
from typing import Any

from django.core.management.base import BaseCommand

from backgroundmusic.privacy.selectors import data_map_as_dict


class Command(BaseCommand):
    help = "Print the personal-data map (every model, its personal fields and the rest) as JSON"

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(json.dumps(data_map_as_dict(), indent=2, ensure_ascii=False))
