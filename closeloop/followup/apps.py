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
            "closeloop.followup.views.customer.panel",
        ):
            panel_provider_add(path)

        # `{survey_url}` in a message an agent writes to the customer: a link to this follow-up's survey.
        from closeloop.complaints.customer_messages import late_placeholder_register
        from closeloop.followup.services.survey import survey_url_for_message

        late_placeholder_register("survey_url", survey_url_for_message)
