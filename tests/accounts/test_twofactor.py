"""Given TOTP two-factor authentication, when a user sets it up, logs in, loses the phone or belongs
to a role that requires it, then: the QR code and key set up a real authenticator, the login asks
for its code, recovery codes work once each, and required roles reach nothing before enrolling."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from closeloop.accounts.models import SecurityEvent, SecurityEventKind
from closeloop.accounts.testing import next_totp_code, totp_code
from closeloop.core.roles import Role
from closeloop.core.services import api_token_create
from tests.accounts.conftest import code_step, log_in_with_code, password_step
from tests.api.conftest import ApiClient
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def enrol(client: Client) -> tuple[TOTPDevice, list[str]]:
    """Open the enrolment page, read the key as a person would type it, confirm with the app's code."""
    page = client.get("/desk/account/two-factor/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and "viewBox" in html  # the QR code, inline
    secret = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', html).group(1).replace(" ", "")  # type: ignore[union-attr]
    device = TOTPDevice.objects.get(confirmed=False)
    import base64

    assert base64.b32decode(secret + "=" * (-len(secret) % 8)) == device.bin_key
    response = client.post("/desk/account/two-factor/", {"code": totp_code(device)})
    assert response.status_code == 200, response
    codes = re.findall(r"<li><code>([a-z2-7]{4}-[a-z2-7]{4})</code></li>", response.content.decode())
    device.refresh_from_db()
    assert device.confirmed
    return device, codes


def test_enrolment_shows_ten_codes_once_and_turns_the_login_into_two_steps(
    make_user: Callable[..., User], client: Client
) -> None:
    user = make_user(Role.AGENT, username="li")
    client.force_login(user)

    device, codes = enrol(client)

    assert len(codes) == len(set(codes)) == 10
    assert StaticToken.objects.filter(device__user=user).count() == 10
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEventKind.TWO_FACTOR_ENROLLED).exists()
    account = client.get("/desk/account/").content.decode()
    assert codes[0] not in account  # shown once

    fresh = Client()
    first = password_step(fresh, "li")
    assert first.status_code == 302 and first["Location"] == "/login/code/"
    assert "_auth_user_id" not in fresh.session  # not logged in between the steps
    assert fresh.get("/desk/").status_code == 302
    done = code_step(fresh, next_totp_code(device))
    assert done.status_code == 302 and done["Location"] == "/"  # the home, which sends each role to its own page
    assert fresh.get("/desk/").status_code == 200


def test_a_wrong_code_is_refused_and_a_used_code_cannot_be_replayed(
    make_user: Callable[..., User], monkeypatch: Any
) -> None:
    user = make_user(Role.AGENT, username="li")
    device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    client = Client()
    password_step(client, "li")
    wrong = code_step(client, "123456" if totp_code(device) != "123456" else "654321")
    assert wrong.status_code == 200 and "_auth_user_id" not in client.session

    device.refresh_from_db()
    device.throttle_reset()  # django-otp's own back-off after a failure (1 s) is not what this tests
    code = next_totp_code(device)
    assert code_step(client, code).status_code == 302
    replay = Client()
    password_step(replay, "li")
    device.refresh_from_db()
    assert code_step(replay, code).status_code == 200
    assert "_auth_user_id" not in replay.session


def test_a_recovery_code_works_once(make_user: Callable[..., User], client: Client) -> None:
    user = make_user(Role.AGENT, username="li")
    client.force_login(user)
    _device, codes = enrol(client)

    first = Client()
    password_step(first, "li")
    response = code_step(first, codes[3].upper().replace("-", " "))
    assert response.status_code == 302
    assert first.get("/desk/").status_code == 200
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEventKind.RECOVERY_CODE_USED).exists()

    again = Client()
    password_step(again, "li")
    assert code_step(again, codes[3]).status_code == 200
    assert StaticToken.objects.filter(device__user=user).count() == 9


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGEMENT])
def test_a_required_role_enrols_before_anything_else(role: Role, make_user: Callable[..., User]) -> None:
    make_user(role, username="gm")
    client = Client()
    assert password_step(client, "gm").status_code == 302
    for path in ("/desk/", "/desk/insight/dashboard/", "/desk/account/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/desk/account/two-factor/?next=")
    assert client.get("/api/v1/complaints").status_code == 401  # the browser session is not enough
    assert client.get("/desk/account/two-factor/").status_code == 200

    enrol(client)

    assert client.get("/desk/").status_code == 200
    assert client.get("/api/v1/complaints").status_code == 200


def test_the_required_roles_are_a_setting(make_user: Callable[..., User], settings: Any) -> None:
    settings.TOTP_REQUIRED_ROLES = ["agent"]
    make_user(Role.AGENT, username="li")
    make_user(Role.MANAGEMENT, username="gm")
    li, gm = Client(), Client()
    password_step(li, "li")
    password_step(gm, "gm")
    assert li.get("/desk/").status_code == 302
    assert gm.get("/desk/").status_code == 200


def test_the_admin_asks_for_a_verified_session(
    make_user: Callable[..., User], login_without_second_factor: Callable[[Client, User], None]
) -> None:
    staff = make_user(Role.AGENT, username="helper")
    staff.is_staff = True
    staff.save()
    client = Client()
    login_without_second_factor(client, staff)

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/desk/account/two-factor/?next=")
    assert client.get("/desk/").status_code == 200  # the desk does not need it for this role
    enrol(client)
    assert client.get("/admin/").status_code == 200


def test_another_login_path_still_owes_the_code(
    make_user: Callable[..., User], login_without_second_factor: Callable[[Client, User], None]
) -> None:
    """A login that did not pass the code step (a directory backend, SSO) must still give the code."""
    user = make_user(Role.AGENT, username="li")
    device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    client = Client()
    login_without_second_factor(client, user)

    response = client.get("/desk/")

    assert response.status_code == 302 and response["Location"].startswith("/login/code/?next=")
    assert client.get("/desk/account/two-factor/").status_code == 302  # no second device without the first
    assert client.post("/login/code/?next=/desk/", {"code": next_totp_code(device)}).status_code == 302
    assert client.get("/desk/").status_code == 200


def test_bearer_tokens_are_not_asked_for_a_code(make_user: Callable[..., User]) -> None:
    gm = make_user(Role.MANAGEMENT)
    _token, raw_key = api_token_create(user=gm, name="bi")
    assert ApiClient(raw_key).get("/api/v1/complaints").status_code == 200


def test_new_recovery_codes_replace_the_old(make_user: Callable[..., User], client: Client) -> None:
    user = make_user(Role.AGENT, username="li")
    client.force_login(user)
    _device, old = enrol(client)

    response = client.post("/desk/account/two-factor/recovery-codes/")

    new = re.findall(r"<li><code>([a-z2-7]{4}-[a-z2-7]{4})</code></li>", response.content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    fresh = Client()
    password_step(fresh, "li")
    assert code_step(fresh, old[0]).status_code == 200


def test_optional_two_factor_can_be_turned_off_with_the_password(
    make_user: Callable[..., User], client: Client
) -> None:
    user = make_user(Role.AGENT, username="li")
    client.force_login(user)
    enrol(client)
    refused = client.post("/desk/account/two-factor/off/", {"password": "not it"})
    assert refused.status_code == 400
    assert client.post("/desk/account/two-factor/off/", {"password": PASSWORD}).status_code == 302
    assert password_step(Client(), "li").status_code == 302  # straight in again
    assert password_step(Client(), "li")["Location"] == "/"


def test_a_required_role_cannot_turn_it_off(make_user: Callable[..., User], client: Client) -> None:
    gm = make_user(Role.MANAGEMENT)
    client.force_login(gm)
    response = client.post("/desk/account/two-factor/off/", {"password": PASSWORD})
    assert response.status_code == 400
    assert TOTPDevice.objects.filter(user=gm, confirmed=True).exists()


def test_a_new_phone_replaces_the_old_one(make_user: Callable[..., User], client: Client) -> None:
    user = make_user(Role.AGENT, username="li")
    client.force_login(user)
    old, _codes = enrol(client)
    new, _codes = enrol(client)
    assert old != new and list(TOTPDevice.objects.filter(user=user)) == [new]
    assert log_in_with_code(Client(), user, new).status_code == 302


def test_an_administrator_resets_a_lost_phone(make_user: Callable[..., User], client: Client) -> None:
    gm = make_user(Role.MANAGEMENT, username="gm")
    gm_client = Client()
    gm_client.force_login(gm)
    admin = make_user(Role.ADMIN, username="boss")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin)

    client.post("/admin/auth/user/", {"action": "reset_two_factor", "_selected_action": [gm.pk]})

    assert not TOTPDevice.objects.filter(user=gm).exists()
    assert gm_client.get("/desk/").status_code == 302  # the session ended
    again = Client()
    password_step(again, "gm")
    assert again.get("/desk/")["Location"].startswith("/desk/account/two-factor/")


def test_totp_codes_match_an_independent_implementation(make_user: Callable[..., User]) -> None:
    """The key shown is the device's: RFC 6238 computed here gives the code the device accepts."""
    import hashlib
    import hmac
    import struct
    import time

    user = make_user(Role.AGENT)
    device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    counter = int(time.time()) // 30
    digest = hmac.new(device.bin_key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    assert device.verify_token(f"{code:06d}")
