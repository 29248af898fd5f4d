"""The person's identified analytics events in their data export; nobody else's."""

from datetime import UTC, datetime

import pytest

from backgroundmusic.accounts.tests.factories import UserFactory
from backgroundmusic.analytics.models import AnalyticsIdentity
from backgroundmusic.analytics.tests.factories import visits
from backgroundmusic.privacy.rights.package import package_sections

pytestmark = pytest.mark.django_db(databases="__all__")

AT = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def test_the_export_carries_the_persons_identified_events_and_no_one_elses():
    person, other = UserFactory.create(), UserFactory.create()
    AnalyticsIdentity.objects.create(user=person, pseudonym="P" * 22, linked_at=AT)
    AnalyticsIdentity.objects.create(user=other, pseudonym="O" * 22, linked_at=AT)
    visits(at=AT, path="/catalog/", pseudonyms=["P" * 22], engaged_ms=4200)
    visits(at=AT, path="/other/", pseudonyms=["O" * 22])
    visits(at=AT, path="/anonymous/", visitors=3)

    sections = {section.key: section for section in package_sections(subject_id=person.pk)}
    events = sections["analytics.Event"]
    assert events.title == "Pages visited (first-party statistics)"
    assert [(row["kind"], row["path"], row["engaged_ms"]) for row in events.records()] == [
        ("page view", "/catalog/", 0),
        ("engaged time", "/catalog/", 4200),
    ]
    assert {row["pseudonym"] for row in events.records()} == {"P" * 22}
    assert [row["pseudonym"] for row in sections["analytics.AnalyticsIdentity"].records()] == [
        "P" * 22
    ]


def test_a_person_without_identified_analytics_has_no_such_section():
    person = UserFactory.create()
    visits(at=AT, visitors=2)
    labels = {section.key for section in package_sections(subject_id=person.pk)}
    assert "analytics.Event" not in labels
