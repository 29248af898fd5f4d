"""Prints the personal-data map as JSON: the map itself (`--format map`, the default), or the
records of processing built from it (`--format json`, privacy/processing.py)."""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import translation

from backgroundmusic.privacy.processing import records_export
from backgroundmusic.privacy.selectors import data_map_as_dict

# The committed snapshot of the records of processing, checked for drift by the test suite.
SNAPSHOT = "docs/records-of-processing.json"
REGENERATE = f"manage.py export_data_map --format json --output {SNAPSHOT}"


def records_json(*, language: str = "en") -> str:
    with translation.override(language):
        return json.dumps(records_export(language=language), indent=2, ensure_ascii=False) + "\n"


class Command(BaseCommand):
    help = (
        "Print the personal-data map as JSON (--format map), or the records of processing "
        "built from it (--format json)"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=["map", "json"], default="map")
        parser.add_argument("--language", choices=["en", "ru"], default="en")
        parser.add_argument("--output", help="write to this file instead of the standard output")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["format"] == "json":
            text = records_json(language=options["language"])
        else:
            text = json.dumps(data_map_as_dict(), indent=2, ensure_ascii=False) + "\n"
        if options["output"]:
            Path(options["output"]).write_text(text, encoding="utf-8")
        else:
            self.stdout.write(text, ending="")
