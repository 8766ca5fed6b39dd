"""The default roles (Django groups) and the permissions each one holds.

Role codes are what the complaint transition table names; group names are the codes, so an admin
can rename nothing by accident and add users to roles in the Django admin.
"""

from __future__ import annotations

from enum import StrEnum

from django.contrib.auth.models import Group, Permission
from django.utils.translation import gettext_lazy as _

from closeloop.core.prepared import Param, Prepared
from closeloop.core.types import AnyUser


class Role(StrEnum):
    AGENT = "agent"
    CS_SUPERVISOR = "cs_supervisor"
    HANDLER = "handler"
    DEPT_MANAGER = "dept_manager"
    QUALITY = "quality"
    AUDITOR = "auditor"
    MANAGEMENT = "management"
    ADMIN = "admin"


ROLE_LABELS = {
    Role.AGENT: _("customer-service agent"),
    Role.CS_SUPERVISOR: _("CS supervisor"),
    Role.HANDLER: _("handler"),
    Role.DEPT_MANAGER: _("department manager"),
    Role.QUALITY: _("quality"),
    Role.AUDITOR: _("auditor"),
    Role.MANAGEMENT: _("management"),
    Role.ADMIN: _("administrator"),
}

# app_label.codename; the admin role additionally gets every model permission of our apps.
ROLE_PERMISSIONS: dict[Role, list[str]] = {
    Role.AGENT: [
        "complaints.view_complaint",
        "complaints.register_complaint",
        "complaints.view_all_complaints",
        "directory.view_personal_data",
        "directory.view_customer",
        "directory.view_product",
    ],
    Role.CS_SUPERVISOR: [
        "complaints.view_complaint",
        "complaints.register_complaint",
        "complaints.view_all_complaints",
        "directory.view_personal_data",
        "directory.view_customer",
        "directory.view_product",
        "insight.view_report",
        "insight.generate_report",
        "insight.review_report",
        "insight.view_kpitarget",
        "improvement.view_improvementaction",
        "improvement.manage_improvement",
        "defects.view_defectincident",
    ],
    # Handlers call the customer back, so they see contact data of the complaints they may open.
    Role.HANDLER: [
        "complaints.view_complaint",
        "directory.view_personal_data",
        "directory.view_product",
        "improvement.view_improvementaction",
    ],
    Role.DEPT_MANAGER: [
        "complaints.view_complaint",
        "directory.view_product",
        "insight.view_kpitarget",
        "improvement.view_improvementaction",
        "defects.view_defectincident",
    ],
    Role.QUALITY: [
        "complaints.view_complaint",
        "complaints.view_all_complaints",
        "directory.view_product",
        "insight.view_report",
        "insight.view_kpitarget",
        "improvement.view_improvementaction",
        "improvement.manage_improvement",
        "defects.view_defectincident",
        "defects.manage_incident",
    ],
    Role.AUDITOR: [
        "complaints.view_complaint",
        "complaints.view_all_complaints",
        "directory.view_product",
        "insight.view_report",
        "insight.view_kpitarget",
        "improvement.view_improvementaction",
        "defects.view_defectincident",
    ],
    Role.MANAGEMENT: [
        "complaints.view_complaint",
        "complaints.view_all_complaints",
        "directory.view_product",
        "insight.view_report",
        "insight.generate_report",
        "insight.approve_report",
        "insight.view_kpitarget",
        "insight.change_kpitarget",
        "improvement.view_improvementaction",
        "improvement.manage_improvement",
        "defects.view_defectincident",
    ],
    Role.ADMIN: [
        "complaints.view_complaint",
        "complaints.view_all_complaints",
        "complaints.register_complaint",
        "directory.view_personal_data",
    ],
}

# "accounts": login sessions and security events (read-only in the admin); "axes": failed logins,
# whose deletion unlocks. Two-factor devices are reset through the user admin's action, not edited.
ADMIN_APPS = ("directory", "auth", "insight", "improvement", "defects", "accounts", "axes", "imports")


def sync_role_groups() -> None:
    """Create the role groups and give them exactly their permissions. Idempotent."""
    for role, perm_names in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role.value)
        perms: list[Permission] = []
        for dotted in perm_names:
            app_label, codename = dotted.split(".")
            perms.extend(Permission.objects.filter(content_type__app_label=app_label, codename=codename))
        if role is Role.ADMIN:
            perms.extend(Permission.objects.filter(content_type__app_label__in=ADMIN_APPS))
        group.permissions.set(perms)


# Asked on every request of the desk: built once (core/prepared.py).
_ROLE_NAMES = Prepared(lambda: Group.objects.filter(user=Param("user")).values_list("name"))


def user_roles(user: AnyUser | None) -> frozenset[str]:
    """The role codes of a user, cached on the user object for the request."""
    if user is None or not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_closeloop_roles", None)
    if cached is None:
        if getattr(user, "is_superuser", False):
            cached = frozenset(r.value for r in Role)
        else:
            cached = frozenset(name for (name,) in _ROLE_NAMES.rows(user=user.pk))
        user._closeloop_roles = cached  # type: ignore[attr-defined]  # a per-request cache on the user object
    return cached
