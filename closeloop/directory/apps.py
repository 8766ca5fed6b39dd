from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DirectoryConfig(AppConfig):
    name = "closeloop.directory"
    label = "directory"
    verbose_name = _("Directory")

    def ready(self) -> None:
        from closeloop.core import refcache
        from closeloop.directory.models import ComplaintType, Department, Product, ProductLine

        refcache.watch(ComplaintType, Department, Product, ProductLine)
