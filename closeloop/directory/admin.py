"""Admin for the directory: catalogue, departments and their people, complaint types, customers."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from closeloop.core.masking import can_see_personal_data
from closeloop.directory.models import (
    CauseCategory,
    ComplaintType,
    Customer,
    Department,
    Membership,
    Product,
    ProductLine,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name", "name_en"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "department", "is_manager"]
    list_filter = ["department", "is_manager"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "department__name"]
    autocomplete_fields = ["user", "department"]
    list_select_related = ["user", "department"]


@admin.register(ProductLine)
class ProductLineAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en"]
    search_fields = ["code", "name", "name_en"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["model", "name", "name_en", "line", "is_active"]
    list_filter = ["line", "is_active"]
    search_fields = ["model", "name", "name_en"]
    list_select_related = ["line"]


@admin.register(ComplaintType)
class ComplaintTypeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "parent", "default_department", "sort_order", "is_active"]
    list_editable = ["sort_order", "is_active"]
    list_filter = ["is_active", "default_department"]
    search_fields = ["code", "name", "name_en"]
    list_select_related = ["parent", "default_department"]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    """Customers are created by intake; the admin corrects contact data. Deleting would orphan
    complaints (and is refused by the database), so it is not offered."""

    list_display = ["name", "kind", "organisation", "phone", "email", "city", "complaint_count", "created_at"]
    list_filter = ["kind", "province"]
    search_fields = ["name", "organisation", "phone", "email"]
    readonly_fields = ["created_at", "anonymised_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Customer]:
        return super().get_queryset(request).annotate(_complaints=Count("complaints"))

    @admin.display(description=_("complaints"), ordering="_complaints")
    def complaint_count(self, obj: Customer) -> int:
        return obj._complaints  # type: ignore[attr-defined]  # set by the selector (annotation or prefetch)

    def has_delete_permission(self, request: HttpRequest, obj: Customer | None = None) -> bool:
        return False

    # The list shows and searches contact data in full (a phone by any part of it): only for those who
    # may see personal data, whatever model permissions a staff account was given.
    def has_view_permission(self, request: HttpRequest, obj: Customer | None = None) -> bool:
        return can_see_personal_data(request.user) and super().has_view_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Customer | None = None) -> bool:
        return can_see_personal_data(request.user) and super().has_change_permission(request, obj)


@admin.register(CauseCategory)
class CauseCategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "parent", "sort_order", "is_active"]
    list_filter = ["is_active", "parent"]
    search_fields = ["code", "name", "name_en"]
    list_select_related = ["parent"]
