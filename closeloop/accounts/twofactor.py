"""Two-factor authentication: who must use it, the devices (django-otp's TOTP device and its static
device for recovery codes), checking a code, and the enrolment QR code.

A session is *verified* when django-otp's middleware finds a device in it (`request.user.is_verified()`).
A user must verify when a role of theirs is in TOTP_REQUIRED_ROLES, when they have set up a device
(optional for the other roles, but once set up it is asked at every login), and for the admin."""

from __future__ import annotations

import base64
import io
import re

import segno
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django_otp import devices_for_user, user_has_device
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from closeloop.core.roles import user_roles
from closeloop.core.types import AnyUser, User
from closeloop.sso.session import second_factor_at_provider

RECOVERY_CODE_COUNT = 10
# Set at login when the user has a device but the login did not pass a second factor (a login
# path other than the desk's two steps); the middleware then asks for a code before anything else.
SECOND_FACTOR_OWED = "accounts_second_factor_owed"
TOTP_DEVICE_NAME = "authenticator"
RECOVERY_DEVICE_NAME = "recovery codes"


def two_factor_required(user: AnyUser) -> bool:
    """A role of the user is in TOTP_REQUIRED_ROLES (a superuser holds every role)."""
    return bool(user_roles(user) & set(settings.TOTP_REQUIRED_ROLES))


def second_factor_passed(request: HttpRequest) -> bool:
    """This session passed a second factor: one of the user's devices (django-otp), or the identity
    provider's own when an OpenID Connect sign-in says so (closeloop/sso/session.py)."""
    return bool(request.user.is_verified()) or second_factor_at_provider(request)  # type: ignore[union-attr]  # added by django-otp's middleware


def session_needs_second_factor(request: HttpRequest) -> bool:
    """The logged-in user must still pass a second factor in this session (no query: the roles are
    cached on the user for the request, the rest is in the session)."""
    user = request.user
    if not user.is_authenticated or second_factor_passed(request):
        return False
    return bool(request.session.get(SECOND_FACTOR_OWED)) or two_factor_required(user)


def has_device(user: User) -> bool:
    return user_has_device(user, confirmed=True)


def confirmed_totp_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("-id").first()


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def normalize_code(code: str) -> str:
    """Codes are typed with spaces or dashes ("123 456", "abcd-efgh") and in any case."""
    return re.sub(r"[\s-]", "", code).lower()


def verify_code(*, user: User, code: str) -> Device | None:
    """The device that accepts `code` (an authenticator code or an unused recovery code), or None.

    Each device throttles its own failures (django-otp's ThrottlingMixin); the rows are locked so two
    concurrent requests cannot both spend one recovery code or one time step."""
    code = normalize_code(code)
    if not code:
        return None
    with transaction.atomic():
        for device in devices_for_user(user, confirmed=True, for_verify=True):
            # An authenticator code is digits; a recovery code never is only digits.
            if isinstance(device, TOTPDevice) != code.isdigit():
                continue
            if device.verify_token(code):
                return device
    return None


def new_recovery_codes() -> list[str]:
    return [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]


def format_recovery_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}" if len(code) == 8 else code


def secret_text(device: TOTPDevice) -> str:
    """The key as authenticator apps take it typed in: base32, in groups of four."""
    encoded = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(encoded[i : i + 4] for i in range(0, len(encoded), 4))


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// URL as an inline SVG QR code (no image file, no external service)."""
    buffer = io.BytesIO()
    segno.make(device.config_url, error="m").save(buffer, kind="svg", xmldecl=False, omitsize=True, border=2)
    return buffer.getvalue().decode()
