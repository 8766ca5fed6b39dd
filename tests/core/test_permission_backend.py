"""The one-query permission backend answers exactly as Django's ModelBackend does."""

from __future__ import annotations

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission, User

from closeloop.core.backends import ModelBackendOneQuery

pytestmark = pytest.mark.django_db


def _fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


def _permission(codename: str) -> Permission:
    return Permission.objects.get(codename=codename)


@pytest.fixture
def member() -> User:
    user = User.objects.create_user("perm-member", password="x")
    role = Group.objects.create(name="perm-role")
    role.permissions.add(_permission("register_complaint"), _permission("view_complaint"))
    other = Group.objects.create(name="perm-other")
    other.permissions.add(_permission("view_complaint"))
    user.groups.add(role, other)
    user.user_permissions.add(_permission("add_user"))
    return user


def test_own_and_role_permissions_same_as_model_backend(member: User, django_assert_num_queries) -> None:
    expected = ModelBackend().get_all_permissions(_fresh(member))
    user = _fresh(member)
    with django_assert_num_queries(1):
        got = ModelBackendOneQuery().get_all_permissions(user)
        assert ModelBackendOneQuery().get_all_permissions(user) is got  # cached on the instance
    assert got == expected
    assert {"complaints.register_complaint", "complaints.view_complaint", "auth.add_user"} <= got
    assert user.has_perm("complaints.register_complaint")
    assert not user.has_perm("complaints.delete_complaint")


def test_user_without_roles_has_none() -> None:
    user = User.objects.create_user("perm-nobody", password="x")
    assert ModelBackendOneQuery().get_all_permissions(_fresh(user)) == set()
    assert not _fresh(user).has_perm("complaints.view_complaint")


def test_superuser_has_every_permission() -> None:
    user = User.objects.create_superuser("perm-root", password="x")
    assert ModelBackendOneQuery().get_all_permissions(_fresh(user)) == ModelBackend().get_all_permissions(_fresh(user))
    assert len(ModelBackendOneQuery().get_all_permissions(_fresh(user))) == Permission.objects.count()


def test_inactive_user_and_object_permissions_are_empty(member: User) -> None:
    member.is_active = False
    member.save()
    assert ModelBackendOneQuery().get_all_permissions(_fresh(member)) == set()
    member.is_active = True
    member.save()
    assert ModelBackendOneQuery().get_all_permissions(_fresh(member), obj=object()) == set()


def test_removing_a_role_takes_effect_on_the_next_request(member: User) -> None:
    member.groups.remove(Group.objects.get(name="perm-role"))
    assert not _fresh(member).has_perm("complaints.register_complaint")
    assert _fresh(member).has_perm("complaints.view_complaint")
