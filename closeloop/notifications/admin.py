from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template import Template, TemplateSyntaxError
from django.template.defaultfilters import linebreaksbr
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from closeloop.notifications.message_templates import template_preview
from closeloop.notifications.models import MessageTemplate, Notification, StaffChannelPreference
from closeloop.notifications.services import outbox_retry_failed


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """The outbox. Failed deliveries are listed here (filter by state) and can be retried."""

    list_display = (
        "created_at",
        "method",
        "recipient",
        "kind",
        "subject",
        "state",
        "attempts",
        "provider_message_id",
        "last_error",
    )
    list_filter = ("state", "method", "kind")
    list_select_related = ("recipient",)
    # The gateway's id (BizId, SerialNo, msgid) finds the row of a delivery report or a vendor's query.
    search_fields = ("subject", "recipient__username", "provider_message_id")
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


class MessageTemplateForm(forms.ModelForm):
    """A template that does not compile is refused here rather than failing when a customer is told."""

    class Meta:
        model = MessageTemplate
        fields = ("code", "method", "is_active", "subject_zh", "body_zh", "subject_en", "body_en")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in ("subject_zh", "body_zh", "subject_en", "body_en"):
            try:
                Template(str(cleaned.get(name) or ""))
            except TemplateSyntaxError as exc:
                self.add_error(name, str(exc))
        return cleaned


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    """Messages to customers, in both languages. Django template syntax; the variables are
    {{ number }}, {{ product }}, {{ received_date }}, {{ solution }}, {{ measures }}, {{ compensation }}
    — never personal data."""

    form = MessageTemplateForm
    list_display = ("code", "method", "subject_zh", "is_active")
    list_filter = ("method", "is_active", "code")
    search_fields = ("code", "subject_zh", "subject_en", "body_zh", "body_en")
    readonly_fields = ("preview",)
    fieldsets = (
        (None, {"fields": ("code", "method", "is_active")}),
        (_("Chinese"), {"fields": ("subject_zh", "body_zh")}),
        (
            _("English"),
            {
                "fields": ("subject_en", "body_en"),
                "description": _("Left empty, English-speaking customers get the Chinese text."),
            },
        ),
        (
            _("Preview"),
            {
                "fields": ("preview",),
                "description": _(
                    "With an example complaint. Variables: {{ number }}, {{ product }}, {{ received_date }}, "
                    "{{ solution }}, {{ measures }}, {{ compensation }}. Save to refresh."
                ),
            },
        ),
    )

    @admin.display(description=_("preview"))
    def preview(self, obj: MessageTemplate) -> SafeString | str:
        if obj.pk is None:
            return "—"
        rows = []
        for language, label in (("zh-hans", "中文"), ("en", "English")):
            subject, body = template_preview(obj, language=language)
            # Line breaks as <br>, not a style attribute: the Content-Security-Policy allows no inline style.
            rows.append((label, subject, linebreaksbr(body)))
        return format_html(
            "<div>{}</div>",
            format_html_join(
                "",
                "<p><strong>{}</strong><br><em>{}</em><br>{}</p>",
                rows,
            ),
        )


@admin.register(StaffChannelPreference)
class StaffChannelPreferenceAdmin(admin.ModelAdmin):
    """Each person's notification channel (they choose it on "My account") and their WeCom userid, which
    only an administrator enters: the WeCom admin console shows it for each member."""

    list_display = ("user", "channel", "wecom_userid", "updated_at")
    list_filter = ("channel",)
    search_fields = ("user__username", "wecom_userid")
    raw_id_fields = ("user",)
    fields = ("user", "channel", "wecom_userid")
