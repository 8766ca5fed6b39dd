from django.contrib import admin
from django.http import HttpRequest

from closeloop.sla.models import Calendar, CalendarDay, Deadline, Policy, PolicyChange, PolicyRule, PolicyTarget


class CalendarDayInline(admin.TabularInline):
    model = CalendarDay
    extra = 1
    fields = ("date", "source", "is_working", "reason", "created_by")
    readonly_fields = ("created_by",)
    ordering = ("-date",)


@admin.register(Calendar)
class CalendarAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_en", "time_zone", "six_day_week", "updated_at")
    inlines = [CalendarDayInline]

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        for day in formset.save(commit=False):
            if day.created_by_id is None:
                day.created_by = request.user
            day.save()
        for obj in formset.deleted_objects:
            obj.delete()
        # Touch the calendar so every process reloads it (see sla.loader).
        form.instance.save(update_fields=["updated_at"])


class PolicyTargetInline(admin.TabularInline):
    model = PolicyTarget
    extra = 0


class PolicyRuleInline(admin.TabularInline):
    """The rule editor: a rule matches a complainant type, a product line and/or a service order kind."""

    model = PolicyRule
    extra = 0
    fields = ("order", "customer_kind", "product_line", "service_kind", "is_active")


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "calendar", "warning_fraction", "is_default", "is_active")
    inlines = [PolicyTargetInline, PolicyRuleInline]


@admin.register(Deadline)
class DeadlineAdmin(admin.ModelAdmin):
    """Read-only: deadlines change only through the complaint and service-order services."""

    list_display = (
        "complaint",
        "service_order",
        "milestone",
        "duration",
        "due_at",
        "met_at",
        "warned_at",
        "breached_at",
        "escalation_level",
    )
    list_filter = ("milestone", "escalation_level")
    list_select_related = ("complaint", "service_order")
    search_fields = ("complaint__number", "service_order__number")
    raw_id_fields = ("complaint", "service_order", "assignee", "met_by")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(PolicyChange)
class PolicyChangeAdmin(admin.ModelAdmin):
    """Read-only: the changes made through the API (closeloop/sla/policies.py), with before and after."""

    list_display = ("at", "policy", "action", "actor")
    list_filter = ("action",)
    list_select_related = ("policy", "actor")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
