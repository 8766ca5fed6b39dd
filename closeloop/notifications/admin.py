from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from closeloop.notifications.models import Notification
from closeloop.notifications.services import outbox_retry_failed


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """The outbox. Failed deliveries are listed here (filter by state) and can be retried."""

    list_display = ("created_at", "method", "recipient", "kind", "subject", "state", "attempts", "last_error")
    list_filter = ("state", "method", "kind")
    list_select_related = ("recipient",)
    search_fields = ("subject", "recipient__username")
    raw_id_fields = ("recipient", "complaint")
    actions = ["retry"]
    readonly_fields = [f.name for f in Notification._meta.fields]

    @admin.action(description=_("Retry the selected failed deliveries"))
    def retry(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        count = outbox_retry_failed(ids=queryset.values_list("id", flat=True))
        self.message_user(request, _("%(count)s messages queued again.") % {"count": count}, messages.SUCCESS)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
