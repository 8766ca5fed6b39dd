"""Admin for complaints: read-mostly. Every change of a complaint goes through the services (so it
gets its event); the admin offers those as actions and shows everything else read-only."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from closeloop.complaints.models import Attachment, Complaint, Event, PersonalDataAccess, Via
from closeloop.complaints.services import complaint_transition
from closeloop.core.errors import DomainError
from closeloop.core.types import AuthenticatedHttpRequest


class ReadOnlyMixin:
    def has_add_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False


class AttachmentInline(ReadOnlyMixin, admin.TabularInline):
    model = Attachment
    extra = 0
    fields = ["original_name", "kind", "content_type", "size", "paper_original_location", "uploaded_at"]
    readonly_fields = fields  # type: ignore[assignment]  # the same flat list of names


class EventInline(ReadOnlyMixin, admin.TabularInline):
    model = Event
    extra = 0
    fields = ["at", "action", "actor", "via", "before", "after", "note"]
    readonly_fields = fields  # type: ignore[assignment]  # the same flat list of names
    ordering = ["at", "id"]


@admin.register(Complaint)
class ComplaintAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["number", "received_at", "status", "priority", "type", "channel", "department", "customer"]
    list_filter = ["status", "priority", "channel", "type", "department"]
    search_fields = ["number", "customer__name", "description", "product__model", "product_text", "batch_no"]
    date_hierarchy = "received_at"
    list_select_related = ["type", "department", "customer"]
    inlines = [AttachmentInline, EventInline]
    actions = ["acknowledge"]

    @admin.action(description=_("Acknowledge the selected complaints"))
    def acknowledge(self, request: AuthenticatedHttpRequest, queryset: QuerySet[Complaint]) -> None:
        done = 0
        for complaint in queryset:
            try:
                complaint_transition(complaint=complaint, action="acknowledge", actor=request.user, via=Via.ADMIN)
            except DomainError as exc:
                self.message_user(request, f"{complaint.number}: {exc.message}", messages.WARNING)
            else:
                done += 1
        if done:
            self.message_user(request, _("%(count)d complaint(s) acknowledged.") % {"count": done}, messages.SUCCESS)

    def has_view_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return request.user.has_perm("complaints.view_all_complaints") and super().has_view_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        # Domain rule 7: archived complaints are read-only, whatever the rest of the admin allows.
        if isinstance(obj, Complaint) and obj.status == "archived":
            return False
        return super().has_change_permission(request, obj)


@admin.register(Event)
class EventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["at", "complaint", "action", "actor", "via"]
    list_filter = ["action", "via"]
    search_fields = ["complaint__number", "action", "note"]
    list_select_related = ["complaint", "actor"]
    date_hierarchy = "at"


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["at", "user", "customer", "complaint", "where"]
    list_filter = ["where"]
    search_fields = ["user__username", "customer__name", "complaint__number"]
    list_select_related = ["user", "customer", "complaint"]
    date_hierarchy = "at"
