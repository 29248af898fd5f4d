"""Printable documents: a Django template rendered to HTML, and to PDF by WeasyPrint.

Templates extend `documents/base.html` (the print stylesheet `documents/print.css`: A4, margins,
the service's name at the top of every page, DejaVu Sans, which holds Latin and Cyrillic and is
embedded in the PDF as a subset). `document_html` gives the text a browser shows,
`document_pdf` the same text as a PDF, both in the language asked for.

Rendering reaches no network and no file outside the static files: WeasyPrint asks
`StaticFilesFetcher` for every stylesheet, image and font the document names, and it answers
only `data:` URIs and the project's static files, found by the staticfiles finders; anything
else is refused and the document renders without it. Templates name a static file as
`{% get_static_prefix %}path`, not `{% static %}`: outside DEBUG `{% static %}` asks the
manifest of collected files for a hashed name, and a task worker renders documents whether or
not collectstatic ran on its machine. Fonts come from fontconfig (Debian's fonts-dejavu-core,
`make pdf-deps`).

The PDF is the same bytes for the same template, context, language and time: its creation
date is core.clock's now, its title the template's <title>, its language the one asked for,
and it carries no random identifier (decision 0018).
"""

import mimetypes
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from backgroundmusic.core import clock

# The address documents are rendered at. ".invalid" never resolves (RFC 2606), and the fetcher
# serves only the static files under it: a root-relative URL (what {% get_static_prefix %}
# writes) has a base to resolve against and nowhere to go but the static files.
DOCUMENT_BASE_URL = "https://documents.invalid/"


class ResourceRefused(ValueError):
    """A document named a resource that is neither a static file nor a data: URI."""


def _static_file(url: str) -> str | None:
    """The path of the static file `url` names, or None."""
    prefix = urljoin(DOCUMENT_BASE_URL, settings.STATIC_URL)
    if not url.startswith(prefix):
        return None
    name = unquote(urlsplit(url[len(prefix) :]).path)
    try:
        found = finders.find(name)
    except SuspiciousFileOperation:  # "../" out of a static folder
        return None
    return found if isinstance(found, str) else None


class StaticFilesFetcher(URLFetcher):
    """WeasyPrint's fetcher for documents: data: URIs and static files, nothing else."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols=("data",), allow_redirects=False)

    def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> URLFetcherResponse:
        if url.startswith("data:"):
            return super().fetch(url, headers)
        path = _static_file(url)
        if path is None:
            raise ResourceRefused(f"not a static file: {url}")
        with open(path, "rb") as source:
            body = source.read()
        content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body, {"Content-Type": content_type})


def _css_string(text: str) -> str:
    """`text` as a CSS string literal (CSS Syntax 3 §4.3.5: anything may be hex-escaped)."""
    return (
        '"'
        + "".join(ch if ch.isalnum() or ch in " .,:-" else f"\\{ord(ch):x} " for ch in text)
        + '"'
    )


def _page_number_css() -> str:
    """The footer "Page X of Y" in the active language, as a margin box of every page. Built here
    because the words are translated and the numbers are CSS counters."""
    marker = "\x00"
    text = gettext("Page %(number)s of %(total)s") % {"number": marker, "total": marker}
    before, between, after = text.split(marker)
    content = (
        f"{_css_string(before)} counter(page) {_css_string(between)} counter(pages) "
        f"{_css_string(after)}"
    )
    return f"@page {{ @bottom-right {{ content: {content}; }} }}"


def document_html(template_name: str, context: Mapping[str, Any], *, language: str) -> str:
    """The document as HTML in `language`; the context also gets `document_created` (the
    ISO 8601 time from core.clock, to the second) and `service_name`."""
    with translation.override(language):
        return render_to_string(
            template_name,
            {
                **context,
                "document_created": clock.now().replace(microsecond=0).isoformat(),
                "service_name": settings.SERVICE_NAME,
            },
        )


def document_pdf(template_name: str, context: Mapping[str, Any], *, language: str) -> bytes:
    """The document as a PDF in `language`."""
    html = document_html(template_name, context, language=language)
    fetcher = StaticFilesFetcher()
    with translation.override(language):
        page_numbers = CSS(string=_page_number_css(), url_fetcher=fetcher)
    document = HTML(string=html, base_url=DOCUMENT_BASE_URL, url_fetcher=fetcher)
    pdf = document.write_pdf(stylesheets=[page_numbers])
    assert pdf is not None  # write_pdf returns the bytes when given no target
    return pdf


def qr_svg(data: str, *, label: str | None = None) -> SafeString:
    """A QR code of `data` as an inline <svg> element, for HTML pages and PDFs alike.

    One <path> on a white square with the standard quiet zone, 1 mm a module (a 30-character
    URL is about 3.7 cm across; CSS may size it otherwise), no id, no style attribute (our CSP
    allows none) and nothing fetched. With `label` it is an image by that name for screen
    readers; without, it is hidden from them (say what it leads to in the text beside it).
    """
    code = qrcode.QRCode(image_factory=qrcode.image.svg.SvgPathFillImage)
    code.add_data(data)
    image = code.make_image()
    svg = image.get_image()
    assert image.path is not None  # made by make_image
    del image.path.attrib["id"]
    svg.set("class", "qr-code")
    svg.set("shape-rendering", "crispEdges")
    if label is None:
        svg.set("aria-hidden", "true")
    else:
        svg.set("role", "img")
        svg.set("aria-label", label)
    # ElementTree escapes the label; the rest is ours.
    return mark_safe(image.to_string(encoding="unicode"))  # noqa: S308
