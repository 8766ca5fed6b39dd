"""Admin of early warning: the rules are edited here too (through the same service, so each change is
recorded); alerts, incidents and their history are read-only (quality acts in the desk or the API)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest

from closeloop.complaints.models import Via
from closeloop.core.errors import DomainError
from closeloop.defects.models import DefectAlert, DefectIncident, IncidentEvent, IncidentRemedy, SpikeRule
from closeloop.defects.services.rules import spike_rule_remove, spike_rule_set


@admin.register(SpikeRule)
class SpikeRuleAdmin(admin.ModelAdmin):
    list_display = ("__str__", "product_line", "threshold", "window_days", "is_active")
    list_filter = ("is_active",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # A rule belongs to its line: to move it, remove it and create one for the other line.
        return ("product_line",) if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: SpikeRule, form: Any, change: bool) -> None:
        try:
            saved = spike_rule_set(
                product_line=obj.product_line,
                threshold=obj.threshold,
                window_days=obj.window_days,
                is_active=obj.is_active,
                actor=request.user,  # type: ignore[arg-type]  # signed in (login_required or the admin)
                via=Via.ADMIN,
            )
        except DomainError as exc:
            self.message_user(request, str(exc.message), level=messages.ERROR)
            return
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: SpikeRule) -> None:
        try:
            spike_rule_remove(product_line=obj.product_line, actor=request.user, via=Via.ADMIN)  # type: ignore[arg-type]  # signed in (login_required or the admin)
        except DomainError as exc:
            self.message_user(request, str(exc.message), level=messages.ERROR)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # one by one, through the service
        return actions


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(DefectAlert)
class DefectAlertAdmin(ReadOnlyAdmin):
    list_display = ("raised_at", "product", "batch_no", "status", "threshold", "window_days", "incident")
    list_filter = ("status",)
    list_select_related = ("product", "incident")
    search_fields = ("product__model", "batch_no")
    raw_id_fields = ("complaints",)


@admin.register(DefectIncident)
class DefectIncidentAdmin(ReadOnlyAdmin):
    list_display = ("number", "title", "product", "batch_no", "status", "opened_at", "closed_at")
    list_filter = ("status",)
    list_select_related = ("product",)
    search_fields = ("number", "title", "product__model", "batch_no")
    raw_id_fields = ("complaints",)


@admin.register(IncidentRemedy)
class IncidentRemedyAdmin(ReadOnlyAdmin):
    list_display = ("incident", "complaint", "measure", "applied_at", "applied_by")
    list_select_related = ("incident", "complaint", "applied_by")


@admin.register(IncidentEvent)
class IncidentEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "kind", "alert", "incident", "actor", "note")
    list_filter = ("kind",)
    list_select_related = ("alert", "incident", "actor")
