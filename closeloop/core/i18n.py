"""Bilingual reference data: rows carry a Chinese name and an English one; show the active language's."""

from __future__ import annotations

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


def bilingual_label(name: str, name_en: str) -> str:
    """The active language's name of a bilingual row read as values (no instance): as `label`."""
    lang = get_language() or "zh-hans"
    if lang.startswith("en") and name_en:
        return name_en
    return name


class BilingualNamed(models.Model):
    name = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return bilingual_label(self.name, self.name_en)
