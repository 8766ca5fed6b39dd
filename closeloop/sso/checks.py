"""System checks: a misconfigured sign-in names its variable (`closeloop check`, and before `migrate`
and `closeloop serve`)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.core.checks import CheckMessage, Error, register

from closeloop.core.roles import Role
from closeloop.sso.conf import LDAP_BACKEND, OIDC_BACKEND


@register("sso")
def sso_settings_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = [
        Error(
            f"{problem.variable}: {problem.message}",
            hint="See docs/operations.md, 'Single sign-on'. This sign-in is off until it is fixed.",
            id="sso.E001",
        )
        for problem in settings.SSO.problems
    ]
    errors += [
        checks.Warning(
            f"{problem.variable}: {problem.message}", hint="See docs/operations.md, 'Single sign-on'.", id="sso.W001"
        )
        for problem in settings.SSO.warnings
    ]
    roles = {role.value for role in Role}
    for prefix, path, configured in (
        ("LDAP", LDAP_BACKEND, settings.SSO.ldap),
        ("OIDC", OIDC_BACKEND, settings.SSO.oidc),
    ):
        if configured is None:
            continue
        for unknown in sorted(configured.groups.managed_roles - roles):
            errors.append(
                Error(
                    f"{prefix}_GROUP_ROLES: {unknown!r} is not a role (roles: {', '.join(sorted(roles))})",
                    hint="Role codes are those of closeloop/core/roles.py.",
                    id="sso.E001",
                )
            )
        if path is not None and path not in settings.AUTHENTICATION_BACKENDS:
            errors.append(
                Error(
                    f"{path} is configured but not in AUTHENTICATION_BACKENDS",
                    hint="settings.py appends settings.SSO.backends to AUTHENTICATION_BACKENDS.",
                    id="sso.E002",
                )
            )
    return errors
