"""An incident's scene: a privacy officer, people whose e-mail addresses are in the data map, and
the facts of a breach of those addresses."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from backgroundmusic.accounts.models import User
from backgroundmusic.accounts.tests.factories import StaffFactory, UserFactory
from backgroundmusic.incidents.services import IncidentFacts
from backgroundmusic.staffroles.roles import StaffRole

# Monday 2 March 2026, 12:00 in Moscow.
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DETECTED = T0 - timedelta(hours=2)

FACTS = IncidentFacts(
    summary="Mailing list export left public",
    description="A list of e-mail addresses was readable at a public link for six hours.",
    consequences="Unwanted e-mail, phishing attempts in our name.",
    measures="The link was removed and the storage bucket made private.",
    detected_at=DETECTED,
    affected_models=["account.EmailAddress"],
    affected_categories=[],
)


def facts(**changes: object) -> IncidentFacts:
    return replace(FACTS, **changes)  # type: ignore[arg-type]


def officer(username: str = "the-officer") -> User:
    return StaffFactory.create(role=StaffRole.PRIVACY_OFFICER, username=username)


def person(username: str, *, language: str = "en", **kwargs: object) -> User:
    user = UserFactory.create(username=username, **kwargs)
    user.profile.language = language
    user.profile.save(update_fields=["language"])
    return user
