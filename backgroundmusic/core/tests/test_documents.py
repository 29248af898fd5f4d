"""Documents as PDF (core/documents.py): exact text in both languages, embedded fonts, the same
bytes for the same input, no resource from anywhere but the static files, and a QR code that
reads back."""

import base64
import http.server
import io
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pypdfium2
import pytest
import zxingcpp
from django.template import Context, Template
from PIL import Image

from backgroundmusic.core import clock
from backgroundmusic.core.documents import (
    ResourceRefused,
    StaticFilesFetcher,
    document_html,
    document_pdf,
    qr_svg,
)
from backgroundmusic.core.tests.pdf import pdf_fonts, pdf_reader, pdf_text

VERIFY_URL = "https://backgroundmusic.example/verify/AbCdEf123"
SAMPLE = {
    "number": "2026-000042",
    "issued": date(2026, 3, 1),
    "supplier": "ООО «Фоновая музыка»",
    "customer": "Café Zürich GmbH",
    "items": [
        {
            "description": "Venue plan, 3 locations — март 2026",
            "quantity": 3,
            "amount": "4 500,00 ₽",
        }
    ],
    "total": "4 500,00 ₽",
    "verify_url": VERIFY_URL,
}
MOMENT = datetime(2026, 3, 1, 12, 30, 5, 123456, tzinfo=UTC)
SVG = "{http://www.w3.org/2000/svg}"


def sample_pdf(language: str, **changes: object) -> bytes:
    with clock.frozen_at(MOMENT):
        return document_pdf("documents/sample.html", {**SAMPLE, **changes}, language=language)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        (
            "en",
            "Sample document 2026-000042\n"
            "Issued March 1, 2026\n"
            "Supplier ООО «Фоновая музыка»\n"
            "Customer Café Zürich GmbH\n"
            "Items\n"
            "Item Quantity Amount\n"
            "Venue plan, 3 locations — март 2026 3 4 500,00 ₽\n"
            "Total 4 500,00 ₽\n"
            f"Check this document at {VERIFY_URL}\n"
            "BACKGROUND MUSIC\n"
            "Page 1 of 1",
        ),
        (
            "ru",
            "Образец документа 2026-000042\n"
            "Дата выдачи 1 марта 2026 г.\n"
            "Поставщик ООО «Фоновая музыка»\n"
            "Покупатель Café Zürich GmbH\n"
            "Позиции\n"
            "Наименование Количество Сумма\n"
            "Venue plan, 3 locations — март 2026 3 4 500,00 ₽\n"
            "Итого 4 500,00 ₽\n"
            f"Проверить документ: {VERIFY_URL}\n"
            "BACKGROUND MUSIC\n"
            "Страница 1 из 1",
        ),
    ],
)
def test_sample_document_says_exactly_this_in_each_language(language, text):
    pdf = sample_pdf(language)
    assert pdf_text(pdf) == [text]
    reader = pdf_reader(pdf)
    assert reader.metadata == {
        "/Producer": "WeasyPrint 70.0",
        "/Title": text.split("\n")[0],
        "/Creator": "BACKGROUND MUSIC",
        "/CreationDate": "D:20260301123005+00'00",
    }
    assert reader.root_object["/Lang"] == language
    assert [float(side) for side in reader.pages[0].mediabox] == pytest.approx(
        [0, 0, 595.2756, 841.8898]  # A4 in points
    )


def test_the_html_is_the_same_document_in_the_language_asked_for():
    with clock.frozen_at(MOMENT):
        html = document_html("documents/sample.html", SAMPLE, language="ru")
    assert '<html lang="ru">' in html
    assert "<title>Образец документа 2026-000042</title>" in html
    assert '<meta name="dcterms.created" content="2026-03-01T12:30:05+00:00">' in html
    assert '<link rel="stylesheet" href="/static/documents/print.css">' in html
    assert "<td>ООО «Фоновая музыка»</td>" in html


def test_text_is_set_in_dejavu_sans_embedded_in_the_file():
    assert pdf_fonts(sample_pdf("ru")) == {"DejaVu-Sans": True, "DejaVu-Sans-Bold": True}


def test_the_same_input_gives_the_same_bytes():
    assert sample_pdf("ru") == sample_pdf("ru")
    with clock.frozen_at(datetime(2027, 1, 2, 3, 4, 5, tzinfo=UTC)):
        later = document_pdf("documents/sample.html", SAMPLE, language="ru")
    metadata = pdf_reader(later).metadata
    assert metadata is not None
    assert metadata["/CreationDate"] == "D:20270102030405+00'00"


def test_every_page_has_the_header_and_its_number_of_all():
    items = [{"description": f"Line {n}", "quantity": 1, "amount": "1,00 ₽"} for n in range(90)]
    pages = pdf_text(sample_pdf("ru", items=items))
    assert len(pages) == 4
    for number, text in enumerate(pages, start=1):
        assert text.endswith(f"BACKGROUND MUSIC\nСтраница {number} из 4")
    assert sum(text.count("Line ") for text in pages) == 90


def test_the_qr_code_in_the_pdf_reads_back():
    page = pypdfium2.PdfDocument(sample_pdf("en"))[0]
    image = page.render(scale=2).to_pil()
    found = zxingcpp.read_barcodes(image)
    assert [(code.format, code.text) for code in found] == [
        (zxingcpp.BarcodeFormat.QRCode, VERIFY_URL)
    ]


def test_qr_svg_is_one_path_with_no_id_style_or_link():
    svg = qr_svg(VERIFY_URL)
    root = ET.fromstring(svg)  # noqa: S314 (our own output)
    assert root.tag == f"{SVG}svg"
    assert root.attrib == {
        "width": "41mm",  # version 4 (33 modules) and the quiet zone, 1 mm a module
        "height": "41mm",
        "version": "1.1",
        "viewBox": "0 0 41 41",
        "class": "qr-code",
        "shape-rendering": "crispEdges",
        "aria-hidden": "true",
    }
    background, path = list(root)
    assert background.tag == f"{SVG}rect"
    assert background.attrib["fill"] == "white"
    assert path.tag == f"{SVG}path"
    assert set(path.attrib) == {"d", "fill", "fill-opacity", "fill-rule", "stroke"}
    assert "style" not in svg
    assert "href" not in svg
    assert svg == qr_svg(VERIFY_URL)


def test_qr_svg_with_a_label_is_an_image_by_that_name():
    labelled = qr_svg(VERIFY_URL, label='Check "this" <licence> & more')
    root = ET.fromstring(labelled)  # noqa: S314 (our own output)
    assert root.attrib["role"] == "img"
    assert root.attrib["aria-label"] == 'Check "this" <licence> & more'
    assert "aria-hidden" not in root.attrib


def test_qr_code_tag_writes_the_same_svg():
    template = Template('{% load documents %}{% qr_code url label="Verify" %}')
    assert template.render(Context({"url": VERIFY_URL})) == qr_svg(VERIFY_URL, label="Verify")


class Witness(http.server.BaseHTTPRequestHandler):
    """A web server on loopback that answers everything and remembers what it was asked."""

    requests: list[str]

    def do_GET(self) -> None:
        self.requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()
        self.wfile.write(b"body { color: red; }")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def witness() -> Iterator[tuple[str, list[str]]]:
    requests: list[str] = []
    handler = type("RecordingWitness", (Witness,), {"requests": requests})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requests
    finally:
        server.shutdown()
        server.server_close()


def png(size: int = 4) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), "red").save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def document_templates(settings, tmp_path: Path) -> Path:
    """A template folder of the test's own, searched first."""
    folder = tmp_path / "templates"
    (folder / "documents").mkdir(parents=True)
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [folder, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    return folder


def test_nothing_outside_the_static_files_is_fetched_and_the_document_still_renders(
    witness, document_templates, tmp_path, caplog
):
    base, requests = witness
    outside = tmp_path / "outside.png"
    outside.write_bytes(png())
    (document_templates / "documents" / "remote.html").write_text(
        '{% extends "documents/base.html" %}'
        f'{{% block head %}}<link rel="stylesheet" href="{base}/link.css">'
        f"<style>@import url({base}/import.css); "
        f"@font-face {{ font-family: Remote; src: url({base}/font.woff2); }} "
        f"h1 {{ font-family: Remote; background: url({base}/background.png); }}</style>"
        "{% endblock %}"
        "{% block content %}<h1>Remote</h1>"
        f'<p><img src="{base}/picture.png" alt="remote picture"></p>'
        f'<p><img src="{outside.as_uri()}" alt="local file"></p>'
        f'<p><img src="https://documents.invalid/elsewhere.png" alt="not static"></p>'
        "<p>Still here</p>{% endblock %}",
        encoding="utf-8",
    )
    with clock.frozen_at(MOMENT):
        pdf = document_pdf("documents/remote.html", {}, language="en")
    assert requests == []
    # The images' alternative text stands where they would; pypdf reads it after the rest.
    assert pdf_text(pdf) == [
        "Remote\nStill here\nremote picture\nlocal file\nnot static\nBACKGROUND MUSIC\nPage 1 of 1"
    ]
    assert len(pdf_reader(pdf).pages[0].images) == 0
    refused = [r.getMessage() for r in caplog.records if "ResourceRefused" in r.getMessage()]
    assert (
        f"Failed to load image at '{base}/picture.png': ResourceRefused: not a static file: "
        f"{base}/picture.png" in refused
    )


def test_static_files_and_data_uris_are_embedded(settings, document_templates, tmp_path):
    static = tmp_path / "static"
    static.mkdir()
    (static / "seal.png").write_bytes(png(8))
    settings.STATICFILES_DIRS = [*settings.STATICFILES_DIRS, static]
    inline = base64.b64encode(png(6)).decode()
    (document_templates / "documents" / "pictures.html").write_text(
        '{% extends "documents/base.html" %}{% load static %}{% block content %}'
        '<p><img src="{% get_static_prefix %}seal.png" alt="seal"></p>'
        f'<p><img src="data:image/png;base64,{inline}" alt="inline"></p>'
        "{% endblock %}",
        encoding="utf-8",
    )
    pdf = document_pdf("documents/pictures.html", {}, language="en")
    sizes = sorted(image.image.size for image in pdf_reader(pdf).pages[0].images if image.image)
    assert sizes == [(6, 6), (8, 8)]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x.css",
        "https://example.com/static/documents/print.css",
        "file:///etc/hostname",
        "ftp://127.0.0.1/x.png",
        "https://documents.invalid/media/x.png",
        "https://documents.invalid/static/nothing-here.css",
        "https://documents.invalid/static/%2e%2e/%2e%2e/config/settings.py",
        "https://documents.invalid/static/..%2f..%2fsettings.py",
    ],
)
def test_the_fetcher_refuses_anything_but_static_files_and_data(url):
    with pytest.raises(ResourceRefused):
        StaticFilesFetcher().fetch(url)


def test_the_fetcher_serves_a_static_file_and_a_data_uri():
    fetcher = StaticFilesFetcher()
    css = fetcher.fetch("https://documents.invalid/static/documents/print.css")
    assert css.content_type == "text/css"
    source = Path(__file__).resolve().parents[1] / "static" / "documents" / "print.css"
    assert css.read() == source.read_bytes()
    data = fetcher.fetch("data:text/plain;base64,SGVsbG8=")
    assert data.read() == b"Hello"
