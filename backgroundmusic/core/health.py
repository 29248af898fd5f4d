"""Health checks of the parts above core, which core may not import: each app registers its own
check in its AppConfig.ready(), and /healthz (core.selectors.health_report) asks every one."""

from collections.abc import Callable
from dataclasses import dataclass, field

# /healthz is public: counts, times and states only, never personal data.
HealthFacts = dict[str, str | int | None]


@dataclass(frozen=True)
class HealthState:
    ok: bool
    facts: HealthFacts = field(default_factory=dict)


HealthCheck = Callable[[], HealthState]

_checks: dict[str, HealthCheck] = {}


def register_health_check(name: str, check: HealthCheck) -> None:
    """Adds the part `name` to /healthz; registering a name again replaces its check."""
    _checks[name] = check


def registered_health_checks() -> dict[str, HealthCheck]:
    return dict(_checks)
