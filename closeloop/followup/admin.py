"""Admin for the satisfaction scales (which one is in use, which levels count as satisfied or reopen)
and a read-only view of follow-ups and survey links."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from closeloop.followup.models import FollowUp, FollowUpAttempt, SatisfactionLevel, SatisfactionScale, SurveyLink
from closeloop.followup.services.followups import satisfaction_scale_activate


class SatisfactionLevelInline(admin.TabularInline):
    model = SatisfactionLevel
    extra = 0
    fields = ("order", "code", "label_zh", "label_en", "counts_as_satisfied", "reopens")


@admin.register(SatisfactionScale)
class SatisfactionScaleAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "is_active")
    # Switching the scale in use goes through the action, so exactly one scale is active.
    readonly_fields = ("is_active",)
    inlines = [SatisfactionLevelInline]
    actions = ["activate"]

    @admin.action(description=_("Use this scale for new follow-ups"))
    def activate(self, request: HttpRequest, queryset: QuerySet[SatisfactionScale]) -> None:
        if queryset.count() != 1:
            self.message_user(request, _("Choose exactly one scale."), level=messages.ERROR)
            return
        scale = queryset.get()
        satisfaction_scale_activate(scale_id=scale.pk)
        self.message_user(request, _("“%(name)s” is now in use.") % {"name": scale.name})


class ReadOnlyAdmin(admin.ModelAdmin):
    """Follow-ups change only through their services (desk, API, portal)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class FollowUpAttemptInline(admin.TabularInline):
    model = FollowUpAttempt
    extra = 0
    can_delete = False
    fields = ("at", "by", "method", "result", "note")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(FollowUp)
class FollowUpAdmin(ReadOnlyAdmin):
    list_display = ("complaint", "round", "created_at", "outcome", "satisfaction", "solved", "completed_at")
    list_filter = ("outcome", "method")
    list_select_related = ("complaint", "satisfaction")
    search_fields = ("complaint__number",)
    inlines = [FollowUpAttemptInline]


@admin.register(SurveyLink)
class SurveyLinkAdmin(ReadOnlyAdmin):
    list_display = ("followup", "sent_via", "created_at", "expires_at", "used_at")
    list_select_related = ("followup__complaint",)
    exclude = ("token_hash",)
