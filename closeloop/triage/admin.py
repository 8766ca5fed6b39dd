"""Admin of triage: the hazard lexicons are edited here; models, flags and outcomes are read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from closeloop.triage.models import HazardFlag, HazardLexicon, SuggestionOutcome, TriageModel


@admin.register(HazardLexicon)
class HazardLexiconAdmin(admin.ModelAdmin):
    list_display = ("__str__", "words", "updated_at")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(TriageModel)
class TriageModelAdmin(ReadOnlyAdmin):
    list_display = ("version", "trained_at", "samples", "seconds", "scores")
    exclude = ("blob",)


@admin.register(HazardFlag)
class HazardFlagAdmin(ReadOnlyAdmin):
    list_display = ("complaint", "flagged_at", "words", "source", "escalated")


@admin.register(SuggestionOutcome)
class SuggestionOutcomeAdmin(ReadOnlyAdmin):
    list_display = ("at", "field", "suggested", "chosen", "accepted", "model_version")
    list_filter = ("field", "accepted")
