"""Test support (used by the test suite and the benchmark scripts, never by a view): what the code
step does for a session, done directly on a test client, and the code an authenticator shows."""

from __future__ import annotations

import time
from typing import Any

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from closeloop.accounts.twofactor import SECOND_FACTOR_OWED, TOTP_DEVICE_NAME
from closeloop.core.types import User


def verify_session(client: Any, user: User) -> TOTPDevice:
    """Give `user` a confirmed authenticator if they have none and mark the test client's session as
    verified with it, as django-otp's login() does after a correct code."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.pop(SECOND_FACTOR_OWED, None)
    session.save()
    return device


def totp_code(device: TOTPDevice, *, at: float | None = None) -> str:
    """The code the user's authenticator app shows at `at` (now by default). A device accepts each
    time step once; a caller that needs a second code in the same step takes the next step's."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() if at is None else at
    return f"{totp.token():0{device.digits}d}"


def next_totp_code(device: TOTPDevice) -> str:
    """A code the device has not accepted yet: this time step's, or the next one's (the device
    allows one step of drift) when this step's was used already."""
    device.refresh_from_db()
    now = time.time()
    current_step = int((now - device.t0) // device.step)
    at = now if device.last_t < current_step else now + device.step
    return totp_code(device, at=at)
