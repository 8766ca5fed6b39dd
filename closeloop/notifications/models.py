"""The outbox: every message to a person (in-app, e-mail, SMS) is a row first, delivered by the worker.

A crash never loses a message: the row is written in the same transaction as the change that caused
it, and a delivery that dies half-way is found by the recovery sweep and tried again.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from closeloop.core.models import UpdatedAtModel
from closeloop.notifications import texts


class Method(models.TextChoices):
    IN_APP = "in_app", _("in-app")
    EMAIL = "email", _("e-mail")
    SMS = "sms", _("SMS")
    # Staff only (closeloop/notifications/channels.py): a WeCom application message to one person, or a
    # post by a group robot into the chat of a role (`address` names the role, never the webhook).
    WECOM = "wecom", _("WeCom")
    WECOM_ROBOT = "wecom_robot", _("WeCom group robot")
    DINGTALK_ROBOT = "dingtalk_robot", _("DingTalk group robot")


# Customers have no chat accounts with us: their templates are for these.
TEMPLATE_METHODS = [(m.value, m.label) for m in (Method.IN_APP, Method.EMAIL, Method.SMS)]


class State(models.TextChoices):
    PENDING = "pending", _("pending")  # waiting for (another) delivery attempt at next_attempt_at
    SENDING = "sending", _("sending")  # claimed by one worker; recovered if it stays here too long
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")  # gave up after the maximum attempts; shown to admins


class Notification(UpdatedAtModel):
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    method = models.CharField(_("method"), max_length=16, choices=Method.choices, default=Method.IN_APP)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    # For customers (no account): the address the message goes to.
    address = models.CharField(_("address"), max_length=254, blank=True)
    complaint = models.ForeignKey(
        "complaints.Complaint", null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=40)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    # Makes "notify once" a database rule: the same key is never queued twice.
    dedup_key = models.CharField(max_length=120, unique=True, null=True, blank=True)

    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    # The gateway's id of the delivery (阿里云 BizId, 腾讯云 SerialNo, WeCom msgid…): what its console and
    # delivery reports are searched by.
    provider_message_id = models.CharField(_("provider's message id"), max_length=100, blank=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    # Rendered in the reader's language when shown (closeloop/notifications/texts.py): the message ids of
    # the subject and body and their parameters. Empty on rows written before issue 17: `subject`/`body`,
    # written in the installation's language, are shown as they are.
    subject_key = models.CharField(max_length=300, blank=True)
    body_key = models.CharField(max_length=300, blank=True)
    params = models.JSONField(default=dict, blank=True)
    # Where the notice leads (a path of the desk); empty: the complaint's page, if it names one.
    link = models.CharField(max_length=200, blank=True)
    # What the notice asks its reader to do ("solution:12:level:0"): once anyone has done it, every notice
    # with the same key is marked done (`notifications_done`) and leaves the unread count.
    todo = models.CharField(max_length=120, blank=True)
    done_at = models.DateTimeField(pgettext_lazy("time a notice's request was done", "done"), null=True, blank=True)
    # An e-mail's extra headers, set by whoever queued it: a customer's mail names the complaint's thread
    # (In-Reply-To, References) and the complaints mailbox (Reply-To).
    headers = models.JSONField(_("e-mail headers"), default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["next_attempt_at"], name="outbox_due", condition=Q(state="pending")),
            models.Index(fields=["claimed_at"], name="outbox_sending", condition=Q(state="sending")),
            models.Index(fields=["recipient", "-created_at"], name="notification_inbox"),
            # The badge: a person's unread notices that are not done yet.
            models.Index(
                fields=["recipient"],
                name="notification_unread",
                condition=Q(read_at__isnull=True, done_at__isnull=True, method="in_app"),
            ),
            # notifications_done: the open notices asking for one thing.
            models.Index(fields=["todo"], name="notification_todo", condition=Q(done_at__isnull=True) & ~Q(todo="")),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.kind} → {self.recipient_id or self.address}"

    # --- shown to its reader, in the language they read in (notifications/texts.py) --------------------

    @property
    def shown_subject(self) -> str:
        return texts.render(self.subject_key, self.params) if self.subject_key else self.subject

    @property
    def shown_body(self) -> str:
        return texts.render(self.body_key, self.params) if self.body_key else self.body

    @property
    def target(self) -> str:
        """Where reading it leads: its link, else its complaint's page (complaint loaded by the caller)."""
        if self.link:
            return self.link
        if self.complaint_id is not None and self.complaint is not None:
            return reverse("desk:detail", args=[self.complaint.number])
        return ""

    @property
    def delivery_key(self) -> str:
        """The same for every attempt at this row: sent to gateways as their idempotency or reference key
        (阿里云 OutId, 腾讯云 SessionContext, the generic gateway's `{key}`), like the e-mail's Message-ID."""
        return f"{settings.EMAIL_MESSAGE_ID_DOMAIN}-notification-{self.pk}"

    @property
    def message_id(self) -> str:
        """The e-mail's Message-ID, the same for every attempt: should a worker die between sending and
        marking the row sent, the receiving side can drop the copy; replies and bounces name it."""
        return notification_message_id(self.pk)


def notification_message_id(pk: int) -> str:
    return f"<notification-{pk}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>"


def notification_id_in(message_id: str) -> int | None:
    """The outbox row an e-mail Message-ID of ours names; None for anyone else's."""
    prefix, suffix = "<notification-", f"@{settings.EMAIL_MESSAGE_ID_DOMAIN}>"
    if message_id.startswith(prefix) and message_id.endswith(suffix):
        number = message_id[len(prefix) : -len(suffix)]
        return int(number) if number.isdigit() else None
    return None


class MessageTemplate(models.Model):
    """A message to customers (or staff) that admins edit in both languages. Django template syntax,
    e.g. "您的投诉 {{ number }} 已受理". Personal data is never in the context; only what the customer
    already knows (number, product, dates, the solution's wording)."""

    code = models.SlugField(_("code"), max_length=40)
    method = models.CharField(_("method"), max_length=8, choices=TEMPLATE_METHODS)
    subject_zh = models.CharField(_("subject (Chinese)"), max_length=200, blank=True)
    body_zh = models.TextField(_("text (Chinese)"))
    subject_en = models.CharField(_("subject (English)"), max_length=200, blank=True)
    body_en = models.TextField(_("text (English)"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code", "method"]
        constraints = [models.UniqueConstraint(fields=["code", "method"], name="message_template_unique")]
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")

    def __str__(self) -> str:
        return f"{self.code} ({self.method})"


class NotificationAttachment(models.Model):
    """A file sent with an e-mail: a complaint's evidence attached to a written reply to the customer
    (domain rule 6), or a stored document such as the approved monthly report (`file`, kept where its
    owner stored it; `name` is what the recipient sees)."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="attachments")
    attachment = models.ForeignKey(
        "complaints.Attachment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    file = models.FileField(_("file"), max_length=255, blank=True)
    name = models.CharField(_("file name"), max_length=255, blank=True)
    content_type = models.CharField(_("content type"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("notification attachment")
        verbose_name_plural = _("notification attachments")
        constraints = [
            models.CheckConstraint(
                condition=Q(attachment__isnull=False, file="") | (Q(attachment__isnull=True) & ~Q(file="")),
                name="notification_attachment_one_source",
            )
        ]

    def __str__(self) -> str:
        return f"{self.notification_id}: {self.attachment_id}"


class StaffChannel(models.TextChoices):
    """Where a member of staff is told besides the in-app inbox (which always gets the message)."""

    IN_APP = "in_app", _("in-app only")
    EMAIL = "email", _("e-mail")
    WECOM = "wecom", _("WeCom message")
    WECOM_ROBOT = "wecom_robot", _("WeCom group of my role")
    DINGTALK_ROBOT = "dingtalk_robot", _("DingTalk group of my role")


class StaffChannelPreference(models.Model):
    """A person's own choice of channel (none: the default of their role, STAFF_CHANNEL_BY_ROLE) and their
    WeCom account, which an administrator enters (the WeCom admin console shows each member's userid)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_channel", verbose_name=_("user")
    )
    channel = models.CharField(_("told by"), max_length=16, choices=StaffChannel.choices, blank=True)
    wecom_userid = models.CharField(_("WeCom userid"), max_length=64, blank=True)
    updated_at = models.DateTimeField(_("changed"), default=timezone.now)

    class Meta:
        verbose_name = _("notification channel")
        verbose_name_plural = _("notification channels")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.channel or '-'}"
