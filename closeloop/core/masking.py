"""Masking of personal data for roles without `directory.view_personal_data`."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

PERSONAL_DATA_PERMISSION = "directory.view_personal_data"


def can_see_personal_data(user: AbstractBaseUser | AnonymousUser | None) -> bool:
    return bool(user is not None and user.is_authenticated and user.has_perm(PERSONAL_DATA_PERMISSION))


def mask_phone(phone: str) -> str:
    """`13812345678` → `138****5678`; short numbers keep only their last 4 digits."""
    if not phone:
        return ""
    if len(phone) >= 11:
        return f"{phone[:3]}****{phone[-4:]}"
    if len(phone) > 4:
        return "*" * (len(phone) - 4) + phone[-4:]
    return "*" * len(phone)


def mask_email(email: str) -> str:
    """`zhang.wei@example.com` → `z***@example.com`."""
    if not email:
        return ""
    local, _sep, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def mask_address(address: str) -> str:
    """Keep the first 6 characters (province/city level), hide the street and house number."""
    if not address:
        return ""
    return address[:6] + "****" if len(address) > 6 else "****"
