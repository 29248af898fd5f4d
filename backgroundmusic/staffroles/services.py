"""Giving and taking staff roles (role groups)."""

from typing import TypeVar

from django.contrib.auth.models import AbstractUser, Group
from django.db import transaction

from backgroundmusic.staffroles.roles import StaffRole
from backgroundmusic.staffroles.selectors import PERMISSIONS_CACHE, ROLES_CACHE

UserT = TypeVar("UserT", bound=AbstractUser)


def _forget_cached_roles(user: AbstractUser) -> None:
    for attribute in (ROLES_CACHE, PERMISSIONS_CACHE):
        if hasattr(user, attribute):
            delattr(user, attribute)


@transaction.atomic
def staff_role_assign(*, user: UserT, role: StaffRole) -> UserT:
    user.groups.add(Group.objects.get(name=StaffRole(role).value))
    _forget_cached_roles(user)
    return user


@transaction.atomic
def staff_role_revoke(*, user: UserT, role: StaffRole) -> UserT:
    group = Group.objects.filter(name=StaffRole(role).value).first()
    if group is not None:
        user.groups.remove(group)
    _forget_cached_roles(user)
    return user
