"""The complaint (投诉单), its attachments, its daily number sequence and its append-only events."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.db.models.lookups import IsNull
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from closeloop.complaints.lifecycle import OPEN_STATUS_LIST, Status
from closeloop.core.events import AppendOnlyModel, TransactionId
from closeloop.directory.models import ComplaintType, Customer, Department, Product


class Channel(models.TextChoices):
    HOTLINE = "hotline", _("hotline")
    WEB = "web", _("website form")
    EMAIL = "email", _("e-mail")
    SOCIAL = "social", _("social media")
    FAX = "fax", _("fax")
    LETTER = "letter", _("letter")
    SALES_REP = "sales_rep", _("sales representative")
    DEALER = "dealer", _("dealer")
    WALK_IN = "walk_in", _("walk-in")
    API = "api", _("API")


class Priority(models.IntegerChoices):
    # Stored as a rank so that "most urgent first" is a plain ascending sort.
    URGENT = 1, _("urgent")
    IMPORTANT = 2, _("important")
    NORMAL = 3, _("normal")


# The queue's nearest-deadline order as index keys (the expressions of selectors.SORTS["due"]).
DUE_ORDER = (IsNull(F("next_due_at"), True), F("next_due_at"), F("received_at").desc(), F("id").desc())


class Complaint(models.Model):
    number = models.CharField(pgettext_lazy("complaint", "number"), max_length=20, unique=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.REGISTERED)
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices, default=Priority.NORMAL)
    # When the complaint reached us; may be earlier than registration (letters, back-office entry).
    received_at = models.DateTimeField(_("received at"))
    registered_at = models.DateTimeField(_("registered at"), default=timezone.now)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("registered by"),
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="complaints", verbose_name=_("complainant")
    )
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.PROTECT, related_name="complaints", verbose_name=_("product")
    )
    # Free text when the model is not in the catalogue (or the customer does not know it).
    product_text = models.CharField(_("product (as described)"), max_length=150, blank=True)
    batch_no = models.CharField(_("batch / lot number"), max_length=60, blank=True)
    purchase_date = models.DateField(_("purchase date"), null=True, blank=True)
    order_no = models.CharField(_("order / invoice number"), max_length=60, blank=True)
    province = models.CharField(_("province"), max_length=30, blank=True)
    city = models.CharField(_("city"), max_length=30, blank=True)
    type = models.ForeignKey(ComplaintType, on_delete=models.PROTECT, related_name="complaints", verbose_name=_("type"))
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="complaints",
        verbose_name=_("responsible department"),
    )
    description = models.TextField(_("description (customer's own words)"))
    onsite_situation = models.TextField(_("on-site situation"), blank=True)
    demand = models.TextField(_("customer's demand"), blank=True)
    external_ref = models.CharField(_("external reference"), max_length=80, blank=True)
    # The call's recording in the call-centre system (the CTI's `recording=`), kept as a link: the
    # recording stays there; http(s) only (complaints.services.recording_url_clean).
    recording_url = models.CharField(_("call recording (link)"), max_length=500, blank=True)

    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    status_reason = models.TextField(_("reason"), blank=True)
    duplicate_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="duplicates",
        verbose_name=_("duplicate of"),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    # Rule 5: a new complaint by the same complainant about the same model within the window after an
    # earlier one was resolved. Set at intake or by hand (with a reason); a reopen is never a repeat.
    repeat_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="repeats", verbose_name=_("repeat of")
    )
    repeat_reason = models.CharField(_("why it is a repeat"), max_length=300, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True)
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True)
    sla_policy = models.ForeignKey(
        "sla.Policy", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("SLA policy")
    )
    # The nearest open deadline, mirrored from sla.Deadline by the SLA services so that queues sort and
    # filter by time left on an index. Null when nothing is running (closed, or waiting for the customer).
    next_due_at = models.DateTimeField(_("next deadline"), null=True, blank=True)
    next_warn_at = models.DateTimeField(_("next warning point"), null=True, blank=True)
    # "Waiting for the customer": every clock of the complaint is paused since then.
    waiting_since = models.DateTimeField(_("waiting for the customer since"), null=True, blank=True)
    waiting_reason = models.CharField(_("waiting reason"), max_length=200, blank=True)
    # Set when the complaint came from a history import (closeloop/imports): it never had SLA clocks,
    # so the KPIs that judge a clock leave it out; the "imported" event says who imported which file.
    imported_at = models.DateTimeField(_("imported at"), null=True, blank=True)

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        permissions = [
            ("register_complaint", _("Can register complaints")),
            ("view_all_complaints", _("Can see complaints of every department")),
        ]
        indexes = [
            # The queue: filter by status (and more), newest first; pagination walks this index.
            models.Index(fields=["status", "-received_at"], name="complaint_status_recv"),
            models.Index(fields=["-received_at"], name="complaint_recv"),
            models.Index(fields=["priority", "-received_at"], name="complaint_prio_recv"),
            models.Index(fields=["channel", "-received_at"], name="complaint_channel_recv"),
            models.Index(fields=["type", "-received_at"], name="complaint_type_recv"),
            models.Index(fields=["product", "-received_at"], name="complaint_product_recv"),
            models.Index(fields=["department", "-received_at"], name="complaint_dept_recv"),
            models.Index(fields=["customer", "-received_at"], name="complaint_customer_recv"),
            models.Index(fields=["next_due_at"], name="complaint_next_due"),
            # The queue's default order (selectors.SORTS["due"]), the very expressions of its ORDER BY:
            # a page is the index's first rows instead of a sort of every complaint.
            models.Index(*DUE_ORDER, name="complaint_due_order"),
            # The same order over the open complaints only: the desk's default queue. With planner
            # statistics SQLite otherwise took the status index and sorted every open complaint (6.4 ms at
            # 16,000 open; 0.01 ms from this index).
            models.Index(*DUE_ORDER, name="complaint_open_due", condition=Q(status__in=OPEN_STATUS_LIST)),
            models.Index(fields=["closed_at"], name="complaint_to_archive", condition=Q(archived_at__isnull=True)),
            # Search by batch (iexact compares upper-cased); the text columns have trigram indexes on
            # PostgreSQL (migration 0006).
            models.Index(Upper("batch_no"), name="complaint_batch_upper"),
            # The API's `external_ref` filter (a CRM looks its ticket up); empty references are most rows.
            models.Index(fields=["external_ref"], name="complaint_external_ref", condition=~Q(external_ref="")),
            # The change feed's `updated_since`.
            models.Index(fields=["updated_at", "id"], name="complaint_updated"),
        ]
        constraints = [
            # One complaint per reference of a source system (the channel): a repeat intake finds it.
            models.UniqueConstraint(
                fields=["channel", "external_ref"],
                condition=~Q(external_ref=""),
                name="complaint_external_ref_unique",
            )
        ]

    def __str__(self) -> str:
        return self.number

    # Django's own get_FOO_display builds a dict of every choice (hashing each lazy label) on each call:
    # a tenth of the desk queue's time with two per row. The same answer from a dict built once.
    def get_status_display(self) -> str:  # type: ignore[no-redef]  # replaces the one Django adds
        return str(_STATUS_LABELS.get(self.status, self.status))

    def get_priority_display(self) -> str:  # type: ignore[no-redef]  # as above
        return str(_PRIORITY_LABELS.get(self.priority, self.priority))

    @property
    def product_label(self) -> str:
        if self.product_id:
            return str(self.product)
        return self.product_text


_STATUS_LABELS: dict[str, Any] = dict(Status.choices)
_PRIORITY_LABELS: dict[int, Any] = dict(Priority.choices)


class DailySequence(models.Model):
    """Last complaint number handed out on a day. Incremented in the intake transaction, so a
    rolled-back intake gives its number back and the sequence stays gap-free."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("daily number sequence")

    def __str__(self) -> str:
        return f"{self.day}: {self.last}"


class AttachmentKind(models.TextChoices):
    PHOTO = "photo", _("photo")
    SCAN = "scan", _("scan of a paper document")
    SCREENSHOT = "screenshot", _("screenshot (e.g. social media post)")
    RECORDING = "recording", _("call recording / voice message")
    OTHER = "other", _("other")


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"attachments/{timezone.now():%Y/%m}/{instance.complaint.number}/{filename}"


class Attachment(models.Model):
    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))
    kind = models.CharField(_("kind"), max_length=12, choices=AttachmentKind.choices, default=AttachmentKind.PHOTO)
    paper_original_location = models.CharField(_("where the paper original is kept"), max_length=150, blank=True)
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.original_name


class Via(models.TextChoices):
    DESK = "desk", _("desk")
    API = "api", _("API")
    PORTAL = "portal", _("customer portal")
    EMAIL = "email", _("e-mail intake")
    SYSTEM = "system", _("system")
    ADMIN = "admin", _("admin")


class Event(AppendOnlyModel):
    """One change to a complaint or a record that belongs to it. Never updated, never deleted:
    a correction is a new event. The timeline is drawn from these rows."""

    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(_("time"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("actor"),
    )
    via = models.CharField(_("via"), max_length=10, choices=Via.choices)
    action = models.CharField(_("action"), max_length=40)
    before = models.JSONField(_("before"), default=dict, blank=True)
    after = models.JSONField(_("after"), default=dict, blank=True)
    note = models.TextField(_("note"), blank=True)
    # The writing transaction (core/events.py, TransactionId): the change feed GET /events reads in
    # (txid, id) order, so that an event committed late is never behind a reader's cursor.
    txid = models.BigIntegerField(editable=False, db_default=TransactionId())

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        indexes = [
            models.Index(fields=["complaint", "at"], name="event_complaint_at"),
            # The change feed: the next page after a cursor.
            models.Index(fields=["txid", "id"], name="event_feed"),
        ]
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.complaint_id} {self.action} @ {self.at:%Y-%m-%d %H:%M}"


class MailThreadMessage(models.Model):
    """A Message-ID of the complaint's e-mail thread, the customer's or ours: a mail answering any of them
    (In-Reply-To, References) lands on this complaint, and our mails name them so that the customer's
    client shows one conversation."""

    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="mail_thread")
    message_id = models.CharField(_("Message-ID"), max_length=255, unique=True)
    inbound = models.BooleanField(_("from the customer"))
    at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("e-mail of a complaint's thread")
        verbose_name_plural = _("e-mails of complaints' threads")

    def __str__(self) -> str:
        return self.message_id


class PersonalDataAccess(AppendOnlyModel):
    """Each view of unmasked personal data, for the audit office; and each search by a whole phone
    number or e-mail address by someone who sees them masked (`customer` is the one found, or empty
    when the search found nobody)."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    complaint = models.ForeignKey(Complaint, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    where = models.CharField(max_length=40)

    class Meta:
        verbose_name = _("personal data access")
        verbose_name_plural = _("personal data accesses")

    def __str__(self) -> str:
        return f"{self.user_id} saw {self.customer_id} ({self.where})"


class SavedView(models.Model):
    """A named set of queue filters (the queue's query string): a user's own, or shared with everyone
    (shared ones are managed by CS supervisors: complaints.share_saved_view)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views", verbose_name=_("owner")
    )
    name = models.CharField(_("name"), max_length=60)
    query = models.CharField(_("filters"), max_length=500, blank=True)
    shared = models.BooleanField(_("shared with everyone"), default=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="saved_view_name_unique")]
        indexes = [
            # The queue's picker: a user's own views (the constraint's index) and every shared one.
            models.Index(fields=["name"], name="saved_view_shared", condition=Q(shared=True)),
        ]

    def __str__(self) -> str:
        return self.name
