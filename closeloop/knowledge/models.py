"""The knowledge base (知识库): a product line's known issues, for technical support (issue 16, item 4).

An article says what the customer sees (symptoms), why (cause) and what to do (numbered steps); tags and
the model numbers it is about help finding it. A draft is seen by staff only; a published article also by
customers on the portal. Publishing is a flag, not a lifecycle: an article has no other states.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from closeloop.core.models import UpdatedAtModel


class Article(UpdatedAtModel):
    product_line = models.ForeignKey(
        "directory.ProductLine",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("product line"),
    )
    title = models.CharField(_("title"), max_length=200)
    symptoms = models.TextField(_("symptoms"))
    cause = models.TextField(_("cause"), blank=True)
    # The steps in order; shown numbered. A list of texts.
    steps = models.JSONField(_("steps"), default=list)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    # The models it is about, as written (e.g. "XD-A1200 XD-A1500"); searched without dashes.
    models_text = models.CharField(_("models"), max_length=300, blank=True)
    is_published = models.BooleanField(_("published"), default=False)
    # Title, symptoms, cause, steps, tags and models, upper-cased with dashes and white space taken out
    # (knowledge/search.py): what a search compares with, so a query reads one column (a trigram index on
    # PostgreSQL, migration 0002).
    search_text = models.TextField(editable=False, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["title", "id"]
        verbose_name = _("knowledge article")
        verbose_name_plural = _("knowledge articles")
        indexes = [
            # The lists: a product line's articles; the portal's published ones.
            models.Index(fields=["product_line", "title"], name="article_line_title"),
            models.Index(fields=["title"], name="article_published", condition=Q(is_published=True)),
        ]

    def __str__(self) -> str:
        return self.title
