from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DefectsConfig(AppConfig):
    name = "closeloop.defects"
    label = "defects"
    verbose_name = _("Defect early warning")

    def ready(self) -> None:
        from closeloop.complaints.panels import panel_provider_add

        # The complaint page offers quality to join the complaint to an open incident.
        panel_provider_add("closeloop.defects.views.panel.panel")
