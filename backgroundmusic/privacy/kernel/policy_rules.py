"""Rules every declaration of the data map must keep, checked on each `manage.py check` and in
the test suite (privacy/apps.py registers `data_map_policy_check`).

Each rule looks at a registry and names what breaks it; a rule is a promise of the published
policy that the map itself can prove: contact data is never used for analytics, research or
advertising, every personal field says how long it is kept and what erasure does with it, the
service processes no special category of personal data (GDPR art. 9; 152-FZ art. 10), and
every model holding personal data says whom it is about.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.core import checks

from backgroundmusic.privacy.kernel.registry import (
    Category,
    Erasure,
    Purpose,
    Registry,
    Retention,
    Subjects,
    data_map,
)

CONTACT_CATEGORIES = frozenset(
    {Category.CONTACT_EMAIL, Category.CONTACT_PHONE, Category.CONTACT_ADDRESS}
)
PURPOSES_WITHOUT_CONTACTS = frozenset({Purpose.ANALYTICS, Purpose.RESEARCH, Purpose.ADVERTISING})
# fideslang keys of the special categories (GDPR art. 9 and 10; 152-FZ art. 10 and 11); a key
# covers the keys below it ("user.biometric" covers "user.biometric.health").
SPECIAL_CATEGORIES = (
    "user.health_and_medical",
    "user.biometric",
    "user.genetic",
    "user.demographic.race_ethnicity",
    "user.demographic.political_opinion",
    "user.demographic.religious_belief",
    "user.demographic.sexual_orientation",
    "user.sexual_orientation",
    "user.criminal_history",
)


@dataclass(frozen=True)
class PolicyRule:
    name: str
    message: str  # what the rule promises, followed in each violation by what breaks it
    violations: Callable[[Registry], Iterator[str]]


@dataclass(frozen=True)
class Violation:
    rule: PolicyRule
    where: str

    def __str__(self) -> str:
        return f"{self.rule.name}: {self.rule.message} {self.where}"


def _contact_data_for_marketing_or_analytics(registry: Registry) -> Iterator[str]:
    for declaration, name, data in registry.personal_fields():
        if data.category not in CONTACT_CATEGORIES:
            continue
        for use in data.uses():
            if use.purpose in PURPOSES_WITHOUT_CONTACTS:
                yield f"{declaration.label}.{name} ({data.category}) serves {use.purpose}."


def _without_retention_or_erasure(registry: Registry) -> Iterator[str]:
    for declaration, name, data in registry.personal_fields():
        retention = data.retention
        if not isinstance(retention, Retention) or retention.days <= 0 or not str(retention):
            yield f"{declaration.label}.{name} has no retention period."
        if not isinstance(data.erasure, Erasure):
            yield f"{declaration.label}.{name} has no erasure strategy."
    for declaration in registry.models.values():
        if declaration.personal and declaration.clock is None:
            yield f"{declaration.label} has no clock for its retention period."


def is_special_category(category: str) -> bool:
    return any(category == key or category.startswith(f"{key}.") for key in SPECIAL_CATEGORIES)


def _special_categories(registry: Registry) -> Iterator[str]:
    for declaration, name, data in registry.personal_fields():
        if is_special_category(str(data.category)):
            yield f"{declaration.label}.{name} is declared {data.category}."


def _without_subjects(registry: Registry) -> Iterator[str]:
    for declaration in registry.models.values():
        if declaration.personal and not (
            declaration.subjects and all(isinstance(s, Subjects) for s in declaration.subjects)
        ):
            yield f"{declaration.label} does not say whose data it holds (subjects=...)."


RULES = (
    PolicyRule(
        name="contact-data-not-for-analytics",
        message="Contact data (e-mail, phone, postal address) is never used for analytics, "
        "research or advertising.",
        violations=_contact_data_for_marketing_or_analytics,
    ),
    PolicyRule(
        name="retention-and-erasure",
        message="Every personal field has a retention period and an erasure strategy.",
        violations=_without_retention_or_erasure,
    ),
    PolicyRule(
        name="no-special-categories",
        message="The service processes no special category of personal data (health, "
        "biometric, genetic, racial or ethnic origin, political opinions, religious beliefs, "
        "sex life or orientation, criminal record).",
        violations=_special_categories,
    ),
    PolicyRule(
        name="subjects-declared",
        message="Every model holding personal data names the categories of people it is about.",
        violations=_without_subjects,
    ),
)


def policy_violations(registry: Registry) -> list[Violation]:
    """Every breach of every rule in the registry, rule by rule in declared order."""
    return [
        Violation(rule=rule, where=where) for rule in RULES for where in rule.violations(registry)
    ]


def policy_check_messages(registry: Registry) -> list[checks.CheckMessage]:
    return [
        checks.Error(str(violation), obj=violation.rule.name, id="privacy.E001")
        for violation in policy_violations(registry)
    ]


def data_map_policy_check(
    app_configs: object = None, **kwargs: object
) -> list[checks.CheckMessage]:
    """The Django system check: one error per violation in the project's data map."""
    return policy_check_messages(data_map)
