from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class ComplaintsConfig(AppConfig):
    name = "closeloop.complaints"
    label = "complaints"
    verbose_name = pgettext_lazy("section title", "Complaints")
