from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class ComplaintsConfig(AppConfig):
    name = "closeloop.complaints"
    label = "complaints"
    verbose_name = pgettext_lazy("section title", "Complaints")

    def ready(self) -> None:
        from closeloop.sla.sweeps import COMPLAINT, subject_recorder_add

        # The one SLA sweep records a complaint's (and its tasks') deadlines on the complaint's timeline.
        subject_recorder_add(COMPLAINT, "closeloop.complaints.sweeps.DeadlineRecorder")
