"""Given login sessions, when one is left alone or gets old (an injected clock, no sleeping), when a
user ends another, or when a password changes or an account is deactivated by any path, then the
sessions end, the API tokens are revoked, and the account page shows what is left."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from closeloop.accounts.models import SecurityEvent, SecurityEventKind, SessionEnd, UserSession
from closeloop.accounts.services import sessions_purge
from closeloop.core.models import ApiToken
from closeloop.core.roles import Role
from closeloop.core.services import api_token_create
from tests.accounts.conftest import password_step
from tests.api.conftest import ApiClient
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a different long passphrase"


class Clock:
    """timezone.now, moved by the test."""

    def __init__(self, monkeypatch: Any) -> None:
        self.now = timezone.now()
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def advance(self, **delta: float) -> None:
        self.now += datetime.timedelta(**delta)


def logged_in(user: User, **client_kwargs: Any) -> Client:
    client = Client(**client_kwargs)
    client.force_login(user)
    return client


def test_idle_sessions_end_after_the_idle_limit(make_user: Callable[..., User], monkeypatch: Any) -> None:
    clock = Clock(monkeypatch)
    client = logged_in(make_user(Role.AGENT))
    clock.advance(minutes=29)
    assert client.get("/desk/").status_code == 200  # activity: the idle clock starts again
    clock.advance(minutes=29)
    assert client.get("/desk/").status_code == 200
    clock.advance(minutes=31)

    response = client.get("/desk/")

    assert response.status_code == 302 and response["Location"] == "/login/?next=/desk/"
    assert UserSession.objects.get().end_reason == SessionEnd.IDLE
    assert "30 分钟无操作" in client.get(response["Location"]).content.decode()


def test_sessions_end_after_the_absolute_limit_however_busy(make_user: Callable[..., User], monkeypatch: Any) -> None:
    clock = Clock(monkeypatch)
    client = logged_in(make_user(Role.AGENT))
    statuses = []
    for _ in range(12 * 4 + 1):
        clock.advance(minutes=15)
        statuses.append(client.get("/desk/").status_code)
    assert statuses == [200] * 12 * 4 + [302]  # every quarter of an hour for 12 hours, then no more
    assert UserSession.objects.get().end_reason == SessionEnd.EXPIRED


def test_both_limits_are_settings(make_user: Callable[..., User], monkeypatch: Any, settings: Any) -> None:
    settings.SESSION_IDLE_MINUTES = 5
    clock = Clock(monkeypatch)
    client = logged_in(make_user(Role.AGENT))
    clock.advance(minutes=6)
    assert client.get("/desk/").status_code == 302


def test_an_expired_session_gets_401_from_the_api(make_user: Callable[..., User], monkeypatch: Any) -> None:
    clock = Clock(monkeypatch)
    client = logged_in(make_user(Role.AGENT))
    assert client.get("/api/v1/complaints").status_code == 200
    clock.advance(hours=1)
    assert client.get("/api/v1/complaints").status_code == 401


def test_htmx_requests_are_sent_to_the_login_page_whole(make_user: Callable[..., User], monkeypatch: Any) -> None:
    clock = Clock(monkeypatch)
    client = logged_in(make_user(Role.AGENT))
    clock.advance(hours=1)
    response = client.get("/desk/", headers={"HX-Request": "true"})
    assert response["HX-Redirect"] == "/login/?next=/desk/"


def test_activity_is_written_at_most_once_a_minute(make_user: Callable[..., User], monkeypatch: Any) -> None:
    clock = Clock(monkeypatch)
    client = logged_in(make_user(Role.AGENT))
    login_at = UserSession.objects.get().last_activity_at
    clock.advance(seconds=30)
    client.get("/desk/")
    assert UserSession.objects.get().last_activity_at == login_at
    clock.advance(seconds=40)
    client.get("/desk/")
    assert UserSession.objects.get().last_activity_at == clock.now


def test_the_account_page_lists_sessions_and_ends_another(make_user: Callable[..., User]) -> None:
    user = make_user(Role.AGENT, username="li")
    phone = Client(headers={"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Safari/604.1"})
    office = Client(
        REMOTE_ADDR="10.1.2.3", headers={"User-Agent": "Mozilla/5.0 (Windows NT 10.0) Chrome/120 Safari/537"}
    )
    password_step(phone, "li")
    password_step(office, "li")
    page = office.get("/desk/account/").content.decode()
    assert "Chrome · Windows" in page and "Safari · iPhone" in page and "10.1.2.3" in page and "本会话" in page
    other = UserSession.objects.exclude(ip_address="10.1.2.3").get()

    response = office.post(f"/desk/account/sessions/{other.pk}/end/")

    assert response.status_code == 302
    assert phone.get("/desk/").status_code == 302
    assert office.get("/desk/").status_code == 200
    other.refresh_from_db()
    assert other.end_reason == SessionEnd.BY_USER
    assert SecurityEvent.objects.filter(kind=SecurityEventKind.SESSIONS_ENDED, user=user).exists()


def test_a_user_cannot_end_someone_elses_session(make_user: Callable[..., User]) -> None:
    victim = logged_in(make_user(Role.AGENT))
    attacker = logged_in(make_user(Role.AGENT))
    row = UserSession.objects.order_by("pk").first()
    attacker.post(f"/desk/account/sessions/{row.pk}/end/")  # type: ignore[union-attr]
    assert victim.get("/desk/").status_code == 200


def test_end_all_other_sessions(make_user: Callable[..., User]) -> None:
    user = make_user(Role.AGENT)
    others = [logged_in(user) for _ in range(3)]
    me = logged_in(user)
    me.post("/desk/account/sessions/end-others/")
    assert [c.get("/desk/").status_code for c in others] == [302, 302, 302]
    assert me.get("/desk/").status_code == 200


def test_logout_marks_the_session_ended(make_user: Callable[..., User]) -> None:
    client = logged_in(make_user(Role.AGENT))
    client.post("/logout/")
    assert UserSession.objects.get().end_reason == SessionEnd.LOGOUT


# --- credentials changed --------------------------------------------------------------------------


@pytest.fixture
def victim(make_user: Callable[..., User]) -> dict[str, Any]:
    user = make_user(Role.AGENT, username="li")
    _token, raw_key = api_token_create(user=user, name="script")
    return {"user": user, "other": logged_in(user), "api": ApiClient(raw_key)}


def assert_cut_off(victim: dict[str, Any]) -> None:
    assert victim["other"].get("/desk/").status_code == 302
    assert victim["api"].get("/api/v1/complaints").status_code == 401
    assert not ApiToken.objects.filter(user=victim["user"], revoked_at__isnull=True).exists()
    assert not UserSession.objects.filter(user=victim["user"], ended_at__isnull=True).exclude(
        session_key__in=[c.session.session_key for c in victim.get("keep", [])]
    )


def test_desk_password_change_keeps_this_session_only(victim: dict[str, Any]) -> None:
    me = logged_in(victim["user"])
    response = me.post(
        "/desk/account/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    victim["keep"] = [me]
    assert_cut_off(victim)
    assert me.get("/desk/").status_code == 200
    assert UserSession.objects.get(ended_at__isnull=True).session_key == me.session.session_key  # followed the key
    event = SecurityEvent.objects.get(kind=SecurityEventKind.PASSWORD_CHANGED)
    assert event.detail == {"sessions_ended": 1, "tokens_revoked": 1}


def test_admin_password_change(victim: dict[str, Any], admin_client: Client) -> None:
    uid = victim["user"].pk
    response = admin_client.post(
        f"/admin/auth/user/{uid}/password/", {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert_cut_off(victim)
    assert admin_client.get("/admin/").status_code == 200


def test_admin_deactivation(victim: dict[str, Any], admin_client: Client) -> None:
    user = victim["user"]
    form = admin_client.get(f"/admin/auth/user/{user.pk}/change/").context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k not in {"groups", "user_permissions"}}
    data.update({"is_active": "", "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00"})
    data.pop("last_login", None)
    data.pop("password", None)
    response = admin_client.post(f"/admin/auth/user/{user.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    assert_cut_off(victim)
    assert SecurityEvent.objects.filter(kind=SecurityEventKind.DEACTIVATED, user=user).exists()


def test_password_reset(victim: dict[str, Any]) -> None:
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    user = victim["user"]
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    client = Client()
    page = client.get(f"/password/reset/{uid}/{default_token_generator.make_token(user)}/", follow=True)
    client.post(page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert_cut_off(victim)
    assert password_step(Client(), "li", NEW_PASSWORD).status_code == 302


def test_changepassword_command(victim: dict[str, Any], monkeypatch: Any) -> None:
    monkeypatch.setattr("getpass.getpass", lambda prompt="": NEW_PASSWORD)
    call_command("changepassword", "li", stdout=StringIO())
    assert_cut_off(victim)


def test_deactivation_in_code(victim: dict[str, Any]) -> None:
    user = victim["user"]
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert_cut_off(victim)


def test_purge_keeps_recent_rows(make_user: Callable[..., User], monkeypatch: Any) -> None:
    clock = Clock(monkeypatch)
    client = logged_in(make_user(Role.AGENT))
    client.post("/logout/")
    logged_in(make_user(Role.AGENT))
    assert sessions_purge() == 0
    clock.advance(days=31)
    assert sessions_purge() == 2


def test_ending_this_very_session_logs_out(make_user: Callable[..., User]) -> None:
    client = logged_in(make_user(Role.AGENT))
    row = UserSession.objects.get()
    response = client.post(f"/desk/account/sessions/{row.pk}/end/")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert client.get("/desk/").status_code == 302


def test_an_administrator_ends_a_users_sessions_but_not_their_own(
    make_user: Callable[..., User], admin_client: Client, admin_user: User
) -> None:
    user = make_user(Role.AGENT)
    theirs = logged_in(user)
    response = admin_client.post(
        "/admin/auth/user/", {"action": "end_sessions", "_selected_action": [user.pk, admin_user.pk]}
    )
    assert response.status_code == 302
    assert theirs.get("/desk/").status_code == 302
    assert admin_client.get("/admin/").status_code == 200


def test_a_rehash_at_login_is_not_a_password_change(make_user: Callable[..., User], settings: Any) -> None:
    """After an upgrade to a stronger hasher Django re-hashes each password at its next login; the
    password is the same, so no token is revoked. (Django's own session check, an HMAC of the hash,
    still ends the user's other sessions then.)"""
    from django.contrib.auth.hashers import make_password

    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    ]
    user = make_user(Role.AGENT, username="li")
    User.objects.filter(pk=user.pk).update(password=make_password(PASSWORD, hasher="pbkdf2_sha1"))
    _token, raw_key = api_token_create(user=user, name="script")

    assert password_step(Client(), "li").status_code == 302

    user.refresh_from_db()
    assert user.password.startswith("md5$")  # re-hashed
    assert ApiClient(raw_key).get("/api/v1/complaints").status_code == 200
    assert not SecurityEvent.objects.filter(kind=SecurityEventKind.PASSWORD_CHANGED).exists()


def test_turning_password_login_off_is_a_change(victim: dict[str, Any]) -> None:
    user = victim["user"]
    user.set_unusable_password()
    user.save()
    assert_cut_off(victim)
