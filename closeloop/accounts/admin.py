"""Admin: actions on users (unlock after failed logins, reset two-factor, end sessions), and the
login sessions and security events, read-only."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin  # registers User; replaced below
from django.contrib.auth.models import Group, Permission
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from closeloop.accounts import services
from closeloop.accounts.events import security_event_record
from closeloop.accounts.lockout import unlock
from closeloop.accounts.models import SecurityEvent, SecurityEventKind, SessionEnd, UserSession
from closeloop.accounts.useragent import user_agent_label
from closeloop.core.roles import ROLE_LABELS, Role
from closeloop.core.types import AuthenticatedHttpRequest

User = get_user_model()
admin.site.unregister(User)


def _own_session(request: HttpRequest, user: Any) -> str | None:
    """The administrator's own session survives an action on their own account."""
    return request.session.session_key if user.pk == request.user.pk else None


# Roles are groups named by their code ("agent"), and Django stores permission names in English
# ("Can add complaint"): the admin shows both in the reader's language instead.
BUILTIN_ACTIONS = {
    "add": _("Can add %(model)s"),
    "change": _("Can change %(model)s"),
    "delete": _("Can delete %(model)s"),
    "view": _("Can view %(model)s"),
}


def permission_label(permission: Permission) -> str:
    """E.g. "投诉 | 可以查看 投诉单": the app's and the model's verbose names, and the permission's words."""
    model = permission.content_type.model_class()
    action, _sep, model_name = permission.codename.partition("_")
    if model is not None and action in BUILTIN_ACTIONS and model_name == model._meta.model_name:
        words = str(BUILTIN_ACTIONS[action]) % {"model": model._meta.verbose_name}
    else:
        words = gettext(permission.name)
    app = apps.get_app_config(permission.content_type.app_label).verbose_name if model is not None else ""
    return f"{app} | {words}" if app else words


def group_label(group: Group) -> str:
    """A role's name in the reader's language; a group an administrator made keeps its own name."""
    try:
        return str(ROLE_LABELS[Role(group.name)])
    except ValueError:
        return group.name


class LabelledChoices:
    """Admin forms list groups and permissions by their translated labels."""

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest | None, **kwargs: Any) -> Any:
        field = super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]
        if field is not None and db_field.name in ("groups", "permissions", "user_permissions"):
            if db_field.name == "groups":
                field.label_from_instance = group_label
            else:
                field.queryset = field.queryset.select_related("content_type")
                field.label_from_instance = permission_label
        return field


@admin.register(User)
class UserAdmin(LabelledChoices, DjangoUserAdmin):
    actions = ["unlock_logins", "reset_two_factor", "end_sessions"]

    @admin.action(description=_("Unlock the selected users (forget their failed logins)"))
    def unlock_logins(self, request: AuthenticatedHttpRequest, queryset: QuerySet) -> None:
        for user in queryset:
            removed = unlock(username=user.get_username())
            security_event_record(kind=SecurityEventKind.UNLOCKED, user=user, actor=request.user, attempts=removed)
        self.message_user(request, _("%(count)d user(s) unlocked.") % {"count": len(queryset)}, messages.SUCCESS)

    @admin.action(description=_("Reset two-factor authentication of the selected users (lost phone)"))
    def reset_two_factor(self, request: AuthenticatedHttpRequest, queryset: QuerySet) -> None:
        for user in queryset:
            services.twofactor_reset(
                user=user,
                actor=request.user,
                keep_session_key=_own_session(request, user),
            )
        self.message_user(
            request,
            _("Two-factor authentication reset for %(count)d user(s); they set it up again at their next login.")
            % {"count": len(queryset)},
            messages.SUCCESS,
        )

    @admin.action(description=_("End all sessions of the selected users"))
    def end_sessions(self, request: AuthenticatedHttpRequest, queryset: QuerySet) -> None:
        ended = sum(
            services.sessions_end_all(
                user=user,
                actor=request.user,
                reason=SessionEnd.BY_ADMIN,
                keep_session_key=_own_session(request, user),
            )
            for user in queryset
        )
        self.message_user(request, _("%(count)d session(s) ended.") % {"count": ended}, messages.SUCCESS)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(UserSession)
class UserSessionAdmin(ReadOnlyAdmin):
    list_display = ["user", "created_at", "last_activity_at", "ended_at", "end_reason", "ip_address", "browser"]
    list_filter = ["end_reason"]
    search_fields = ["user__username", "ip_address"]
    list_select_related = ["user"]
    exclude = ["session_key"]

    @admin.display(description=_("browser"))
    def browser(self, obj: UserSession) -> str:
        return user_agent_label(obj.user_agent)


@admin.register(SecurityEvent)
class SecurityEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "kind", "user", "actor", "detail"]
    list_filter = ["kind"]
    search_fields = ["user__username"]
    list_select_related = ["user", "actor"]
    date_hierarchy = "at"


admin.site.unregister(Group)


@admin.register(Group)
class RoleAdmin(LabelledChoices, GroupAdmin):
    list_display = ["name", "role"]

    @admin.display(description=_("role"))
    def role(self, group: Group) -> str:
        return group_label(group)
