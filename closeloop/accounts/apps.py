from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "closeloop.accounts"
    label = "accounts"
    verbose_name = _("Accounts and sessions")

    def ready(self) -> None:
        from closeloop.accounts import receivers  # noqa: F401  (connects the signal receivers)

        checks.register(check_required_roles)


def check_required_roles(**kwargs: Any) -> list[checks.CheckMessage]:
    """A misspelt role in TOTP_REQUIRED_ROLES would silently exempt that role from two-factor."""
    from django.conf import settings

    from closeloop.core.roles import Role

    known = {role.value for role in Role}
    return [
        checks.Error(
            f"TOTP_REQUIRED_ROLES names {code!r}, which is not a role ({', '.join(sorted(known))}).",
            id="accounts.E001",
        )
        for code in settings.TOTP_REQUIRED_ROLES
        if code not in known
    ]
