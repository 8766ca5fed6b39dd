from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HandlingConfig(AppConfig):
    name = "closeloop.handling"
    label = "handling"
    verbose_name = _("Cross-department handling")

    def ready(self) -> None:
        # The complaint page shows the tasks, solutions, postponements, disputes and feedback forms.
        from closeloop.complaints.panels import panel_provider_add

        for path in (
            "closeloop.handling.views.tasks.panel",
            "closeloop.handling.views.solutions.panel",
            "closeloop.handling.views.postponements.panel",
            "closeloop.handling.views.disputes.panel",
            "closeloop.handling.views.feedback.panel",
        ):
            panel_provider_add(path)
