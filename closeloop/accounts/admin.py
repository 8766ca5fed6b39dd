"""Admin: actions on users (unlock after failed logins, reset two-factor, end sessions), and the
login sessions and security events, read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin  # registers User; replaced below
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from closeloop.accounts import services
from closeloop.accounts.events import security_event_record
from closeloop.accounts.lockout import unlock
from closeloop.accounts.models import SecurityEvent, SecurityEventKind, SessionEnd, UserSession
from closeloop.accounts.useragent import user_agent_label
from closeloop.core.types import AuthenticatedHttpRequest

User = get_user_model()
admin.site.unregister(User)


def _own_session(request: HttpRequest, user: Any) -> str | None:
    """The administrator's own session survives an action on their own account."""
    return request.session.session_key if user.pk == request.user.pk else None


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
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
