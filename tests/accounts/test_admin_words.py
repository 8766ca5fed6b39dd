"""The admin in the reader's language: branded CloseLoop, roles by their names, permissions in words."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client
from django.utils import translation

from closeloop.accounts.admin import group_label, permission_label
from closeloop.core.roles import sync_role_groups

pytestmark = pytest.mark.django_db


def test_the_admin_is_branded_in_chinese(admin_client: Client) -> None:
    page = admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "CloseLoop 管理" in page
    assert "Django" not in page


def test_roles_are_listed_by_their_translated_names(admin_client: Client) -> None:
    sync_role_groups()
    page = admin_client.get("/admin/auth/group/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "客服坐席" in page and "客服主管" in page


def test_permission_and_group_labels() -> None:
    sync_role_groups()
    view = Permission.objects.get(codename="view_complaint", content_type__app_label="complaints")
    custom = Permission.objects.get(codename="register_complaint")
    with translation.override("zh-hans"):
        assert permission_label(view) == "投诉 | 可以查看投诉单"
        assert "Can" not in permission_label(custom)
        assert group_label(Group.objects.get(name="agent")) == "客服坐席"
        assert group_label(Group(name="夜班")) == "夜班"
    with translation.override("en"):
        assert permission_label(view) == "Complaints | Can view complaint"


def test_the_user_form_lists_roles_and_permissions_in_words(admin_client: Client) -> None:
    sync_role_groups()
    user = User.objects.create_user("someone")
    page = admin_client.get(f"/admin/auth/user/{user.pk}/change/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "客服坐席" in page
    assert "可以查看投诉单" in page
    assert "Can add complaint" not in page
