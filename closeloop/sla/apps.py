from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    name = "closeloop.sla"
    label = "sla"
    verbose_name = _("Working calendar and SLA")

    def ready(self) -> None:
        from closeloop.core import refcache
        from closeloop.sla.models import Calendar, CalendarDay, Policy, PolicyRule, PolicyTarget

        refcache.watch(Calendar, CalendarDay, Policy, PolicyRule, PolicyTarget)
