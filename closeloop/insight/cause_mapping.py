"""The mapping screen's reads: the free-text root causes of feedback forms that have no category yet, each
with a suggested category taken from the most similar text already categorised (or, failing that, from the
categories' own names).

Similarity is the Dice coefficient of character bigrams (spaces and case ignored): it needs no word
segmentation, so "驱动电源不良" and "驱动电源批次不良" come out close while "运输破损" does not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Count
from django.db.models.functions import Trim

from closeloop.directory.models import CauseCategory
from closeloop.handling.models import FeedbackForm

UNMAPPED_LIMIT = 50  # texts shown at once (most frequent first); mapping them brings up the next ones
REFERENCE_LIMIT = 2000  # categorised texts compared with, most frequent first
SUGGEST_MIN = 0.3  # below this similarity nothing is suggested


def _grams(text: str) -> frozenset[str]:
    compact = re.sub(r"\s+", "", text.lower())
    if len(compact) < 2:
        return frozenset({compact}) if compact else frozenset()
    return frozenset(compact[i : i + 2] for i in range(len(compact) - 1))


def similarity(a: str, b: str) -> float:
    """Dice coefficient of the character bigrams, 0…1."""
    ga, gb = _grams(a), _grams(b)
    if not ga or not gb:
        return 0.0
    return 2 * len(ga & gb) / (len(ga) + len(gb))


@dataclass
class Unmapped:
    text: str
    count: int
    suggestion: CauseCategory | None
    score: float
    # The categorised text the suggestion comes from ("" when it comes from a category's name).
    because: str


def unmapped_causes(*, limit: int = UNMAPPED_LIMIT) -> tuple[list[Unmapped], int]:
    """The most frequent uncategorised cause texts with a suggestion each, and how many distinct texts wait
    in all. Four queries."""
    pending = (
        FeedbackForm.objects.filter(cause_category__isnull=True)
        .annotate(text=Trim("root_cause"))
        .exclude(text="")
        .values("text")
        .order_by()
        .annotate(count=Count("pk"))
    )
    total = pending.count()
    rows = list(pending.order_by("-count", "text")[:limit])
    mapped = list(
        FeedbackForm.objects.filter(cause_category__isnull=False, cause_category__is_active=True)
        .annotate(text=Trim("root_cause"))
        .exclude(text="")
        .values("text", "cause_category_id")
        .order_by()
        .annotate(count=Count("pk"))
        .order_by("-count")[:REFERENCE_LIMIT]
    )
    categories = {c.pk: c for c in CauseCategory.objects.filter(is_active=True).select_related("parent")}
    references = [(row["text"], row["cause_category_id"], row["text"]) for row in mapped]
    references += [(c.name, c.pk, "") for c in categories.values()]
    result = []
    for row in rows:
        best, best_score, because = None, 0.0, ""
        for text, category_id, source in references:
            score = similarity(row["text"], text)
            if score > best_score and category_id in categories:
                best, best_score, because = categories[category_id], score, source
        if best_score < SUGGEST_MIN:
            best, because = None, ""
        result.append(Unmapped(row["text"], row["count"], best, round(best_score, 2), because))
    return result, total
