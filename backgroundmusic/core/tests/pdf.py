"""Reading generated PDFs back in tests (any app's), so a test can assert exactly what a
document says and how it is made."""

import io
from typing import Any

import pypdf


def pdf_reader(pdf: bytes) -> pypdf.PdfReader:
    return pypdf.PdfReader(io.BytesIO(pdf))


def pdf_text(pdf: bytes) -> list[str]:
    """The text of each page, in page order, as pypdf extracts it."""
    return [page.extract_text() for page in pdf_reader(pdf).pages]


def pdf_fonts(pdf: bytes) -> dict[str, bool]:
    """Each font the pages use, by its PostScript name less the subset tag, and whether the
    font program is embedded in the file."""
    fonts: dict[str, bool] = {}
    for page in pdf_reader(pdf).pages:
        resources: Any = page["/Resources"]
        for reference in resources.get("/Font", {}).values():
            font = reference.get_object()
            described = [part.get_object() for part in font.get("/DescendantFonts", [font])]
            name = str(font["/BaseFont"]).split("+", 1)[-1]
            fonts[name] = all(
                any(
                    key in part["/FontDescriptor"]
                    for key in ("/FontFile", "/FontFile2", "/FontFile3")
                )
                for part in described
            )
    return fonts
