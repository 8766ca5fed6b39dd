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
        from closeloop.complaints.repeats import related_finder_add

        # A complaint's intake sees the customer's recent service orders on the same product.
        related_finder_add("closeloop.serviceorders.selectors.orders_related_to_complaint")
