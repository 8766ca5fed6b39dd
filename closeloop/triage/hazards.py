"""Safety hazards (起火, 冒烟, 触电…): a complaint whose words affirm a hazard of its product line's lexicon
(or that the learned hazard model, reading it without its denied words, finds hazardous at
TRIAGE_HAZARD_MODEL_PERCENT) is flagged once,
made urgent through the priority change (its clocks recompute), recorded on its timeline, and quality
and management are told at once, in-app and on their channel.

When: right after the intake transaction commits (closeloop/triage/signals.py), in the same process —
the lexicon, then the learned model (loaded once per process, `learn.current()`), together a fraction of
a millisecond per complaint (measured: docs/decisions.md, issue 19); only a hazard writes, in a
transaction of its own. So a hazard only the model sees is flagged and told at registration too. A
catch-up every five minutes (tasks.py) checks again the complaints of the last ten minutes that have no
flag, in case a process died between the commit and the check.
"""

from __future__ import annotations

import datetime
import logging
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from closeloop import authz
from closeloop.complaints.events import event_record
from closeloop.complaints.lifecycle import OPEN_STATUSES
from closeloop.complaints.models import Complaint, Priority, Via
from closeloop.complaints.services import complaint_change_priority
from closeloop.core.links import absolute_url
from closeloop.notifications.services import Message, notifications_build, notifications_queue
from closeloop.triage import learn
from closeloop.triage.models import HazardFlag, HazardLexicon
from closeloop.triage.text import DEFAULT_HAZARD_WORDS, hazard_reading, hazard_words, without_denied

log = logging.getLogger(__name__)

LEXICON_SECONDS = 60.0  # lexicon rows are re-read at most this often per process
_lexicons: dict[str, Any] = {"loaded": -LEXICON_SECONDS, "by_line": {}, "default": DEFAULT_HAZARD_WORDS}


def lexicon_for(product_line_id: int | None) -> tuple[str, ...]:
    """The line's own lexicon, else the installation's default row, else the built-in words."""
    now = time.monotonic()
    if now - _lexicons["loaded"] >= LEXICON_SECONDS:
        rows = list(HazardLexicon.objects.all())
        _lexicons["by_line"] = {r.product_line_id: tuple(r.word_list()) for r in rows if r.product_line_id}
        default = next((r for r in rows if r.product_line_id is None), None)
        _lexicons["default"] = tuple(default.word_list()) if default else DEFAULT_HAZARD_WORDS
        _lexicons["loaded"] = now
    if product_line_id is not None and product_line_id in _lexicons["by_line"]:
        return _lexicons["by_line"][product_line_id]
    return _lexicons["default"]


def lexicon_forget() -> None:
    _lexicons["loaded"] = -LEXICON_SECONDS


def complaint_text(complaint: Complaint) -> str:
    return " ".join(p for p in (complaint.description, complaint.product_text, complaint.onsite_situation) if p)


@dataclass(frozen=True)
class HazardFinding:
    words: list[str]  # the words that drove it: the lexicon's, or the model's strongest stretches of text
    source: str  # "lexicon" or "model"
    confidence: float  # 1.0 for a lexicon word; the model's probability otherwise


def hazard_assess(*, text: str, line_id: int | None, use_model: bool = True) -> HazardFinding | None:
    """A hazard when a word of the line's lexicon is affirmed (not denied), or — with a trained model that
    learned from TRIAGE_MIN_HISTORY complaints or more — when the learned hazard model, reading the text
    without its denied words, gives at least TRIAGE_HAZARD_MODEL_PERCENT. None otherwise."""
    lexicon = lexicon_for(line_id)
    words = hazard_words(text, lexicon)
    if words:
        return HazardFinding(words, "lexicon", 1.0)
    if not use_model:
        return None
    _version, learned = learn.current()
    if learned is None or learned.samples < settings.TRIAGE_MIN_HISTORY:
        return None
    guess = learned.hazard(without_denied(text, lexicon), explain_from=settings.TRIAGE_HAZARD_MODEL_MIN)
    if guess is None or guess.confidence < settings.TRIAGE_HAZARD_MODEL_MIN:
        return None
    return HazardFinding(guess.words or [_("(learned model)")], "model", guess.confidence)


def hazard_found(complaint: Complaint) -> tuple[list[str], str]:
    """(the words that make it a hazard, "lexicon" or "model"), or ([], "") for none."""
    line_id = complaint.product.line_id if complaint.product_id and complaint.product else None
    finding = hazard_assess(text=complaint_text(complaint), line_id=line_id)
    return (finding.words, finding.source) if finding else ([], "")


def hazard_check(*, complaint_id: int, now: datetime.datetime | None = None) -> HazardFlag | None:
    """Flag the complaint if it describes a hazard; None when it does not or was flagged already."""
    complaint = Complaint.objects.select_related("product").filter(pk=complaint_id).first()
    if complaint is None or HazardFlag.objects.filter(complaint_id=complaint_id).exists():
        return None
    words, source = hazard_found(complaint)
    if not words:
        return None
    return hazard_flag(complaint=complaint, words=words, source=source, now=now)


CATCH_UP_BATCH = 2000


def hazard_catch_up(*, since: datetime.datetime) -> list[HazardFlag]:
    """Check again the complaints registered since `since` that have no flag (the worker's sweep, for a
    process that died between its intake's commit and its check): read in batches — one query and one
    matrix of the learned model per CATCH_UP_BATCH complaints, not two queries and a model call each
    (at 400 intakes a second ten minutes are 240,000 complaints) —, then `hazard_check` for each one
    found, which reads it again and flags it at most once."""
    recent = Complaint.objects.filter(updated_at__gte=since, registered_at__gte=since)
    flagged = HazardFlag.objects.filter(flagged_at__gte=since).values("complaint_id")
    rows = (
        recent.exclude(pk__in=flagged)
        .order_by()
        .values_list("pk", "description", "product_text", "onsite_situation", "product__line_id")
    )
    _version, learned = learn.current()
    if learned is not None and learned.samples < settings.TRIAGE_MIN_HISTORY:
        learned = None
    found: list[int] = []
    batch: list[tuple[int, str]] = []  # (complaint, its text without denied words) for the model

    def read_batch() -> None:
        if batch and learned is not None:
            chances = learned.hazard_many([text for _pk, text in batch])
            found.extend(
                pk for (pk, _text), p in zip(batch, chances, strict=True) if p >= settings.TRIAGE_HAZARD_MODEL_MIN
            )
        batch.clear()

    for pk, description, product_text, onsite, line_id in rows.iterator(chunk_size=CATCH_UP_BATCH):
        text = " ".join(p for p in (description, product_text, onsite) if p)
        affirmed, model_text = hazard_reading(text, lexicon_for(line_id))
        if affirmed:
            found.append(pk)
        else:
            batch.append((pk, model_text))
            if len(batch) >= CATCH_UP_BATCH:
                read_batch()
    read_batch()
    return [flag for pk in found if (flag := hazard_check(complaint_id=pk)) is not None]


def hazard_flag(
    *, complaint: Complaint, words: list[str], source: str, now: datetime.datetime | None = None
) -> HazardFlag | None:
    """Flag, escalate, record and notify, in one transaction; exactly once per complaint (the flag's
    unique key: a second check, concurrent or later, changes nothing and tells nobody)."""
    now = now or timezone.now()
    with translation.override(settings.LANGUAGE_CODE):
        reason = _("Safety hazard: %(words)s") % {"words": "、".join(words)}
    with transaction.atomic():
        locked = (
            Complaint.objects.select_for_update(no_key=True, of=("self",))
            .select_related("product")
            .get(pk=complaint.pk)
        )
        escalate = locked.priority != Priority.URGENT and locked.status in OPEN_STATUSES
        try:
            with transaction.atomic():
                flag = HazardFlag.objects.create(
                    complaint=locked, flagged_at=now, words=words, source=source, escalated=escalate
                )
        except IntegrityError:
            return None  # flagged by another check: it escalated and told them
        event_record(
            complaint=locked,
            action="hazard_flagged",
            actor=None,
            via=Via.SYSTEM,
            at=now,
            after={"words": words, "source": source, "escalated": escalate},
            note=reason,
        )
        if escalate:
            complaint_change_priority(
                complaint=locked,
                priority=Priority.URGENT,
                reason=reason,
                actor=None,
                via=Via.SYSTEM,
                now=now,
                system=True,
            )
        hazard_notify(complaint=locked, words=words, now=now)
    return flag


def hazard_notify(*, complaint: Complaint, words: list[str], now: datetime.datetime) -> None:
    """Quality and management, at once. No personal data: number, product, region and the words only."""
    recipients = list(authz.recipients.members_of_roles(authz.HAZARD_WATCHERS))
    if not recipients:
        log.warning("safety hazard on complaint %s but nobody has the quality or management role", complaint.pk)
        return
    with translation.override(settings.LANGUAGE_CODE):
        product = complaint.product
        subject = _("Safety hazard: complaint %(number)s (%(words)s)") % {
            "number": complaint.number,
            "words": "、".join(words),
        }
        body = "\n".join(
            part
            for part in (
                f"{product.model} {product.label}" if product else complaint.product_text,
                " ".join(p for p in (complaint.province, complaint.city) if p),
                _("Made urgent; see the complaint: %(link)s")
                % {"link": absolute_url(reverse("desk:detail", args=[complaint.number]))},
                _("This month's hazards: %(link)s") % {"link": absolute_url(reverse("triage:hazards"))},
            )
            if part
        )
    message = Message(
        kind="safety_hazard",
        subject=subject,
        body=body,
        complaint_id=complaint.pk,
        dedup=f"safety_hazard:{complaint.pk}",
    )
    notifications_queue(notifications_build(message=message, recipients=recipients, now=now))
