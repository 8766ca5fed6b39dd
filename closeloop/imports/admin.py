from django.contrib import admin
from django.http import HttpRequest

from closeloop.imports.models import ImportRun


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    """Read-only: the record of each history import. The list links the import template
    (templates/admin/imports/importrun/change_list.html); imports run from `closeloop import complaints`
    or `POST /api/v1/imports/complaints`."""

    list_display = ("at", "file_name", "source", "by", "rows", "customers_created", "followups")
    list_filter = ("source",)
    search_fields = ("file_name",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
