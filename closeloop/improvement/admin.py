"""Admin: improvement actions and their events, read-only. Actions change only through their services
(desk, API, the warning sweep), so that every change has its event."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from closeloop.improvement.models import ActionEvent, ImprovementAction


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ActionEventInline(admin.TabularInline):
    model = ActionEvent
    extra = 0
    can_delete = False
    fields = ("at", "kind", "actor", "via", "note", "before", "after")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ImprovementAction)
class ImprovementActionAdmin(ReadOnlyAdmin):
    list_display = ("number", "title", "status", "source", "owner_department", "owner", "due_at", "done_at")
    list_filter = ("status", "source", "owner_department")
    list_select_related = ("owner_department", "owner")
    search_fields = ("number", "title", "root_cause")
    date_hierarchy = "created_at"
    inlines = [ActionEventInline]


@admin.register(ActionEvent)
class ActionEventAdmin(ReadOnlyAdmin):
    list_display = ("action", "at", "kind", "actor", "via")
    list_filter = ("kind", "via")
    list_select_related = ("action", "actor")
    search_fields = ("action__number",)
