"""The public records of processing: /privacy/processing/."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from backgroundmusic.privacy.processing import (
    AUTHORITIES,
    recipients_of_processing,
    records_export,
    records_of_processing,
)


@require_GET
def processing_records(request: HttpRequest) -> HttpResponse:
    records = records_of_processing()
    recipients = recipients_of_processing()
    export = records_export(language=get_language() or "en", records=records, recipients=recipients)
    return render(
        request,
        "privacy/processing.html",
        {
            "records": records,
            "recipients": recipients,
            "authorities": AUTHORITIES,
            "export": export,
        },
    )
