"""What came into the complaints mailboxes: one row per message, whatever became of it."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Outcome(models.TextChoices):
    REGISTERED = "registered", _("new complaint")
    REPLY = "reply", _("reply added to a complaint")
    TRIAGE = "triage", _("unreadable: complaint to triage")
    AUTO_REPLY = "auto_reply", _("automatic reply: ignored")
    BOUNCE = "bounce", _("bounce: ignored")
    REFUSED = "refused", _("over the size limit: quarantined")


class InboundMail(models.Model):
    """One received message. The unique Message-ID makes a second delivery of the same mail (an MTA's
    retry, a mailbox polled twice) a no-op; a mail without one gets a hash of its bytes instead."""

    message_id = models.CharField(_("Message-ID"), max_length=255, unique=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now, db_index=True)
    # The intake mailbox's name (MAIL_INTAKE_URL's `name`), or "pipe" for `closeloop mail ingest`.
    mailbox = models.CharField(_("mailbox"), max_length=40, blank=True)
    outcome = models.CharField(_("what became of it"), max_length=12, choices=Outcome.choices)
    complaint = models.ForeignKey(
        "complaints.Complaint",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="inbound_mails",
        verbose_name=_("complaint"),
    )
    size = models.PositiveIntegerField(_("size (bytes)"))
    # Why it was ignored, refused or sent to triage; never an address.
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    quarantine_path = models.CharField(_("kept in quarantine as"), max_length=255, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("received e-mail")
        verbose_name_plural = _("received e-mails")

    def __str__(self) -> str:
        return f"{self.message_id} ({self.outcome})"
