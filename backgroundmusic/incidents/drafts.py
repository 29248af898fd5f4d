"""The first drafts of an incident's notices, in English and Russian: templates under
templates/incidents/notices/ (`<kind>.<language>.txt`, the subject on the first line) filled
with the incident's facts, its categories and counts, and the operator's contact."""

from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

from backgroundmusic.incidents.models import Incident, NoticeKind
from backgroundmusic.incidents.people import category_labels
from backgroundmusic.privacy.calendar import CONTROLLER_TIME_ZONE

LANGUAGES = ("en", "ru")
SUBJECT_MAX = 200


@dataclass(frozen=True)
class Draft:
    subject_en: str
    subject_ru: str
    text_en: str
    text_ru: str


def _moment(value: object) -> str:
    if value is None:
        return ""
    local = timezone.localtime(value, CONTROLLER_TIME_ZONE)  # type: ignore[arg-type]
    return local.strftime("%Y-%m-%d %H:%M")


def _render(kind: NoticeKind, language: str, incident: Incident) -> tuple[str, str]:
    with translation.override(language):
        context = {
            "incident": incident,
            "detected_at": _moment(incident.detected_at),
            "occurred_from": _moment(incident.occurred_from),
            "occurred_until": _moment(incident.occurred_until),
            "categories": category_labels(
                incident.computed_categories or incident.affected_categories
            ),
            "people": incident.affected_count,
            "estimated": incident.estimated_people,
            "operator": settings.OPERATOR_DETAILS[language],
            "registration": settings.OPERATOR_DETAILS["registration"],
            "contact": settings.PRIVACY_ADDRESS,
            "service_name": settings.SERVICE_NAME,
        }
        rendered = render_to_string(f"incidents/notices/{kind.value}.{language}.txt", context)
    subject, _newline, text = rendered.partition("\n")
    return subject.strip()[:SUBJECT_MAX], text.strip() + "\n"


def notice_draft(*, incident: Incident, kind: NoticeKind) -> Draft:
    """The template's draft of one notice, both languages, from the incident as it is now."""
    (subject_en, text_en), (subject_ru, text_ru) = (
        _render(kind, language, incident) for language in LANGUAGES
    )
    return Draft(subject_en=subject_en, subject_ru=subject_ru, text_en=text_en, text_ru=text_ru)
