"""Documents benchmark: PDFs/s of one-page documents through core.documents, next to WeasyPrint
alone on the same HTML, in one process.

Run by `make bench` (or `.venv/bin/python bench/documents.py`). For each document in DOCUMENTS:

- ours:   `document_pdf(template, context, language=…)` as a service calls it: the Django
          template in the document's language, the QR code, the static-files-only fetcher, the
          stylesheet read through it, the translated page numbers, the PDF;
- anchor: WeasyPrint alone, writing the PDF of the HTML that path produced (rendered once
          beforehand) with the same stylesheets given as strings: no template, no
          translation, no fetch. What the library costs by itself; the ratio is our share.

Each is run for SECONDS seconds, the anchor before and after ours (the machine's other load
moves; the ratio is taken to the mean of the two). Prints PDFs/s, PDFs per CPU second of this
process (steadier than wall time when other work shares the cores), p50 and p99 per document
and the ratios ours / anchor. WeasyPrint subsets fonts with HarfBuzz when Debian's
libharfbuzz-subset0 is there (`make pdf-deps`) and with fontTools, about 5 times slower, when it
is not; the run says which.

Licensing adds its certificate (certificate_documents) and its invoice (invoice_documents) to
DOCUMENTS, each in English and Russian.

Environment: BENCH_SECONDS (5).
"""

import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
MOMENT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
# A document's stylesheet links, each to a static file (core.documents fetches only those).
LINK = re.compile(r'<link rel="stylesheet" href="/static/([^"]+)">')
PAGE_NUMBERS = '@page { @bottom-right { content: "Page " counter(page) " of " counter(pages); } }'

SAMPLE = {
    "number": "2026-000042",
    "issued": date(2026, 3, 1),
    "supplier": "ООО «Фоновая музыка», ИНН 7700000000",
    "customer": "Café Zürich GmbH, Bahnhofstrasse 1, 8001 Zürich",
    "items": [
        {
            "description": "Venue plan, 3 locations — март 2026",
            "quantity": 3,
            "amount": "4 500,00 ₽",
        },
        {"description": "НДС 20 %", "quantity": 1, "amount": "900,00 ₽"},
    ],
    "total": "5 400,00 ₽",
    "verify_url": "https://backgroundmusic.example/verify/3kTq9VxZr2LmYp8WbN4c",
}

# (label, template, context, language)
DOCUMENTS: list[tuple[str, str, dict[str, Any], str]] = [
    ("sample, en", "documents/sample.html", SAMPLE, "en"),
    ("sample, ru", "documents/sample.html", SAMPLE, "ru"),
]


def certificate_documents() -> list[tuple[str, str, dict[str, Any], str]]:
    """Licensing's certificate, as licensing.certificates.certificate_pdf renders it: the facts a
    certificate states (made here, as its page would read them) and the QR code of its /verify/
    address. Called after django.setup()."""
    from backgroundmusic.licensing.certificates import CertificateFacts

    def facts(language: str) -> CertificateFacts:
        russian = language == "ru"
        return CertificateFacts(
            public_id="3kTq9VxZr2LmYp8WbN4c0A",
            number="BM-2026-000123",
            status="active",
            status_label="Действует" if russian else "Active",
            starts_at=MOMENT,
            paid_until=datetime(2026, 4, 1, 12, 0, tzinfo=UTC),
            ended_at=None,
            catalogue=True,
            track_title="",
            track_code="",
            plan_title="Подписка для авторов" if russian else "Creator subscription",
            uses=(
                ["Видео на собственных каналах лицензиата", "Подкасты на собственных каналах"]
                if russian
                else ["Online videos on the licensee's own channels", "Podcasts"]
            ),
            territory="Весь мир" if russian else "Worldwide",
            term="Ежемесячная подписка" if russian else "Monthly subscription",
            monthly=True,
            licensee="Café Zürich GmbH",
            verify_url="https://backgroundmusic.example/verify/3kTq9VxZr2LmYp8WbN4c0A/",
        )

    return [
        (
            f"certificate, {language}",
            "licensing/certificate_document.html",
            {"facts": facts(language), "checked_at": MOMENT},
            language,
        )
        for language in ("en", "ru")
    ]


def invoice_documents() -> list[tuple[str, str, dict[str, Any], str]]:
    """Licensing's invoice, as licensing.invoices.invoice_pdf renders it: a company's order of
    three lines (venue plan for 3 locations, creator subscription, a single-track licence for a
    project), in unsaved rows, through the same context builders (InvoiceLine, operator_details,
    invoice_number, payment_reference, money_display); only the one query that loads the lines
    is left out. Called after django.setup()."""
    from decimal import Decimal

    from backgroundmusic.licensing.invoices import (
        INVOICE_TEMPLATE,
        InvoiceLine,
        invoice_number,
        operator_details,
        payment_reference,
    )
    from backgroundmusic.licensing.models import Invoice, Order
    from backgroundmusic.licensing.money import money_display

    order = Order(
        public_id="k3TqVxZr2LmYp8WbN4c0Aw",
        buyer_kind="legal",
        buyer_name="Anna Petrova",
        company_name="ООО «Кафе Арома»",
        tax_id="7707083893",
        tax_registration_code="770701001",
        buyer_address="125009, Россия, Москва, Тверская ул., д. 1",
        currency="RUB",
        net_total=Decimal("10470.00"),
        vat_total=Decimal("2094.00"),
        gross_total=Decimal("12564.00"),
    )
    invoice = Invoice(order=order, year=2026, number=42, issued_at=MOMENT)
    # (title in English, in Russian, detail, quantity, unit price before VAT); VAT 20 %
    lines = [
        ("Venue plan", "Тариф для заведений", "Кафе «Арома», Тверская ул., 1", 3, "1490.00"),
        ("Creator subscription", "Подписка для авторов", "", 1, "990.00"),
        ("Single-track licence", "Лицензия на один трек", "Morning Light (MW-00042)", 1, "5010.00"),
    ]

    def context(language: str) -> dict[str, Any]:
        def shown(amount: Decimal) -> str:
            return money_display(amount, order.currency, language=language)

        rows = []
        for position, (title_en, title_ru, detail, quantity, unit) in enumerate(lines, 1):
            net = Decimal(unit) * quantity
            vat = (net * Decimal("0.20")).quantize(Decimal("0.01"))
            rows.append(
                InvoiceLine(
                    position=position,
                    title=title_ru if language == "ru" else title_en,
                    detail=detail,
                    quantity=quantity,
                    unit_price=shown(Decimal(unit)),
                    net=shown(net),
                    vat_rate=Decimal("20"),
                    vat=shown(vat),
                    gross=shown(net + vat),
                )
            )
        return {
            "invoice": invoice,
            "number": invoice_number(invoice),
            "order": order,
            "seller": operator_details(language),
            "lines": rows,
            "net_total": shown(order.net_total),
            "vat_total": shown(order.vat_total),
            "gross_total": shown(order.gross_total),
            "payment_reference": payment_reference(order),
        }

    return [
        (
            f"invoice, {language}",
            INVOICE_TEMPLATE,
            context(language),
            language,
        )
        for language in ("en", "ru")
    ]


def measure(make: Callable[[], bytes]) -> dict[str, float]:
    make()  # warm: fonts found, templates compiled
    durations = []
    started, cpu_started = time.perf_counter(), time.process_time()
    while time.perf_counter() - started < SECONDS:
        begun = time.perf_counter()
        make()
        durations.append(time.perf_counter() - begun)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    ordered = sorted(durations)
    return {
        "count": len(durations),
        "rate": len(durations) / elapsed,
        "per_cpu_s": len(durations) / cpu,
        "p50_ms": statistics.median(durations) * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))] * 1000,
    }


def main() -> None:
    import django

    django.setup()
    DOCUMENTS.extend(certificate_documents())
    DOCUMENTS.extend(invoice_documents())
    from django.contrib.staticfiles import finders
    from weasyprint import CSS, HTML
    from weasyprint.text.ffi import harfbuzz_subset

    from backgroundmusic.core import clock
    from backgroundmusic.core.documents import document_html, document_pdf

    subsetter = (
        "HarfBuzz" if harfbuzz_subset is not None else "fontTools (libharfbuzz-subset0 missing)"
    )
    print(
        f"documents bench: {SECONDS:g} s per measurement, one process, fonts subset by {subsetter}"
    )
    print(
        f"{'document':16} {'path':12} {'PDFs':>6} {'PDFs/s':>8} {'per CPU s':>10} "
        f"{'p50 ms':>8} {'p99 ms':>8}"
    )
    ratios, cpu_ratios = [], []
    with clock.frozen_at(MOMENT):
        for label, template, context, language in DOCUMENTS:
            # The anchor's HTML has no stylesheet link to follow: it is given the sheets.
            html = document_html(template, context, language=language)
            sheets = [Path(str(finders.find(name))).read_text() for name in LINK.findall(html)]
            html = LINK.sub("", html)

            def anchor(html: str = html, sheets: list[str] = sheets) -> bytes:
                pdf = HTML(string=html).write_pdf(
                    stylesheets=[*(CSS(string=sheet) for sheet in sheets), CSS(string=PAGE_NUMBERS)]
                )
                assert pdf is not None
                return pdf

            def ours(
                template: str = template, context: dict = context, language: str = language
            ) -> bytes:
                return document_pdf(template, context, language=language)

            results = {
                "anchor": measure(anchor),
                "ours": measure(ours),
                "anchor again": measure(anchor),
            }
            for path, numbers in results.items():
                print(
                    f"{label:16} {path:12} {numbers['count']:6.0f} {numbers['rate']:8.1f} "
                    f"{numbers['per_cpu_s']:10.1f} {numbers['p50_ms']:8.1f} "
                    f"{numbers['p99_ms']:8.1f}"
                )
            anchor_rate = (results["anchor"]["rate"] + results["anchor again"]["rate"]) / 2
            ratio = results["ours"]["rate"] / anchor_rate
            anchor_cpu = (results["anchor"]["per_cpu_s"] + results["anchor again"]["per_cpu_s"]) / 2
            cpu_ratio = results["ours"]["per_cpu_s"] / anchor_cpu
            ratios.append(ratio)
            cpu_ratios.append(cpu_ratio)
            print(
                f"{label:16} ours / WeasyPrint alone: {ratio:.2f} (per CPU second {cpu_ratio:.2f})"
            )
    print(
        f"ratio ours / WeasyPrint alone, mean over documents: {statistics.mean(ratios):.2f} "
        f"(per CPU second {statistics.mean(cpu_ratios):.2f})"
    )


if __name__ == "__main__":
    main()
