from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

PANEL = "closeloop.improvement.views.panel"


class ImprovementConfig(AppConfig):
    name = "closeloop.improvement"
    label = "improvement"
    verbose_name = _("Improvement actions")

    def ready(self) -> None:
        # The complaint page lists the actions raised from it (complaints.panels reads the list on first use).
        from closeloop.complaints.panels import panel_provider_add

        panel_provider_add(PANEL)
