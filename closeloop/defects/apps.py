from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DefectsConfig(AppConfig):
    name = "closeloop.defects"
    label = "defects"
    verbose_name = _("Defect early warning")

    def ready(self) -> None:
        from closeloop.defects import signals  # noqa: F401  (connects to complaint_registered)
