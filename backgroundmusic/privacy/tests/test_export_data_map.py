"""manage.py export_data_map prints the whole data map as JSON."""

import io
import json
from typing import Any

from django.apps import apps
from django.core.management import call_command

from backgroundmusic.privacy.selectors import data_map_as_dict


def exported() -> dict[str, Any]:
    out = io.StringIO()
    call_command("export_data_map", stdout=out)
    return json.loads(out.getvalue())


def test_the_output_is_json_of_the_whole_map():
    assert exported() == data_map_as_dict()


def test_every_installed_model_appears():
    assert set(exported()) == {
        model._meta.label for model in apps.get_models() if not model._meta.proxy
    }


def test_a_sealed_profile_field_is_exported_in_full():
    profile = exported()["accounts.Profile"]

    assert profile["subject"] == "user"
    assert profile["not_personal"] == ["id", "updated_at", "user"]
    assert profile["personal"]["full_name"] == {
        "category": "user.name",
        "purpose": "contract",
        "legal_basis": "contract",
        "retention": {
            "days": 30,
            "start": "account_closed",
            "description": "While the account is open, then 30 days after it is closed",
        },
        "erasure": "delete",
        "exportable": True,
        "further_uses": [],
    }
    assert profile["subjects"] == ["users"]


def test_secrets_are_marked_not_exportable():
    models = exported()

    assert models["accounts.User"]["personal"]["password"]["exportable"] is False
    assert models["mfa.Authenticator"]["personal"]["data"]["exportable"] is False
    assert models["sessions.Session"]["personal"]["session_key"]["exportable"] is False


def test_a_model_without_personal_data_lists_every_field_as_not_personal():
    assert exported()["core.ScheduledRun"] == {
        "subject": "",
        "subjects": [],
        "note": "",
        "personal": {},
        "not_personal": ["enqueued_at", "id", "job", "slot", "task_result_id"],
    }


def test_further_uses_and_subjects_are_exported():
    event = exported()["analytics.Event"]
    assert event["subjects"] == ["visitors", "users"]
    assert event["personal"]["path"]["purpose"] == "analytics"
    assert event["personal"]["path"]["further_uses"] == [
        {"purpose": "research", "legal_basis": "consent"}
    ]
    assert event["personal"]["browser"]["further_uses"] == []
