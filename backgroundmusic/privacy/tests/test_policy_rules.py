"""The data-map policy rules (privacy/kernel/policy_rules.py): the project's map keeps every rule,
and each rule catches a declaration crafted to break it, in a registry of its own."""

import io
from typing import Any

import pytest
from django.core.management import call_command

from backgroundmusic.privacy.kernel.policy_rules import (
    RULES,
    data_map_policy_check,
    policy_check_messages,
    policy_violations,
)
from backgroundmusic.privacy.kernel.registry import (
    Category,
    Clock,
    Erasure,
    LegalBasis,
    PersonalData,
    Purpose,
    Registry,
    Retention,
    Retentions,
    RetentionStart,
    Subjects,
    Use,
    data_map,
)


def field(**changes: Any) -> PersonalData:
    values: dict[str, Any] = {
        "category": Category.NAME,
        "purpose": Purpose.CONTRACT,
        "legal_basis": LegalBasis.CONTRACT,
        "retention": Retentions.ACCOUNT,
        "erasure": Erasure.DELETE,
    }
    return PersonalData(**{**values, **changes})


def registry_with(data: PersonalData, **declaration: Any) -> Registry:
    registry = Registry()
    registry.declare(
        "demo.Crafted",
        **{
            "subject": "user",
            "personal": {"value": data},
            "not_personal": ["id", "user"],
            "clock": Clock(field="created_at"),
            **declaration,
        },
    )
    return registry


def broken(registry: Registry) -> list[tuple[str, str]]:
    return [(v.rule.name, v.where) for v in policy_violations(registry)]


def test_the_projects_data_map_keeps_every_rule():
    assert [str(violation) for violation in policy_violations(data_map)] == []
    assert data_map_policy_check() == []


def test_manage_py_check_runs_the_rules():
    out = io.StringIO()
    call_command("check", stdout=out)
    assert "System check identified no issues" in out.getvalue()


def test_every_rule_has_a_name_and_a_message():
    assert [rule.name for rule in RULES] == [
        "contact-data-not-for-analytics",
        "retention-and-erasure",
        "no-special-categories",
        "subjects-declared",
    ]
    assert all(rule.message.endswith(".") for rule in RULES)


def test_a_well_declared_field_breaks_no_rule():
    assert broken(registry_with(field())) == []


@pytest.mark.parametrize(
    "category", [Category.CONTACT_EMAIL, Category.CONTACT_PHONE, Category.CONTACT_ADDRESS]
)
@pytest.mark.parametrize("purpose", [Purpose.ANALYTICS, Purpose.RESEARCH, Purpose.ADVERTISING])
def test_contact_data_for_analytics_research_or_advertising_is_refused(category, purpose):
    assert broken(registry_with(field(category=category, purpose=purpose))) == [
        ("contact-data-not-for-analytics", f"demo.Crafted.value ({category}) serves {purpose}.")
    ]


def test_contact_data_as_a_further_use_is_refused_too():
    data = field(
        category=Category.CONTACT_EMAIL,
        further_uses=(Use(purpose=Purpose.RESEARCH, legal_basis=LegalBasis.CONSENT),),
    )
    assert broken(registry_with(data)) == [
        (
            "contact-data-not-for-analytics",
            "demo.Crafted.value (user.contact.email) serves research.",
        )
    ]


def test_browsing_data_may_serve_analytics():
    assert broken(registry_with(field(category=Category.BROWSING, purpose=Purpose.ANALYTICS))) == []


def test_a_field_without_retention_or_erasure_is_refused():
    data = field(retention=None, erasure="forget")
    assert broken(registry_with(data)) == [
        ("retention-and-erasure", "demo.Crafted.value has no retention period."),
        ("retention-and-erasure", "demo.Crafted.value has no erasure strategy."),
    ]


def test_a_zero_day_retention_is_refused():
    data = field(retention=Retention(days=0, start=RetentionStart.COLLECTED, description="x"))
    assert broken(registry_with(data)) == [
        ("retention-and-erasure", "demo.Crafted.value has no retention period.")
    ]


@pytest.mark.parametrize(
    "category",
    [
        "user.health_and_medical",
        "user.biometric.health",
        "user.genetic",
        "user.demographic.race_ethnicity",
        "user.demographic.political_opinion",
        "user.demographic.religious_belief",
        "user.sexual_orientation",
        "user.criminal_history",
    ],
)
def test_special_categories_are_refused(category):
    assert broken(registry_with(field(category=category))) == [
        ("no-special-categories", f"demo.Crafted.value is declared {category}.")
    ]


def test_a_model_holding_personal_data_without_a_user_path_names_its_subjects():
    assert broken(registry_with(field(), subject="")) == [
        (
            "subjects-declared",
            "demo.Crafted does not say whose data it holds (subjects=...).",
        )
    ]
    assert broken(registry_with(field(), subject="", subjects=[Subjects.VISITORS])) == []
    assert registry_with(field()).models["demo.Crafted"].subjects == (Subjects.USERS,)


def test_a_violation_is_a_system_check_error_that_stops_manage_py_check():
    registry = registry_with(field(category="user.genetic"))
    [error] = policy_check_messages(registry)
    assert error.id == "privacy.E001"
    assert error.is_serious()
    assert error.msg == (
        "no-special-categories: The service processes no special category of personal data "
        "(health, biometric, genetic, racial or ethnic origin, political opinions, religious "
        "beliefs, sex life or orientation, criminal record). demo.Crafted.value is declared "
        "user.genetic."
    )
