"""Reads of the privacy app that carry a rule."""

from typing import Any

from backgroundmusic.privacy.kernel.models import DataKey
from backgroundmusic.privacy.kernel.registry import PersonalData, data_map


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
