from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TriageConfig(AppConfig):
    name = "closeloop.triage"
    label = "triage"
    verbose_name = _("Triage")

    def ready(self) -> None:
        from closeloop.triage import signals  # noqa: F401  (connects to complaint_registered)
