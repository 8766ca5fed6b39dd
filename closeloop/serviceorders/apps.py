from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceOrdersConfig(AppConfig):
    name = "closeloop.serviceorders"
    label = "serviceorders"
    verbose_name = _("Service orders")

    def ready(self) -> None:
        from closeloop.complaints.panels import panel_provider_add

        # The complaint page lists the service orders it created (an exchange it waits for).
        panel_provider_add("closeloop.serviceorders.views.complaint_panel")
