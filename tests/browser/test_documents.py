"""A document's HTML as a browser shows it: the inline QR code reads back from the screen."""

import io

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Page

from backgroundmusic.core.documents import document_html
from backgroundmusic.core.tests.test_documents import SAMPLE, VERIFY_URL

pytestmark = pytest.mark.browser


def test_the_qr_code_of_a_document_page_reads_back_from_a_phone_screen(page: Page) -> None:
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.set_viewport_size({"width": 390, "height": 844})
    page.set_content(document_html("documents/sample.html", SAMPLE, language="ru"))
    shot = page.locator("svg.qr-code").screenshot()
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)))
    assert [(code.format, code.text) for code in found] == [
        (zxingcpp.BarcodeFormat.QRCode, VERIFY_URL)
    ]
    assert requests == []  # set_content has no base, so the stylesheet link goes nowhere
