"""The one CSV writer: formula cells neutralised, other cells untouched, and no other writer."""

import ast
import io
from pathlib import Path

import pytest
from django.http import HttpResponse

from backgroundmusic.core.csv_export import CsvWriter

ROOT = Path(__file__).resolve().parents[3]


def written(*rows: list) -> str:
    out = io.StringIO()
    CsvWriter(out).writerows(rows)
    return out.getvalue()


@pytest.mark.parametrize(
    ("cell", "line"),
    [
        ('=hyperlink("http://x","y")', '"\'=hyperlink(""http://x"",""y"")"\r\n'),
        ("=1+2", "'=1+2\r\n"),
        ("+1", "'+1\r\n"),
        ("-1", "'-1\r\n"),
        ("@SUM(A1)", "'@SUM(A1)\r\n"),
        ("\tx", "'\tx\r\n"),
        ("\rx", '"\'\rx"\r\n'),
        (-1, "'-1\r\n"),  # numbers too: the rule is about the text a spreadsheet reads
        ("=", "'=\r\n"),
    ],
)
def test_a_cell_a_spreadsheet_would_run_is_written_as_text(cell, line):
    assert written([cell]) == line


@pytest.mark.parametrize(
    ("cell", "line"),
    [
        ("/catalog/", "/catalog/\r\n"),
        ("ya.ru", "ya.ru\r\n"),
        ("a=b", "a=b\r\n"),
        ("x-1", "x-1\r\n"),
        ("mail@example.com", "mail@example.com\r\n"),
        (" =1", " =1\r\n"),
        ("", '""\r\n'),  # csv's way of telling an empty cell from an empty row
        (None, '""\r\n'),
        ("a\nb", '"a\nb"\r\n'),
        (42, "42\r\n"),
        (0.5, "0.5\r\n"),
        ("it's", "it's\r\n"),
        ("a,b", '"a,b"\r\n'),
        ("Ёлка", "Ёлка\r\n"),
    ],
)
def test_other_cells_are_written_unchanged(cell, line):
    assert written([cell]) == line


def test_rows_are_comma_separated_lines_ending_in_crlf():
    out = io.StringIO()
    CsvWriter(out).writerows([["table", "row", 1], ["page", "-x", None]])
    assert out.getvalue() == "table,row,1\r\npage,'-x,\r\n"


def test_it_writes_into_a_response():
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    CsvWriter(response).writerow(["@a", "b"])
    assert response.content == b"'@a,b\r\n"


def csv_writers_outside_the_one_module() -> list[str]:
    """Modules of the project that make a CSV writer of their own (csv.writer, csv.DictWriter,
    `from csv import writer`)."""
    found = []
    for folder in ("backgroundmusic", "config", "bench"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative == "backgroundmusic/core/csv_export.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Attribute)
                    and isinstance(node.value, ast.Name)
                    and node.value.id == "csv"
                    and node.attr in ("writer", "DictWriter")
                ) or (
                    isinstance(node, ast.ImportFrom)
                    and node.module == "csv"
                    and any(alias.name in ("writer", "DictWriter") for alias in node.names)
                ):
                    found.append(f"{relative}:{node.lineno}")
    return found


def test_every_csv_the_project_produces_goes_through_the_one_writer():
    assert csv_writers_outside_the_one_module() == []
