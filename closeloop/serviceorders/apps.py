from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceOrdersConfig(AppConfig):
    name = "closeloop.serviceorders"
    label = "serviceorders"
    verbose_name = _("Service orders")

    def ready(self) -> None:
        from closeloop.complaints.panels import panel_provider_add
        from closeloop.complaints.repeats import related_finder_add
        from closeloop.sla.sweeps import SERVICE_ORDER, subject_recorder_add

        # The complaint page lists the service orders it created (an exchange it waits for).
        panel_provider_add("closeloop.serviceorders.views.complaint_panel")
        # The one SLA sweep records a service order's deadlines on the order's timeline.
        subject_recorder_add(SERVICE_ORDER, "closeloop.serviceorders.sweeps.ServiceDeadlineRecorder")
        # A complaint's intake sees the customer's recent service orders on the same product.
        related_finder_add("closeloop.serviceorders.selectors.orders_related_to_complaint")
