"""Given failed logins, when they reach LOGIN_FAILURE_LIMIT within LOGIN_LOCKOUT_MINUTES for one
account or one address, then further logins there are refused with a clear page until the time
passes or an administrator unlocks; password-reset requests are limited the same way."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from axes.handlers import proxy as axes_proxy
from django.contrib.auth.models import User
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from closeloop.accounts.models import SecurityEvent, SecurityEventKind
from closeloop.core.roles import Role
from tests.accounts.conftest import code_step, password_step
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def fail(client: Client, username: str, times: int) -> list[int]:
    return [password_step(client, username, f"wrong-{i}").status_code for i in range(times)]


def test_the_lockout_page_says_why_in_chinese(make_user: Callable[..., User]) -> None:
    make_user(Role.AGENT, username="li")
    client = Client()
    assert fail(client, "li", 5) == [200, 200, 200, 200, 429]

    response = password_step(client, "li")

    assert response.status_code == 429
    page = response.content.decode()
    assert "登录失败次数过多" in page and "15" in page
    assert '<form method="post" action="/login/">' in page  # the login page, not a bare 403
    assert SecurityEvent.objects.filter(kind=SecurityEventKind.LOCKED_OUT, user__username="li").count() == 1


def test_the_limit_and_window_are_settings(make_user: Callable[..., User], settings: Any) -> None:
    settings.LOGIN_FAILURE_LIMIT = 3
    make_user(Role.AGENT, username="li")
    assert fail(Client(), "li", 3) == [200, 200, 429]


def test_the_account_is_locked_from_every_address_and_case(make_user: Callable[..., User]) -> None:
    make_user(Role.AGENT, username="li")
    for i in range(5):
        password_step(Client(REMOTE_ADDR=f"203.0.113.{i}"), "li", "wrong")
    assert password_step(Client(REMOTE_ADDR="198.51.100.1"), " LI ", PASSWORD).status_code == 429


def test_an_address_guessing_many_accounts_is_locked(make_user: Callable[..., User]) -> None:
    make_user(Role.AGENT, username="wang")
    client = Client(REMOTE_ADDR="203.0.113.50")
    for i in range(5):
        password_step(client, f"nobody{i}", "wrong")
    assert password_step(client, "wang").status_code == 429
    assert password_step(Client(REMOTE_ADDR="203.0.113.51"), "wang").status_code == 302


def test_the_address_limit_can_be_higher_for_an_office_behind_one_address(
    make_user: Callable[..., User], settings: Any
) -> None:
    settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 20
    make_user(Role.AGENT, username="wang")
    client = Client(REMOTE_ADDR="203.0.113.50")
    for i in range(10):
        password_step(client, f"colleague{i}", "typo")
    assert password_step(client, "wang").status_code == 302


def test_the_lockout_ends_after_the_window(make_user: Callable[..., User], monkeypatch: Any) -> None:
    make_user(Role.AGENT, username="li")
    fail(Client(), "li", 5)
    later = timezone.now() + datetime.timedelta(minutes=16)
    monkeypatch.setattr(timezone, "now", lambda: later)
    monkeypatch.setattr(axes_proxy, "now", lambda: later)  # axes stamps attempts with its own import
    assert password_step(Client(), "li").status_code == 302


def test_wrong_codes_count_like_wrong_passwords(
    make_user: Callable[..., User], totp_device: Callable[[User], TOTPDevice]
) -> None:
    user = make_user(Role.AGENT, username="li")
    totp_device(user)
    client = Client()
    statuses = []
    for _ in range(5):
        assert password_step(client, "li").status_code == 302
        statuses.append(code_step(client, "000000").status_code)
    assert statuses == [200, 200, 200, 200, 429]
    assert password_step(client, "li").status_code == 429


def test_an_administrator_unlocks_from_the_user_admin(make_user: Callable[..., User], client: Client) -> None:
    user = make_user(Role.AGENT, username="li")
    fail(Client(), "li", 5)
    admin = make_user(Role.ADMIN, username="boss")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin)

    response = client.post("/admin/auth/user/", {"action": "unlock_logins", "_selected_action": [user.pk]})

    assert response.status_code == 302
    assert password_step(Client(), "li").status_code == 302
    event = SecurityEvent.objects.get(kind=SecurityEventKind.UNLOCKED)
    assert (event.user, event.actor) == (user, admin)


def test_axes_commands_unlock(make_user: Callable[..., User]) -> None:
    make_user(Role.AGENT, username="li")
    fail(Client(), "li", 5)
    call_command("axes_reset_username", "li", stdout=StringIO())
    assert password_step(Client(), "li").status_code == 302


def test_axes_admin_lists_the_failures(make_user: Callable[..., User], admin_client: Client) -> None:
    make_user(Role.AGENT, username="li")
    fail(Client(REMOTE_ADDR="203.0.113.9"), "li", 2)
    page = admin_client.get("/admin/axes/accessattempt/").content.decode()
    assert "203.0.113.9" in page


# --- password reset -----------------------------------------------------------------------------------


def request_reset(client: Client, email: str) -> Any:
    return client.post("/password/reset/", {"email": email})


def test_a_reset_link_arrives_and_the_answer_is_the_same_without_an_account(make_user: Callable[..., User]) -> None:
    user = make_user(Role.AGENT, username="li")
    user.email = "li@example.com"
    user.save()

    known = request_reset(Client(), "li@example.com")
    unknown = request_reset(Client(REMOTE_ADDR="203.0.113.2"), "nobody@example.com")

    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == "/password/reset/sent/"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["li@example.com"]
    assert "/password/reset/" in mail.outbox[0].body


def test_the_reset_link_starts_with_site_url_whatever_host_the_request_names(
    make_user: Callable[..., User], settings: Any
) -> None:
    """A forged Host header must not send the victim a link to the requester's own host."""
    settings.SITE_URL = "https://complaints.example.com"
    user = make_user(Role.AGENT, username="li")
    user.email = "li@example.com"
    user.save()
    request_reset(Client(HTTP_HOST="evil.example.net"), "li@example.com")
    links = [line for line in mail.outbox[0].body.splitlines() if "/password/reset/" in line]
    assert links and all(line.startswith("https://complaints.example.com/password/reset/") for line in links)
    assert "evil.example.net" not in mail.outbox[0].body


def test_reset_requests_are_limited_per_address(make_user: Callable[..., User]) -> None:
    client = Client(REMOTE_ADDR="203.0.113.7")
    statuses = [request_reset(client, f"someone{i}@example.com").status_code for i in range(6)]
    assert statuses == [302] * 5 + [429]
    assert "重置请求过多" in request_reset(client, "x@example.com").content.decode()


def test_reset_requests_are_limited_per_account(make_user: Callable[..., User]) -> None:
    user = make_user(Role.AGENT, username="li")
    user.email = "li@example.com"
    user.save()
    statuses = [request_reset(Client(REMOTE_ADDR=f"203.0.113.{i}"), "LI@example.com").status_code for i in range(7)]
    assert statuses == [302] * 5 + [429] * 2
    assert len(mail.outbox) == 5


def test_a_completed_reset_unlocks_the_account(make_user: Callable[..., User]) -> None:
    user = make_user(Role.AGENT, username="li")
    user.email = "li@example.com"
    user.save()
    fail(Client(REMOTE_ADDR="203.0.113.66"), "li", 5)
    request_reset(Client(), "li@example.com")
    link = next(line for line in mail.outbox[0].body.splitlines() if "/password/reset/" in line)
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    client = Client()
    form_page = client.get(path, follow=True)
    new = "a long new passphrase 2026"
    done = client.post(form_page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})

    assert done.status_code == 302 and done["Location"] == "/password/reset/done/"
    assert password_step(Client(), "li", new).status_code == 302


def test_the_admin_role_sees_failed_logins_and_security_events(make_user: Callable[..., User], client: Client) -> None:
    admin = make_user(Role.ADMIN, username="it")  # the role, not a superuser
    admin.is_staff = True
    admin.save()
    make_user(Role.AGENT, username="li")
    fail(Client(REMOTE_ADDR="203.0.113.9"), "li", 5)
    client.force_login(admin)
    assert "203.0.113.9" in client.get("/admin/axes/accessattempt/").content.decode()
    assert client.get("/admin/accounts/securityevent/").status_code == 200
    assert client.get("/admin/accounts/usersession/").status_code == 200
