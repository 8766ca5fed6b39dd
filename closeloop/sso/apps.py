import logging

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger("closeloop.sso")


class SsoConfig(AppConfig):
    name = "closeloop.sso"
    label = "sso"
    verbose_name = _("Single sign-on")

    def ready(self) -> None:
        from django.conf import settings

        from closeloop.sso import checks  # noqa: F401 - registers the system checks

        # gunicorn runs no system checks: a misconfigured sign-in is off, and the log says why.
        for problem in settings.SSO.problems:
            logger.error("single sign-on: %s: %s", problem.variable, problem.message)
        for problem in settings.SSO.warnings:
            logger.warning("single sign-on: %s: %s", problem.variable, problem.message)
