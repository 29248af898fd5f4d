"""staff_require: the one guard of the services that act for staff."""

import inspect
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.utils import translation

from backgroundmusic.accounts.tests.factories import StaffFactory, UserFactory
from backgroundmusic.core.errors import ActionRefused, DomainError, PermissionDenied
from backgroundmusic.staffroles import selectors
from backgroundmusic.staffroles.roles import StaffRole
from backgroundmusic.staffroles.selectors import (
    REFUSALS,
    staff_may_manage_catalogue,
    staff_may_publish_policy,
    staff_require,
)

pytestmark = pytest.mark.django_db


def test_every_permission_question_has_its_refusal():
    questions = {
        function
        for name, function in inspect.getmembers(selectors, inspect.isfunction)
        if name.startswith("staff_may_") and "actor" in inspect.signature(function).parameters
    }
    assert set(REFUSALS) == questions
    assert len(questions) == 18


def test_an_allowed_actor_is_returned():
    manager = StaffFactory.create(role=StaffRole.CONTENT_MANAGER)
    assert staff_require(actor=manager, may=staff_may_manage_catalogue) is manager


ACTORS: dict[str, Callable[[], Any]] = {
    "system": lambda: None,
    "anonymous": AnonymousUser,
    "plain user": UserFactory.create,
    "other role": lambda: StaffFactory.create(role=StaffRole.SUPPORT),
    "no 2FA": lambda: StaffFactory.create(role=StaffRole.CONTENT_MANAGER, totp=False),
}


@pytest.mark.parametrize("who", ACTORS)
def test_a_refusal_names_the_question_and_the_actor(who):
    actor = ACTORS[who]()
    with pytest.raises(ActionRefused) as refused:
        staff_require(actor=actor, may=staff_may_manage_catalogue)
    error = refused.value
    assert (error.permission, error.actor, error.recorded) == (
        "staff_may_manage_catalogue",
        actor,
        False,
    )
    assert (error.code, error.message) == ("permission_denied", "You may not manage the catalogue.")


def test_a_refusal_is_every_kind_of_permission_denied():
    # Pages and the API that catch DomainError or PermissionDenied keep answering as before;
    # one that catches nothing answers Django's 403.
    with pytest.raises(ActionRefused) as refused:
        staff_require(actor=None, may=staff_may_publish_policy)
    assert isinstance(refused.value, PermissionDenied)
    assert isinstance(refused.value, DomainError)
    assert isinstance(refused.value, DjangoPermissionDenied)


def test_the_refusal_is_told_in_the_persons_language():
    with translation.override("ru"), pytest.raises(ActionRefused) as refused:
        staff_require(actor=None, may=staff_may_publish_policy)
    assert refused.value.message == "Вам нельзя публиковать редакции правовых документов."
