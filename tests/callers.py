"""The caller matrix shared by every authorization test: who calls a page or a service.

A caller kind is "anonymous", "other_user" (signed in, not the owner), "owner" (the `owner`
fixture, which a test module may redefine), each staff role by its value (with two-factor
sign-in, as staff work), or "staff_without_two_factor" (holding every staff role, without an
authenticator: two-factor sign-in is part of every staff permission, so it may do nothing a
plain user may not).

    def test_inbox(caller_for, kind):
        caller = caller_for(kind)       # Caller(kind, user or None, signed-in client)

What each kind should get is written from who is allowed, not listed kind by kind, so a new
role is in every matrix at once:

    @pytest.mark.parametrize(
        ("kind", "expected"),
        expected_by_caller({"privacy_officer"}, allowed_outcome=200, refused_outcome=403,
                           kinds=CALLERS, anonymous=302).items(),
    )

A module whose scene already has the user of a kind redefines `known_callers`, as it may
redefine `owner`:

    @pytest.fixture
    def known_callers(officer):
        return {"privacy_officer": officer}

Registered in the root conftest's pytest_plugins.
"""

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import TypeVar

import pytest
from django.test import Client

from backgroundmusic.accounts import staff
from backgroundmusic.accounts.models import User
from backgroundmusic.accounts.tests.factories import StaffFactory, UserFactory
from backgroundmusic.staffroles.roles import StaffRole

STAFF_WITHOUT_TWO_FACTOR = "staff_without_two_factor"
STAFF_CALLERS = tuple(role.value for role in StaffRole)
CALLERS = ("anonymous", "other_user", "owner", *STAFF_CALLERS)
# Every caller kind, for tests of services: the staff member without two-factor included.
ALL_CALLERS = (*CALLERS, STAFF_WITHOUT_TWO_FACTOR)

Outcome = TypeVar("Outcome")


def expected_by_caller(
    allowed: Collection[str],
    *,
    allowed_outcome: Outcome,
    refused_outcome: Outcome,
    kinds: Sequence[str] = ALL_CALLERS,
    **outcome_of_kind: Outcome,
) -> dict[str, Outcome]:
    """Every caller kind of `kinds` (by default all, for services; CALLERS for pages) with what
    it should get: `allowed_outcome` for the kinds in `allowed`, `refused_outcome` for the rest,
    except the kinds named as keywords (e.g. anonymous=302: pages send them to sign in)."""
    unknown = (set(allowed) | set(outcome_of_kind)) - set(ALL_CALLERS)
    if unknown:
        raise ValueError(f"unknown caller kinds {sorted(unknown)}")
    return {
        kind: outcome_of_kind.get(kind, allowed_outcome if kind in allowed else refused_outcome)
        for kind in kinds
    }


@dataclass(frozen=True)
class Caller:
    kind: str
    user: User | None
    client: Client


def caller_user(kind: str) -> User:
    """A new user of a kind other than "anonymous" and "owner"."""
    if kind == "other_user":
        return UserFactory.create(username="other")
    if kind == STAFF_WITHOUT_TWO_FACTOR:
        user = StaffFactory.create(username="no-two-factor", role=StaffRole.SUPPORT, totp=False)
        for role in StaffRole:
            staff.staff_role_assign(actor=None, user=user, role=role)
        return user
    return StaffFactory.create(username=kind.replace("_", "-"), role=StaffRole(kind))


@pytest.fixture
def owner() -> User:
    return UserFactory.create(username="owner", email="owner@example.com")


@pytest.fixture
def known_callers() -> dict[str, User]:
    """Users of the scene that stand for a caller kind; none unless a module says so."""
    return {}


@pytest.fixture
def caller_for(
    client: Client, owner: User, known_callers: dict[str, User]
) -> Callable[[str], Caller]:
    """caller_for(kind) -> Caller: the user of that kind, signed in on the test's client. The
    owner exists whichever kind calls, as the scene's person."""

    def make(kind: str) -> Caller:
        if kind not in ALL_CALLERS:
            raise ValueError(f"unknown caller kind {kind!r}")
        user: User | None
        if kind in known_callers:
            user = known_callers[kind]
        elif kind == "anonymous":
            user = None
        elif kind == "owner":
            user = owner
        else:
            user = caller_user(kind)
        if user is not None:
            client.force_login(user)
        return Caller(kind=kind, user=user, client=client)

    return make
