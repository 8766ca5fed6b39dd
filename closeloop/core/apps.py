from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_roles(sender: AppConfig, **kwargs: object) -> None:
    from closeloop.core.roles import sync_role_groups

    sync_role_groups()


class CoreConfig(AppConfig):
    name = "closeloop.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from closeloop.core import checks  # noqa: F401 - registers the system checks

        # Role groups must exist in every database, test databases included, with current permissions.
        # No sender filter: permissions are created app by app in post_migrate, and core's own signal
        # comes before directory's and complaints' permissions exist; the last call sees them all.
        post_migrate.connect(_sync_roles, dispatch_uid="closeloop_sync_roles")
