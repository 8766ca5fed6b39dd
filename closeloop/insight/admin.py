"""Admin for the insight app: the reports and their steps (read-only: the workflow is the desk's and the
API's), the distribution list (through its services), and the KPI targets (read-only here: they are
changed on the desk's targets page, which records who changed them)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from closeloop.insight.models import KpiTarget, Recipient, Report, ReportStep
from closeloop.insight.services.recipients import recipient_remove


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReportStepInline(admin.TabularInline):
    model = ReportStep
    extra = 0
    can_delete = False
    fields = ("at", "action", "actor", "before", "after", "note")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Report)
class ReportAdmin(ReadOnlyAdmin):
    list_display = ("period_start", "period_end", "kind", "status", "complaint_count", "generated_at", "sent_at")
    list_filter = ("kind", "status")
    date_hierarchy = "period_start"
    exclude = ("figures",)
    readonly_fields = (
        "kind",
        "period_start",
        "period_end",
        "status",
        "created_at",
        "created_by",
        "generated_at",
        "complaint_count",
        "sent_at",
    )
    inlines = [ReportStepInline]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("insight.view_report")


@admin.register(ReportStep)
class ReportStepAdmin(ReadOnlyAdmin):
    list_display = ("at", "report", "action", "actor", "before", "after")
    list_filter = ("action",)
    list_select_related = ("report", "actor")


@admin.register(Recipient)
class RecipientAdmin(admin.ModelAdmin):
    """Listed and removed here through the same service as the desk; people, roles and addresses are added
    on the desk's distribution list page (which checks for duplicates and bad addresses)."""

    list_display = ("__str__", "user", "group", "email", "is_active")
    list_select_related = ("user", "group")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: Recipient) -> None:
        recipient_remove(actor=request.user, recipient=obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            recipient_remove(actor=request.user, recipient=obj)


@admin.register(KpiTarget)
class KpiTargetAdmin(ReadOnlyAdmin):
    list_display = ("kpi", "target", "updated_at", "updated_by")
