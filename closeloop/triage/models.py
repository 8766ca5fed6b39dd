"""The learned models (versioned), the safety-hazard lexicons and flags, and the record of what agents
did with each suggestion."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from closeloop.core.events import AppendOnlyModel


class TriageModel(AppendOnlyModel):
    """One training run: the fitted classifiers, pickled. The newest row is the one in use; every
    process loads it once and keeps it until a newer version appears (closeloop/triage/learn.py).
    Rows are never changed: a retraining writes a new version."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    trained_at = models.DateTimeField(_("trained at"), default=timezone.now)
    samples = models.PositiveIntegerField(_("closed complaints learned from"))
    seconds = models.FloatField(_("training time (s)"))
    # Accuracy on the part of the history held out of this training run, per field.
    scores = models.JSONField(_("held-out accuracy"), default=dict)
    blob = models.BinaryField(_("model"))

    class Meta:
        ordering = ["-version"]
        verbose_name = _("triage model")
        verbose_name_plural = _("triage models")

    def __str__(self) -> str:
        return f"v{self.version}"


class HazardLexicon(models.Model):
    """The words that make a complaint about a product line a safety hazard (one per line; the row
    without a line applies to every line without its own). No row at all: the built-in default
    (closeloop/triage/hazards.py, DEFAULT_WORDS)."""

    product_line = models.OneToOneField(
        "directory.ProductLine",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("product line"),
    )
    words = models.TextField(_("hazard words"), help_text=_("One word or phrase a line, or separated by commas."))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("hazard lexicon")
        verbose_name_plural = _("hazard lexicons")
        constraints = [
            models.UniqueConstraint(
                fields=["product_line"],
                condition=models.Q(product_line__isnull=True),
                name="hazard_lexicon_one_default",
            )
        ]

    def __str__(self) -> str:
        return str(self.product_line or _("every product line"))

    def word_list(self) -> list[str]:
        return [w.strip() for w in self.words.replace("，", ",").replace("\n", ",").split(",") if w.strip()]


class HazardFlag(AppendOnlyModel):
    """A complaint found to describe a safety hazard: written once per complaint (the unique key makes
    the check idempotent: a second run finds the row and does nothing, so nobody is told twice)."""

    complaint = models.OneToOneField(
        "complaints.Complaint", on_delete=models.PROTECT, related_name="hazard_flag", verbose_name=_("complaint")
    )
    flagged_at = models.DateTimeField(_("flagged at"), default=timezone.now)
    # The words found in the text (explainable), and whether the lexicon or the learned model found them.
    words = models.JSONField(_("words"), default=list)
    source = models.CharField(_("found by"), max_length=10)
    escalated = models.BooleanField(_("made urgent"), default=False)

    class Meta:
        ordering = ["-flagged_at"]
        verbose_name = _("safety hazard")
        verbose_name_plural = _("safety hazards")
        # The monthly hazard report reads a month of flags.
        indexes = [models.Index(fields=["flagged_at"], name="hazard_flag_flagged_at")]


class SuggestionOutcome(AppendOnlyModel):
    """What the agent did with one suggested field at registration: accepted it or chose otherwise."""

    at = models.DateTimeField(_("time"), default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    complaint = models.ForeignKey(
        "complaints.Complaint", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    field = models.CharField(_("field"), max_length=20)
    suggested = models.CharField(_("suggested"), max_length=60)
    chosen = models.CharField(_("chosen"), max_length=60)
    accepted = models.BooleanField(_("accepted"))
    model_version = models.PositiveIntegerField(_("model version"), null=True, blank=True)

    class Meta:
        verbose_name = _("suggestion outcome")
        verbose_name_plural = _("suggestion outcomes")
        # The admins' acceptance figures group the last weeks by field.
        indexes = [models.Index(fields=["at", "field"], name="suggestion_outcome_at_field")]
