"""Reads of the privacy app that carry a rule."""

from typing import Any

from django.contrib.auth import get_user_model

from backgroundmusic.privacy.consents import consent_state
from backgroundmusic.privacy.kernel.models import DataKey
from backgroundmusic.privacy.kernel.registry import PersonalData, data_map
from backgroundmusic.privacy.models import DataExport, DataSubjectRequest


def _personal_data_as_dict(data: PersonalData) -> dict[str, Any]:
    return {
        "category": data.category.value,
        "purpose": data.purpose.value,
        "legal_basis": data.legal_basis.value,
        "retention": {
            "days": data.retention.days,
            "start": data.retention.start.value,
            "description": str(data.retention.description),
        },
        "erasure": data.erasure.value,
        "exportable": data.exportable,
        "further_uses": [
            {"purpose": use.purpose.value, "legal_basis": use.legal_basis.value}
            for use in data.further_uses
        ],
    }


def data_map_as_dict() -> dict[str, dict[str, Any]]:
    """The data map as JSON-ready data: models by label, personal fields in declared order."""
    return {
        label: {
            "subject": declaration.subject,
            "subjects": [subjects.value for subjects in declaration.subjects],
            "note": declaration.note,
            "personal": {
                name: _personal_data_as_dict(data) for name, data in declaration.personal.items()
            },
            "not_personal": sorted(declaration.not_personal),
        }
        for label, declaration in sorted(data_map.models.items())
    }


def master_key_ids_in_use() -> set[str]:
    """Ids of the master keys that wrap at least one data key."""
    return set(DataKey.objects.values_list("master_key_id", flat=True).distinct())


def person_consents_rows(*, subject_id: int) -> list[tuple[Any, ...]]:
    """The staff person page's consents: each purpose and sharing recipient with the latest
    choice, when and how it was made."""
    subject = get_user_model()._default_manager.filter(pk=subject_id).first()
    if subject is None:
        return []
    return [
        (
            state.purpose_label,
            state.recipient.name if state.recipient is not None else "",
            state.action_label,
            state.at,
            state.method_label,
        )
        for state in consent_state(subject=subject)
    ]


def person_requests_rows(*, subject_id: int) -> list[tuple[Any, ...]]:
    """The staff person page's data-subject requests linked to the person, newest first."""
    requests = DataSubjectRequest.objects.filter(subject_id=subject_id).order_by(
        "-received_at", "-pk"
    )
    return [
        (f"#{r.pk}", r.get_kind_display(), r.get_status_display(), r.received_at, r.closed_at)
        for r in requests
    ]


def person_exports_rows(*, subject_id: int) -> list[tuple[Any, ...]]:
    """The staff person page's data exports, newest first (never the file or its token)."""
    exports = DataExport.objects.filter(subject_id=subject_id).order_by("-requested_at", "-pk")
    return [
        (e.get_status_display(), e.requested_at, e.ready_at, e.expires_at, e.downloaded_at)
        for e in exports
    ]
