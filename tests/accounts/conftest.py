"""Accounts fixtures: logging in through the real pages, codes from a real authenticator key, and
the worker run in-process (the reset e-mail leaves through it)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from huey.contrib.djhuey import HUEY

from closeloop.accounts.testing import next_totp_code
from tests.conftest import PASSWORD


@pytest.fixture(autouse=True)
def _huey_immediate() -> Iterator[None]:
    previous = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = previous


@pytest.fixture
def totp_device() -> Callable[[User], TOTPDevice]:
    """A confirmed authenticator for a user, as the enrolment leaves it."""

    def make(user: User) -> TOTPDevice:
        return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)

    return make


def password_step(client: Client, username: str, password: str = PASSWORD, **extra: Any) -> Any:
    return client.post("/login/", {"username": username, "password": password, **extra})


def code_step(client: Client, code: str) -> Any:
    return client.post("/login/code/", {"code": code})


def log_in_with_code(client: Client, user: User, device: TOTPDevice) -> Any:
    """The whole desk login of a user with an authenticator: password, then the app's code."""
    first = password_step(client, user.username)
    assert first.status_code == 302 and first["Location"] == "/login/code/", first
    return code_step(client, next_totp_code(device))
