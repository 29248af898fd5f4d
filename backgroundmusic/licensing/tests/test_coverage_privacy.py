"""Coverage in the data map: the links, titles and dates of a person's channels and works are
their personal data, declared so, and their data export carries every one of them."""

import json
import zipfile
from datetime import UTC, date, datetime
from io import BytesIO

import pytest

from backgroundmusic.accounts.tests.factories import UserFactory
from backgroundmusic.catalog.tests.fixtures import ready_track
from backgroundmusic.core import clock
from backgroundmusic.licensing import coverage
from backgroundmusic.licensing.tests.coverage_scenes import licence
from backgroundmusic.privacy.kernel.registry import Category, Erasure, data_map
from backgroundmusic.privacy.rights.export import export_archive
from backgroundmusic.privacy.rights.package import package_sections

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def test_what_coverage_stores_about_a_person_is_declared_personal():
    declared = {
        label: {name: data.category for name, data in data_map.models[label].personal.items()}
        for label in ("licensing.CoveredChannel", "licensing.CoveredUse")
    }
    assert declared == {
        "licensing.CoveredChannel": {"url": Category.SOCIAL, "added_at": Category.CONTRACT},
        "licensing.CoveredUse": {
            "url": Category.SOCIAL,
            "title": Category.CONTRACT,
            "published_on": Category.CONTRACT,
            "added_at": Category.CONTRACT,
        },
    }
    for label in declared:
        declaration = data_map.models[label]
        assert declaration.subject == "agreement__user"
        assert {data.erasure for data in declaration.personal.values()} == {Erasure.KEEP_FOR_LAW}
        assert all(data.exportable for data in declaration.personal.values())


@pytest.fixture
def scene():
    owner = UserFactory.create(username="owner")
    other = UserFactory.create(username="other")
    with clock.frozen_at(NOW):
        made = licence(user=owner)
        coverage.channel_add(user=owner, agreement=made, platform="", url="https://t.me/mine")
        use = coverage.use_add(
            user=owner,
            agreement=made,
            platform="",
            url="https://youtu.be/first",
            published_on=date(2026, 3, 5),
            title="First video",
            track=ready_track(title="Dawn"),
        )
        theirs = licence(user=other, number="BM-2026-000043")
        coverage.channel_add(user=other, agreement=theirs, platform="", url="https://t.me/theirs")
    return owner, made, use


def test_the_export_carries_the_persons_channels_and_works_only(scene):
    owner, made, use = scene
    sections = {section.key: section for section in package_sections(subject_id=owner.pk)}
    channel = made.channels.get()
    assert sections["licensing.CoveredChannel"].records() == [
        {
            "id": channel.pk,
            "agreement": made.pk,
            "platform": "Telegram",
            "url": "https://t.me/mine",
            "added_at": "2026-03-10T12:00:00+00:00",
        }
    ]
    assert sections["licensing.CoveredUse"].records() == [
        {
            "id": use.pk,
            "agreement": made.pk,
            "track": str(use.track),
            "platform": "YouTube",
            "url": "https://youtu.be/first",
            "title": "First video",
            "published_on": "2026-03-05",
            "added_at": "2026-03-10T12:00:00+00:00",
        }
    ]


def test_the_export_archive_holds_them(scene):
    owner, _made, _use = scene
    with zipfile.ZipFile(BytesIO(export_archive(subject_id=owner.pk, generated_at=NOW))) as zipped:
        names = zipped.namelist()
        data = json.loads(zipped.read(next(n for n in names if n.endswith(".json"))))
    text = json.dumps(data, ensure_ascii=False)
    assert "https://t.me/mine" in text and "https://youtu.be/first" in text
    assert "First video" in text
    assert "https://t.me/theirs" not in text
