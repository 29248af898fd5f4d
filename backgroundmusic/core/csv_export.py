"""The one CSV writer of the project: every CSV we produce is written through CsvWriter.

A spreadsheet opening a CSV takes a cell that begins with "=", "+", "-" or "@" (or a tab or
carriage return before one) for a formula, and a formula can run commands or send the sheet's
contents away (`=hyperlink(...)`). The writer therefore prefixes every such cell with a single
quote, as OWASP advises against CSV injection: "=1+2" is written '=1+2 and shown as text. It
applies to every cell's text, numbers included (-1 is written '-1), since a rule with
exceptions is a rule someone finds a way around. Other cells are written unchanged.

Lines end in CRLF (RFC 4180), so the csv module quotes any cell holding a carriage return or a
line feed and no cell can break a line of its own.
"""

import csv
from collections.abc import Iterable
from typing import Any, Protocol

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class TextSink(Protocol):
    def write(self, text: str, /) -> Any: ...


def neutralised(cell: Any) -> str:
    """The cell's text as it is written: "" for None, quoted away from a formula if needed."""
    text = "" if cell is None else str(cell)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


class CsvWriter:
    """csv.writer (comma, minimal quoting, CRLF line ends) that neutralises formula cells."""

    def __init__(self, sink: TextSink) -> None:
        self._writer = csv.writer(sink, lineterminator="\r\n")

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([neutralised(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)
