from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from closeloop.integrations import services
from closeloop.integrations.feed import feed_head
from closeloop.integrations.models import WebhookAttempt, WebhookDelivery, WebhookSubscription


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "is_active", "owner", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "url"]
    readonly_fields = ["owner", "created_at", "updated_at"]
    fields = ["name", "url", "secret", "kinds", "is_active", "owner", "created_at", "updated_at"]

    def save_model(self, request: HttpRequest, obj: WebhookSubscription, form: Any, change: bool) -> None:
        services.webhooks_check_admin(request.user)  # type: ignore[arg-type]  # signed in (login_required or the admin)
        if not change:
            # As through the API: the owner is who created it, and it starts at the feed's head.
            obj.owner = request.user  # type: ignore[assignment]
            head = feed_head()
            obj.cursor = head.encode() if head else ""
        super().save_model(request, obj, form, change)


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["at", "status_code", "response", "error", "duration_ms"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["uid", "subscription", "kind", "state", "attempts", "last_status_code", "created_at"]
    list_filter = ["state", "subscription"]
    search_fields = ["uid", "kind"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    inlines = [WebhookAttemptInline]
    actions = ["redeliver"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Redeliver the selected deliveries"))
    def redeliver(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        count = services.webhook_redeliver(
            actor=request.user,  # type: ignore[arg-type]  # signed in (login_required or the admin)
            delivery_ids=queryset.values_list("pk", flat=True),
        )
        self.message_user(
            request,
            ngettext("%(count)d delivery queued again.", "%(count)d deliveries queued again.", count)
            % {"count": count},
            messages.SUCCESS,
        )
