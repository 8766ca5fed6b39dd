from django.contrib import admin
from django.http import HttpRequest

from closeloop.mailin.models import InboundMail


@admin.register(InboundMail)
class InboundMailAdmin(admin.ModelAdmin):
    """What came into the complaints mailboxes, and what became of each mail (read only: the record)."""

    list_display = ("received_at", "mailbox", "outcome", "complaint", "size", "reason", "quarantine_path")
    list_filter = ("outcome", "mailbox")
    list_select_related = ("complaint",)
    search_fields = ("message_id", "complaint__number")
    readonly_fields = [f.name for f in InboundMail._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: InboundMail | None = None) -> bool:
        return False
