"""The go-live security review's findings on authentication and sessions, each as it was reported.

Given the desk as it was, when an attacker guesses passwords, a user picks a weak one, a session is
left alone or a password changes, then: the guessing stops, the weak password is refused, the idle
session ends, and the old sessions and API tokens stop working."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from closeloop.core.roles import Role
from closeloop.core.services import api_token_create
from tests.api.conftest import ApiClient
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_guessing_a_password_locks_the_account(make_user: Callable[..., User]) -> None:
    make_user(Role.AGENT, username="victim")
    client = Client(REMOTE_ADDR="203.0.113.9")
    statuses = [client.post("/login/", {"username": "victim", "password": f"guess-{i}"}).status_code for i in range(10)]
    assert statuses == [200] * 4 + [429] * 6  # the done-when: "10 wrong passwords lock the account"

    response = Client(REMOTE_ADDR="198.51.100.7").post("/login/", {"username": "victim", "password": PASSWORD})

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_admin_login_checks_no_password_of_its_own(make_user: Callable[..., User]) -> None:
    """The admin's login page was a second place to guess passwords; it is now the desk's."""
    admin_user = make_user(Role.ADMIN, username="boss")
    admin_user.is_staff = True
    admin_user.save()
    client = Client()

    response = client.post("/admin/login/?next=/admin/", {"username": "boss", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/admin/"
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("weak", ["password", "12345678", "closeloop1", "agent-pass"])
def test_weak_passwords_are_refused(weak: str, make_user: Callable[..., User]) -> None:
    user = make_user(Role.AGENT, username="agent-pass")
    form = SetPasswordForm(user, {"new_password1": weak, "new_password2": weak})
    assert not form.is_valid()


def test_an_idle_session_ends(make_user: Callable[..., User], client: Client, monkeypatch: Any) -> None:
    client.force_login(make_user(Role.AGENT))
    assert client.get("/desk/").status_code == 200
    later = timezone.now() + datetime.timedelta(hours=2)
    monkeypatch.setattr(timezone, "now", lambda: later)

    assert client.get("/desk/").status_code == 302


def test_a_password_change_ends_other_sessions_and_revokes_tokens(make_user: Callable[..., User]) -> None:
    user = make_user(Role.AGENT)
    _token, raw_key = api_token_create(user=user, name="shop")
    other = Client()
    other.force_login(user)
    assert ApiClient(raw_key).get("/api/v1/complaints").status_code == 200

    user.set_password("a much longer new passphrase")
    user.save()

    assert ApiClient(raw_key).get("/api/v1/complaints").status_code == 401
    assert other.get("/desk/").status_code == 302


def test_the_demo_says_who_sets_up_two_factor(settings: Any) -> None:
    from closeloop.demo.logins import demo_login_lines

    lines = {line.split()[0]: line for line in demo_login_lines()[1:]}
    assert "2FA" in lines["admin"] and "2FA" in lines["gm"]
    assert "2FA" not in lines["agent"]
