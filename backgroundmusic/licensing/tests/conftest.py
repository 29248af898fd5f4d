"""Fixtures shared by licensing's tests."""

from backgroundmusic.licensing.tests.checkout_scene import (  # noqa: F401 - fixtures
    buyer,
    company,
    creator_plan,
    terms,
    track,
    track_plan,
    venue_plan,
)
