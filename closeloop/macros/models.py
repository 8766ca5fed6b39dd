"""Canned replies (macros, 快捷回复): texts an agent starts a message to the customer from, with
placeholders filled from the complaint (closeloop/macros/placeholders.py). Personal ones belong to their
author; shared ones (no owner) are kept by CS supervisors and offered to every agent."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from closeloop.core.models import UpdatedAtModel


class Macro(UpdatedAtModel):
    title = models.CharField(_("name"), max_length=80)
    # Empty: a shared reply; else the agent's own.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("owner"),
    )
    subject = models.CharField(_("subject (e-mail)"), max_length=200, blank=True)
    text = models.TextField(_("text"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["title", "id"]
        verbose_name = _("canned reply")
        verbose_name_plural = _("canned replies")
        # The pick list: an agent's own replies, then the shared ones.
        indexes = [models.Index(fields=["owner", "title"], name="macro_owner_title")]

    def __str__(self) -> str:
        return self.title
