"""Given any form or command that sets a password, when the password is short, common or like the
user's name, then it is refused; the demo and test passwords still pass."""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.management import CommandError, call_command
from django.test import Client

from closeloop.core.roles import Role
from closeloop.demo.logins import DEMO_PASSWORD
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

WEAK = ["password", "12345678", "short-pw-1", "password1234"]  # common, common, short, common (12)


@pytest.fixture
def staff_client(make_user: Callable[..., User], client: Client) -> Client:
    admin = make_user(Role.ADMIN, username="boss")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    return client


def test_the_demo_and_test_passwords_pass() -> None:
    validate_password(DEMO_PASSWORD, User(username="agent"))
    validate_password(PASSWORD, User(username="agent"))


def test_a_password_like_the_username_is_refused(make_user: Callable[..., User], staff_client: Client) -> None:
    user = make_user(Role.AGENT, username="zhangwei.sales")
    response = staff_client.post(
        f"/admin/auth/user/{user.pk}/password/", {"password1": "zhangwei.sales1", "password2": "zhangwei.sales1"}
    )
    assert response.status_code == 200  # the form again, with the error
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


@pytest.mark.parametrize("weak", WEAK)
def test_admin_user_creation(weak: str, staff_client: Client) -> None:
    response = staff_client.post(
        "/admin/auth/user/add/", {"username": "newbie", "password1": weak, "password2": weak, "usable_password": "true"}
    )
    assert response.status_code == 200  # the form again, with the error
    assert not User.objects.filter(username="newbie").exists()
    ok = staff_client.post(
        "/admin/auth/user/add/",
        {"username": "newbie", "password1": PASSWORD, "password2": PASSWORD, "usable_password": "true"},
    )
    assert ok.status_code == 302 and User.objects.filter(username="newbie").exists()


@pytest.mark.parametrize("weak", WEAK)
def test_admin_change_password(weak: str, make_user: Callable[..., User], staff_client: Client) -> None:
    user = make_user(Role.AGENT)
    response = staff_client.post(f"/admin/auth/user/{user.pk}/password/", {"password1": weak, "password2": weak})
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


@pytest.mark.parametrize("weak", WEAK)
def test_desk_password_change(weak: str, make_user: Callable[..., User], client: Client) -> None:
    user = make_user(Role.AGENT)
    client.force_login(user)
    response = client.post(
        "/desk/account/password/", {"old_password": PASSWORD, "new_password1": weak, "new_password2": weak}
    )
    assert response.status_code == 200
    assert 'class="error"' in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


@pytest.mark.parametrize("weak", WEAK)
def test_password_reset_confirm(weak: str, make_user: Callable[..., User]) -> None:
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    user = make_user(Role.AGENT)
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    client = Client()
    page = client.get(f"/password/reset/{uid}/{default_token_generator.make_token(user)}/", follow=True)
    response = client.post(page.redirect_chain[-1][0], {"new_password1": weak, "new_password2": weak})
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


@pytest.mark.parametrize("weak", WEAK)
def test_createsuperuser_without_a_terminal(weak: str, monkeypatch: Any) -> None:
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", weak)
    with pytest.raises(CommandError):
        call_command("createsuperuser", interactive=False, username="root", email="r@example.com", stdout=StringIO())
    assert not User.objects.filter(username="root").exists()
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a long enough passphrase")
    call_command("createsuperuser", interactive=False, username="root", email="r@example.com", stdout=StringIO())
    assert User.objects.get(username="root").is_superuser


class Terminal(StringIO):
    def isatty(self) -> bool:
        return True


def test_createsuperuser_at_a_terminal_asks_again(monkeypatch: Any) -> None:
    typed = iter(["12345678", "12345678", "a long enough passphrase", "a long enough passphrase"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(typed))
    answers = iter(["n"])  # "Bypass password validation?" — no
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    err = StringIO()
    call_command(
        "createsuperuser",
        interactive=True,
        username="root",
        email="r@example.com",
        stdin=Terminal(),
        stdout=StringIO(),
        stderr=err,
    )
    assert err.getvalue().strip()  # the policy's complaint about the first one
    assert User.objects.get(username="root").check_password("a long enough passphrase")


def test_changepassword_command(make_user: Callable[..., User], monkeypatch: Any) -> None:
    user = make_user(Role.AGENT, username="li")
    typed = iter(["12345678", "12345678", "a long enough passphrase", "a long enough passphrase"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(typed))
    out = StringIO()
    call_command("changepassword", "li", stdout=out, stderr=StringIO())
    user.refresh_from_db()
    assert user.check_password("a long enough passphrase")
