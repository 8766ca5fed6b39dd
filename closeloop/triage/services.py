"""Writes of triage: training a new model version, and recording what agents did with suggestions."""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from closeloop import authz
from closeloop.complaints.lifecycle import Status
from closeloop.complaints.models import Complaint
from closeloop.core.errors import DomainError
from closeloop.core.types import User
from closeloop.triage import learn
from closeloop.triage.hazards import lexicon_for
from closeloop.triage.models import HazardFlag, SuggestionOutcome, TriageModel
from closeloop.triage.text import hazard_reading

log = logging.getLogger(__name__)

HOLDOUT_EVERY = 10  # every tenth complaint of the history is kept out of training to score the model
OUTCOME_FIELDS = ("type", "department", "priority", "product")


def training_history() -> QuerySet[Complaint]:
    """What the model learns from: closed complaints (their type, department and priority are the
    ones the case ended with, checked by the people who handled it)."""
    return Complaint.objects.filter(status=Status.CLOSED)


def triage_train(*, now: datetime.datetime | None = None) -> TriageModel:
    """Train a new version on the newest TRIAGE_MAX_HISTORY closed complaints, score it on the held-out
    tenth, store it. Refused below TRIAGE_MIN_HISTORY (the rules answer until then)."""
    now = now or timezone.now()
    flagged = HazardFlag.objects.filter(complaint_id=OuterRef("pk"))
    history = list(
        training_history()
        .annotate(hazard=Exists(flagged))
        .order_by("-closed_at", "-pk")
        .values_list(
            "description", "product_text", "type__code", "department__code", "priority", "hazard", "product__line_id"
        )[: settings.TRIAGE_MAX_HISTORY]
    )
    if len(history) < settings.TRIAGE_MIN_HISTORY:
        raise DomainError(
            _("Not enough closed complaints to learn from yet: %(have)s of %(need)s.")
            % {"have": len(history), "need": settings.TRIAGE_MIN_HISTORY},
            code="triage.not_enough_history",
        )
    started = time.perf_counter()
    rows = [hazard_labelled(row) for row in history]
    train = [r for i, r in enumerate(rows) if i % HOLDOUT_EVERY]
    held = [r for i, r in enumerate(rows) if not i % HOLDOUT_EVERY]
    learned = learn.fit(
        [learn.model_text(r[0], r[1]) for r in train],
        {
            "type": [r[2] for r in train],
            "department": [r[3] or "" for r in train],
            "priority": [str(r[4]) for r in train],
            "hazard": ["1" if r[5] else "0" for r in train],
        },
        hazard_texts=[r[6] for r in train],
    )
    seconds = time.perf_counter() - started
    scores = learn_scores(learned, held)
    with transaction.atomic():
        # PostgreSQL refuses FOR UPDATE beside an aggregate: lock the newest row instead.
        newest = (
            TriageModel.objects.select_for_update().order_by("-version").values_list("version", flat=True).first() or 0
        )
        model = TriageModel.objects.create(
            version=newest + 1,
            trained_at=now,
            samples=len(train),
            seconds=round(seconds, 2),
            scores=scores,
            blob=learn.dumps(learned),
        )
    learn.forget()
    log.info("triage model v%s trained on %s complaints in %.1f s: %s", model.version, len(train), seconds, scores)
    return model


HistoryRow = tuple[str, str, str, str | None, int, bool, str]


def hazard_labelled(row: tuple[str, str, str, str | None, int, bool, int | None]) -> HistoryRow:
    """A history row with its hazard label and the text the hazard model reads. A hazard is a flagged
    complaint, or one whose words affirm a word of its line's lexicon: an imported history carries no flags,
    and the model is worth having for what it learns beside the words (拉了电闸, 手发麻, 烧到窗帘)."""
    description, product_text, type_code, department, priority, flagged, line_id = row
    affirmed, hazard_text = hazard_reading(learn.model_text(description, product_text), lexicon_for(line_id))
    return description, product_text, type_code, department, priority, flagged or bool(affirmed), hazard_text


def learn_scores(learned: learn.Learned, held: Sequence[HistoryRow]) -> dict[str, float]:
    """Accuracy per suggested field on the held-out rows; for the hazard model its recall and precision
    at TRIAGE_HAZARD_MODEL_PERCENT."""
    if not held:
        return {}
    predicted = learned.predict_many([learn.model_text(r[0], r[1]) for r in held])
    hits = dict.fromkeys(predicted, 0)
    for index, (_description, _product_text, type_code, department, priority, _hazard, _text) in enumerate(held):
        truth = {"type": type_code, "department": department or "", "priority": str(priority)}
        for name, values in predicted.items():
            hits[name] += values[index] == truth[name]
    scores = {name: round(n / len(held), 3) for name, n in hits.items()}
    if learn.HAZARD in learned.classifiers:
        found = [p >= settings.TRIAGE_HAZARD_MODEL_MIN for p in learned.hazard_many([r[6] for r in held])]
        truth_hazard = [r[5] for r in held]
        caught = sum(f and t for f, t in zip(found, truth_hazard, strict=True))
        if any(truth_hazard):
            scores["hazard_recall"] = round(caught / sum(truth_hazard), 3)
        if any(found):
            scores["hazard_precision"] = round(caught / sum(found), 3)
    return scores


def triage_retrain_request(*, actor: User) -> None:
    """An administrator asks for a new version now; the worker trains it."""
    authz.require(actor, "triage.retrain_model")
    from closeloop.triage.tasks import triage_train_task

    triage_train_task()


@dataclass(frozen=True)
class Offered:
    """What the form showed for one field when the complaint was registered."""

    field: str
    suggested: str


def suggestion_outcomes_record(
    *,
    complaint: Complaint,
    offered: list[Offered],
    user: User | None,
    model_version: int | None,
    now: datetime.datetime | None = None,
) -> list[SuggestionOutcome]:
    """Compare each offered suggestion with what the complaint was registered with: accepted or overridden."""
    now = now or timezone.now()
    chosen = {
        "type": complaint.type.code if complaint.type_id else "",
        "department": complaint.department.code if complaint.department_id and complaint.department else "",
        "priority": str(complaint.priority),
        "product": complaint.product.model if complaint.product_id and complaint.product else "",
    }
    rows = [
        SuggestionOutcome(
            at=now,
            user=user if user is not None and user.is_authenticated else None,
            complaint=complaint,
            field=o.field,
            suggested=o.suggested[:60],
            chosen=chosen[o.field][:60],
            accepted=o.suggested == chosen[o.field],
            model_version=model_version,
        )
        for o in offered
        if o.field in chosen and o.suggested
    ]
    SuggestionOutcome.objects.bulk_create(rows)
    return rows
