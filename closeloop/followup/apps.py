from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowupConfig(AppConfig):
    name = "closeloop.followup"
    label = "followup"
    verbose_name = _("Follow-up and closing")

    def ready(self) -> None:
        # The complaint page shows the follow-ups, the closing checklist and the repeats.
        from closeloop.complaints.panels import panel_provider_add

        for path in (
            "closeloop.followup.views.followups.panel",
            "closeloop.followup.views.closing.panel",
            "closeloop.followup.views.repeats.panel",
        ):
            panel_provider_add(path)
