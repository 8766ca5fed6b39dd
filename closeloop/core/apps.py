from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_roles(sender: AppConfig, **kwargs: object) -> None:
    """Once per migrate or flush: post_migrate is sent for every app with models, in registry order, and
    each app's permissions are created by auth's receiver (connected first) for that app. The last app's
    signal therefore comes after every permission exists; acting on each app's signal cost a test
    database's creation, and every transactional test's flush, one full sync per app (54)."""
    from closeloop.core.roles import sync_role_groups

    with_models = [config for config in apps.get_app_configs() if config.models_module is not None]
    if with_models and sender is not with_models[-1]:
        return
    sync_role_groups()


class CoreConfig(AppConfig):
    name = "closeloop.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from closeloop.core import checks  # noqa: F401 - registers the system checks

        # Role groups must exist in every database, test databases included, with current permissions
        # (synced on the last app's post_migrate, when every app's permissions exist).
        post_migrate.connect(_sync_roles, dispatch_uid="closeloop_sync_roles")
