"""System checks for a production configuration (`closeloop check --deploy`), beside Django's own.

`closeloop check --deploy` with the production variables of docs/operations.md reports nothing; each
message names the environment variable that fixes it. Messages are for the operator's console and, like
Django's own, in English.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

from closeloop.env import SMTP_EMAIL_BACKEND

# Addresses that name this machine (0.0.0.0 too: `closeloop serve --host 0.0.0.0` prints it).
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0", "::"})  # noqa: S104 - compared, not bound
CONSOLE_EMAIL = "django.core.mail.backends.console.EmailBackend"
# Django's, named in EMAIL_BACKEND, and ours (EMAIL_URL's smtp schemes), which also trusts EXTRA_CA_CERTS.
SMTP_EMAIL = frozenset({"django.core.mail.backends.smtp.EmailBackend", SMTP_EMAIL_BACKEND})


def _site_host() -> str:
    return (urllib.parse.urlsplit(settings.SITE_URL).hostname or "").lower()


@register("closeloop")
def check_site_url_scheme(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    """Always (not only with --deploy): HTTPS on with an http:// SITE_URL is a contradiction, and it is
    how a production configuration without SITE_URL shows itself on the first `closeloop migrate`."""
    if settings.HTTPS and not settings.SITE_URL.startswith("https://"):
        return [
            Error(
                f"HTTPS is on but SITE_URL is {settings.SITE_URL!r}: links sent to customers and staff would "
                "point at the wrong address.",
                hint="Set SITE_URL to the https:// address users reach CloseLoop at, e.g. https://complaints.example.com.",
                id="closeloop.E001",
            )
        ]
    return []


@register("closeloop", deploy=True)
def check_site_url(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    if settings.DEBUG or _site_host() not in LOCAL_HOSTS:
        return []
    return [
        Error(
            f"SITE_URL is {settings.SITE_URL!r}: survey links and alert links in SMS and e-mail would point at "
            "this machine, which customers and staff cannot reach.",
            hint="Set SITE_URL to the address users reach CloseLoop at, e.g. https://complaints.example.com.",
            id="closeloop.E002",
        )
    ]


@register("closeloop", deploy=True)
def check_allowed_hosts(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    if "*" not in settings.ALLOWED_HOSTS:
        return []
    return [
        Warning(
            "ALLOWED_HOSTS accepts any host name.",
            hint="Set ALLOWED_HOSTS to the host names CloseLoop is reached under (comma-separated).",
            id="closeloop.W001",
        )
    ]


@register("closeloop", deploy=True)
def check_email(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    found: list[CheckMessage] = []
    if settings.EMAIL_BACKEND == CONSOLE_EMAIL:
        found.append(
            Warning(
                "E-mail is only written to the log (the console backend): customers and staff receive none.",
                hint="Set EMAIL_URL, e.g. smtp+tls://user:password@mail.example.com:587 (dummy:// to send none).",
                id="closeloop.W002",
            )
        )
    elif (
        settings.EMAIL_BACKEND in SMTP_EMAIL
        and not (settings.EMAIL_USE_TLS or settings.EMAIL_USE_SSL)
        and settings.EMAIL_HOST.lower() not in LOCAL_HOSTS
    ):
        found.append(
            Warning(
                f"E-mail goes to {settings.EMAIL_HOST} without TLS: passwords and customers' data travel in clear.",
                hint="Use an smtp+tls:// (STARTTLS) or smtps:// (TLS) EMAIL_URL.",
                id="closeloop.W003",
            )
        )
    if settings.EMAIL_BACKEND in SMTP_EMAIL:
        for name, address in (
            ("DEFAULT_FROM_EMAIL", settings.DEFAULT_FROM_EMAIL),
            ("SERVER_EMAIL", settings.SERVER_EMAIL),
        ):
            if address.rsplit("@", 1)[-1].strip(">").lower() in LOCAL_HOSTS:
                found.append(
                    Warning(
                        f"{name} is {address!r}: mail servers reject or file as spam mail from a local address.",
                        hint=f"Set {name} to an address of your mail domain, e.g. 客诉 <complaints@example.com>.",
                        id="closeloop.W004",
                    )
                )
    return found
