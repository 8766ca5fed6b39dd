"""The portal is public, standalone and never leads into the desk."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from closeloop.core.roles import Role

pytestmark = pytest.mark.django_db

DESK_LINKS = ("/desk/", "/admin/", "/login/", "/logout/", "/api/")


@pytest.mark.parametrize("name", ["portal:home", "portal:status"])
def test_pages_work_anonymously_without_desk_links(client: Client, name: str) -> None:
    response = client.get(reverse(name))

    assert response.status_code == 200
    html = response.content.decode()
    for link in DESK_LINKS:
        assert link not in html
    assert 'name="viewport"' in html
    assert 'action="/i18n/setlang/"' in html


def test_receipt_and_status_have_no_desk_links(client: Client, submit: Callable[..., Any], lookup: Any) -> None:
    receipt = client.get(submit()["Location"]).content.decode()
    from closeloop.complaints.models import Complaint

    number = Complaint.objects.get().number
    status = client.get(lookup(number, "5678")["Location"]).content.decode()

    for html in (receipt, status):
        for link in DESK_LINKS:
            assert link not in html


def test_a_logged_in_employee_sees_the_same_public_page(
    client: Client, make_user: Callable[..., User], submit: Callable[..., Any]
) -> None:
    employee = make_user(Role.AGENT, username="lilei77")
    client.force_login(employee)

    html = client.get(reverse("portal:home")).content.decode()
    submit()

    assert "/desk/" not in html
    assert employee.username not in html
    from closeloop.complaints.models import Complaint

    assert Complaint.objects.get().registered_by is None


def test_chinese_is_the_default_language(client: Client, settings: Any) -> None:
    settings.LANGUAGE_CODE = "zh-hans"

    html = client.get(reverse("portal:home")).content.decode()

    assert '<html lang="zh-hans">' in html
    assert 'value="en" lang="en">English</button>' in html


def test_language_switch_to_english(client: Client) -> None:
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("portal:home")})

    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home")
