"""The operator (controller of personal data) as configuration names it (settings.OPERATOR_DETAILS),
and the placeholders of the published texts that stand for its details.

A policy text names the operator with placeholders such as `{{ operator.inn }}`; they are filled
in when an edition is published (privacy/policies.py), so the published, content-hashed text holds
the values themselves. A placeholder left unfilled, or a bracketed note such as "[to be filled
in]", means the text is not ready: `unresolved_placeholders` finds both.

The embedded demo (settings.OPERATOR_DEMONSTRATION) fills what a deployment would configure with
fictional details, and its texts say so.

The dates among the details are checked when the project starts (`operator_dates_check`, from
core's AppConfig.ready): a deployment with a mistyped date does not start, rather than failing on
the first page that needs it.
"""

import re
from dataclasses import dataclass, fields
from datetime import date

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PLACEHOLDER = re.compile(r"\{\{\s*operator\.([a-z_]+)\s*\}\}")
# Any "{{ ... }}", and any bracketed text that is not the text of a Markdown link "[text](url)".
UNRESOLVED = re.compile(r"\{\{.*?\}\}|\[[^\]\n]*\](?!\()")

DEMONSTRATION_NOTICE = {
    "en": "**DEMONSTRATION — fictional details.** This installation is a demonstration: the "
    "registration numbers, the representative and the officer below are invented and name no "
    "real company or person.",
    "ru": "**ДЕМОНСТРАЦИЯ — вымышленные сведения.** Это демонстрационная установка: "
    "регистрационные номера, представитель и ответственное лицо ниже придуманы и не называют "
    "реальную компанию или человека.",
}
# What the demonstration shows where a deployment sets OPERATOR_* and DPO_* variables.
DEMONSTRATION_DETAILS = {
    "ogrn": "1000000000000",
    "inn": "7700000000",
    "rkn_register_number": "77-00-000000 (demonstration)",
    "representative": "Demo Representative GmbH (fictional), Musterstraße 1, 10115 Berlin, Germany",
    "dpo_name": "Dana Demo (fictional)",
    "dpo_email": "privacy@backgroundmusic.net",
    "dpo_phone": "+7 000 000-00-00",
    "processing_started": "2025-06-01",
    "service_started_on": "2025-06-01",
}
# The variable that sets each date detail, for the start-up error to name.
DATE_DETAILS = {
    "processing_started": "OPERATOR_PROCESSING_STARTED",
    "service_started_on": "OPERATOR_SERVICE_STARTED_ON",
}


@dataclass(frozen=True)
class OperatorDetails:
    name_en: str
    name_ru: str
    address_en: str
    address_ru: str
    ogrn: str
    inn: str
    rkn_register_number: str
    representative: str
    dpo_name: str
    dpo_email: str
    dpo_phone: str
    processing_started: date | None
    # The day the service started taking requests: none can have been received before it.
    service_started_on: date | None
    demonstration: bool

    def name(self, language: str) -> str:
        return self.name_ru if _is_russian(language) else self.name_en

    def address(self, language: str) -> str:
        return self.address_ru if _is_russian(language) else self.address_en

    def missing(self) -> list[str]:
        """Names of the details a deployment has not configured yet."""
        return [
            item.name
            for item in fields(self)
            if item.name != "demonstration" and getattr(self, item.name) in ("", None)
        ]


def _is_russian(language: str) -> bool:
    return language.lower().startswith("ru")


def _configured_values() -> dict[str, str]:
    configured = settings.OPERATOR_DETAILS
    demonstration = bool(settings.OPERATOR_DEMONSTRATION)
    return {
        key: str(configured.get(key, "")) or (DEMONSTRATION_DETAILS[key] if demonstration else "")
        for key in DEMONSTRATION_DETAILS
    }


def _date_detail(key: str, value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ImproperlyConfigured(
            f"{DATE_DETAILS[key]} must be a date written YYYY-MM-DD, such as 2025-06-01; "
            f"it is {value!r}."
        ) from None


def operator_dates_check() -> None:
    """Raises ImproperlyConfigured, naming the variable, for a date detail that is not a date."""
    values = _configured_values()
    for key in DATE_DETAILS:
        _date_detail(key, values[key])


def operator_details() -> OperatorDetails:
    configured = settings.OPERATOR_DETAILS
    values = _configured_values()
    processing_started = _date_detail("processing_started", values.pop("processing_started"))
    service_started_on = _date_detail("service_started_on", values.pop("service_started_on"))
    return OperatorDetails(
        name_en=configured["en"]["name"],
        name_ru=configured["ru"]["name"],
        address_en=configured["en"]["address"],
        address_ru=configured["ru"]["address"],
        demonstration=bool(settings.OPERATOR_DEMONSTRATION),
        processing_started=processing_started,
        service_started_on=service_started_on,
        **values,
    )


def placeholder_values(*, details: OperatorDetails, language: str) -> dict[str, str]:
    """The value of each `{{ operator.<key> }}` in a text of this language; an empty value is an
    unconfigured detail, except the demonstration notice, empty outside the demonstration."""
    russian = _is_russian(language)
    return {
        "name": details.name(language),
        "name_en": details.name_en,
        "name_ru": details.name_ru,
        "address": details.address(language),
        "ogrn": details.ogrn,
        "inn": details.inn,
        "rkn_register_number": details.rkn_register_number,
        "representative": details.representative,
        "dpo_name": details.dpo_name,
        "dpo_email": details.dpo_email,
        "dpo_phone": details.dpo_phone,
        "demonstration_notice": DEMONSTRATION_NOTICE["ru" if russian else "en"]
        if details.demonstration
        else "",
    }


def operator_placeholders_fill(text: str, *, language: str, details: OperatorDetails) -> str:
    """The text with every known, configured placeholder replaced by its value; the others are
    left as they are, for `unresolved_placeholders` to find."""
    values = placeholder_values(details=details, language=language)

    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        if key == "demonstration_notice" or values.get(key):
            return values[key]
        return match.group(0)

    return PLACEHOLDER.sub(replace, text)


def unresolved_placeholders(text: str) -> list[str]:
    """The placeholders and bracketed notes left in a text, in order, each once."""
    return list(dict.fromkeys(match.group(0) for match in UNRESOLVED.finditer(text)))
