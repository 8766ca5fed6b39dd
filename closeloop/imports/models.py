"""One row per history import that wrote something: who, when, which file, how many complaints.
Each imported complaint also carries `imported_at` and an `imported` event naming this run."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ImportSource(models.TextChoices):
    CLI = "cli", _("command line")
    API = "api", _("API")


class ImportRun(models.Model):
    at = models.DateTimeField(_("time"), default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("imported by"),
    )
    source = models.CharField(_("source"), max_length=4, choices=ImportSource.choices)
    file_name = models.CharField(_("file"), max_length=255, blank=True)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    customers_created = models.PositiveIntegerField(_("customers created"), default=0)
    followups = models.PositiveIntegerField(_("follow-ups"), default=0)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("history import")
        verbose_name_plural = _("history imports")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.file_name} ({self.rows})"
