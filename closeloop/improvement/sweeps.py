"""The periodic sweep of improvement-action deadlines: the owner is warned at the warning point; at the
deadline, the owner and the owner department's managers are told the action is overdue.

Each step claims its rows with one conditional UPDATE (core.claims), so however many workers sweep at the
same time every action is warned once and reported overdue once; the marker, the event and the messages
of a batch commit together.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from closeloop import authz
from closeloop.complaints.models import Via
from closeloop.core.claims import claim
from closeloop.improvement.models import ActionEvent, ImprovementAction
from closeloop.notifications.services import Message, notifications_build, notifications_queue

BATCH = 500


@dataclass
class SweepResult:
    warned: int = 0
    overdue: int = 0


def _local(value: datetime.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def _message(action: ImprovementAction, kind: str) -> Message:
    from closeloop.improvement.services import action_message

    if kind == "improvement_warned":
        subject = gettext_lazy("%(number)s: the improvement action “%(title)s” is due at %(due)s")
    else:
        subject = gettext_lazy("%(number)s: the improvement action “%(title)s” is overdue (was due %(due)s)")
    return action_message(action, kind=kind, subject=subject, params={"due": _local(action.due_at)})


def _record(actions: list[ImprovementAction], kind: str, now: datetime.datetime, people: dict[int, list[Any]]) -> None:
    ActionEvent.objects.bulk_create(
        [
            ActionEvent(
                action=action,
                at=now,
                kind=kind,
                via=Via.SYSTEM,
                after={"due_at": action.due_at.isoformat(), "warn_at": action.warn_at.isoformat()},
            )
            for action in actions
        ]
    )
    rows = []
    for action in actions:
        rows.extend(notifications_build(message=_message(action, kind), recipients=people[action.pk], now=now))
    notifications_queue(rows)


def _owners(actions: list[ImprovementAction]) -> dict[int, list[Any]]:
    return {a.pk: [a.owner] if a.owner.is_active else [] for a in actions}


def _owners_and_managers(actions: list[ImprovementAction]) -> dict[int, list[Any]]:
    managers = authz.recipients.active_managers_by_department({a.owner_department_id for a in actions})
    return {a.pk: ([a.owner] if a.owner.is_active else []) + managers.get(a.owner_department_id, []) for a in actions}


def _sweep(now: datetime.datetime, *, marker: str, due_column: str, kind: str) -> int:
    """Claim not-done actions whose `due_column` has passed and whose `marker` is empty, batch by batch."""
    total = 0
    while True:
        ids = list(
            ImprovementAction.objects.filter(
                done_at__isnull=True, **{f"{marker}__isnull": True, f"{due_column}__lte": now}
            ).values_list("id", flat=True)[:BATCH]
        )
        if not ids:
            return total
        with transaction.atomic():
            claimed = claim(
                ImprovementAction,
                ids,
                assignments={marker: now},
                condition=f"{marker} IS NULL AND done_at IS NULL",
            )
            actions = list(ImprovementAction.objects.filter(pk__in=claimed).select_related("owner"))
            if kind == "improvement_warned":
                people = _owners(actions)
                for action in actions:
                    if action.due_at <= now:  # already overdue (a worker was down): that message says it all
                        people[action.pk] = []
            else:
                people = _owners_and_managers(actions)
            _record(actions, kind, now, people)
        total += len(claimed)
        if len(ids) < BATCH:
            return total


def improvement_sweep(*, now: datetime.datetime | None = None) -> SweepResult:
    now = now or timezone.now()
    with translation.override(settings.LANGUAGE_CODE):
        warned = _sweep(now, marker="warned_at", due_column="warn_at", kind="improvement_warned")
        overdue = _sweep(now, marker="breached_at", due_column="due_at", kind="improvement_overdue")
    return SweepResult(warned=warned, overdue=overdue)
