"""System checks of the gateway settings (`closeloop check`, `closeloop check --deploy`).

Messages are for the operator's console and, like Django's own, in English; each names the variable.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

from closeloop.core.roles import Role
from closeloop.notifications.gateways.conf import SMS_BACKENDS
from closeloop.notifications.gateways.generic import uses_template
from closeloop.notifications.gateways.templates import SMS_KINDS

TEMPLATE_GATEWAYS = frozenset({SMS_BACKENDS["aliyun"], SMS_BACKENDS["tencent"]})


@register("closeloop")
def check_roles_named(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    """A role misspelt in a mapping would silently never match anyone."""
    roles = {r.value for r in Role}
    found: list[CheckMessage] = []
    for variable, names in (
        ("STAFF_CHANNEL_BY_ROLE", settings.STAFF_CHANNEL_BY_ROLE),
        ("WECOM_ROBOTS", settings.WECOM_ROBOTS),
        ("DINGTALK_ROBOTS", settings.DINGTALK_ROBOTS),
    ):
        unknown = sorted(set(names) - roles)
        if unknown:
            found.append(
                Error(
                    f"{variable} names {', '.join(unknown)}, which is no role.",
                    hint=f"The roles are {', '.join(sorted(roles))}.",
                    id="closeloop.E010",
                )
            )
    return found


@register("closeloop")
def check_sms_templates(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    """阿里云 and 腾讯云 send only approved templates: an SMS kind without one would fail every time."""
    backend = settings.SMS_BACKEND
    needs_templates = backend in TEMPLATE_GATEWAYS or (
        backend == SMS_BACKENDS["http"] and settings.SMS_HTTP is not None and uses_template(settings.SMS_HTTP)
    )
    missing = [kind for kind in SMS_KINDS if kind not in settings.SMS_TEMPLATES]
    if not needs_templates or not missing:
        return []
    return [
        Error(
            f"SMS_TEMPLATES has no template for {', '.join(missing)}: these SMS to customers would fail.",
            hint='Map each kind to the template approved in the SMS console: {"survey": {"template": "SMS_…", '
            '"params": ["number", "url"]}, …} (docs/operations.md, "SMS templates").',
            id="closeloop.E011",
        )
    ]


@register("closeloop", deploy=True)
def check_sms_sent(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    backend = settings.SMS_BACKEND
    if backend != SMS_BACKENDS["console"]:
        return []
    return [
        Warning(
            "SMS are only written to the log (the console backend): customers receive none.",
            hint="Set SMS_BACKEND to aliyun, tencent or http and its variables (docs/operations.md, Gateways).",
            id="closeloop.W010",
        )
    ]
