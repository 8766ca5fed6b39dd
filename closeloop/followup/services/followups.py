"""The follow-up (回访) after a complaint is resolved.

A follow-up round is born in the resolve transaction (`followup_create`, a `then=` hook of the
`resolve` transition), due within 2 working days, and belongs to the agent pool. Agents (and CS
supervisors) try to reach the customer (`followup_attempt`); after FOLLOWUP_MAX_ATTEMPTS failed
attempts on different local days the round ends as "unreachable". Once reached — by phone, by the
customer's reply to an SMS/e-mail, or by the self-service survey — `followup_record` stores whether
the problem is solved and the satisfaction level; "not solved" or a level that `reopens` reopens the
complaint (closing.complaint_reopen), which escalates it to a CS supervisor.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from closeloop import authz
from closeloop.complaints.events import event_record
from closeloop.complaints.models import Complaint
from closeloop.core.errors import PermissionDeniedError, ValidationFailed
from closeloop.core.types import AnyUser, User
from closeloop.followup.lifecycle import DENIED, LIFECYCLE, MAKE_FOLLOWUP
from closeloop.followup.models import (
    AttemptResult,
    FollowUp,
    FollowUpAttempt,
    FollowUpMethod,
    SatisfactionLevel,
)
from closeloop.followup.selectors import active_scale
from closeloop.sla.milestones import Milestone
from closeloop.sla.services import deadlines_close, deadlines_start

TEXT_MAX_LENGTH = 5000
NOTE_MAX_LENGTH = 1000


def can_work(user: AnyUser | None) -> bool:
    return authz.allowed(user, MAKE_FOLLOWUP)


def _check_actor(actor: User | None) -> None:
    if not can_work(actor):
        raise PermissionDeniedError(DENIED)


def _locked(followup: FollowUp) -> FollowUp:
    """Lock the complaint first, then the follow-up: the same order as the resolve transaction."""
    Complaint.objects.select_for_update(no_key=True).only("pk").get(pk=followup.complaint_id)
    return (
        FollowUp.objects.select_for_update(no_key=True, of=("self",))
        .select_related("complaint__customer")
        .get(pk=followup.pk)
    )


def _check_open(followup: FollowUp) -> None:
    """Every row of the table leaves the open round only; an attempt needs it open too."""
    LIFECYCLE.check_state(followup, "unreachable")


# --- the follow-up is born ------------------------------------------------------------------------


def followup_create(*, complaint: Complaint, actor: User | None, via: str, now: datetime.datetime) -> FollowUp:
    """Run by transition_apply when a complaint is resolved (in its transaction, complaint locked):
    the next round, for the agent pool, with the 2-working-day `followup` clock started."""
    open_round = FollowUp.objects.filter(complaint=complaint, outcome="").order_by("-round").first()
    if open_round is not None:  # resolved again while a round is open: that round still applies
        return open_round
    last = FollowUp.objects.filter(complaint=complaint).order_by("-round").values_list("round", flat=True).first()
    followup = FollowUp.objects.create(complaint=complaint, round=(last or 0) + 1, created_at=now, assigned_to=None)
    deadlines_start(complaint=complaint, milestones=[Milestone.FOLLOWUP], start=now)
    event_record(
        complaint=complaint,
        action="followup_created",
        actor=actor,
        via=via,
        at=now,
        after={"followup": followup.pk, "round": followup.round},
    )
    return followup


# --- attempts -------------------------------------------------------------------------------------


def _failed_days(followup: FollowUp) -> set[datetime.date]:
    return {
        timezone.localdate(at)
        for at in followup.attempts.exclude(result=AttemptResult.REACHED).values_list("at", flat=True)
    }


def followup_attempt(
    *,
    followup: FollowUp,
    method: str,
    result: str,
    note: str = "",
    actor: User | None,
    via: str = "desk",
    now: datetime.datetime | None = None,
) -> FollowUpAttempt:
    """An attempt that did not reach the customer (no answer, busy, wrong number, refused). When such
    attempts fall on FOLLOWUP_MAX_ATTEMPTS different local days the round ends as unreachable — which
    meets the follow-up deadline and lets the complaint close. A reached customer is recorded with
    `followup_record` instead."""
    now = now or timezone.now()
    _check_actor(actor)
    errors: dict[str, list[str]] = {}
    if method not in FollowUpMethod.values or method == FollowUpMethod.SURVEY:
        errors["method"] = [_("Choose phone, SMS or e-mail.")]
    if result not in AttemptResult.values:
        errors["result"] = [_("Choose a result from the list.")]
    elif result == AttemptResult.REACHED:
        errors["result"] = [_("The customer was reached: record the answer instead.")]
    if len(note) > NOTE_MAX_LENGTH:
        errors["note"] = [_("At most %(n)d characters.") % {"n": NOTE_MAX_LENGTH}]
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        locked = _locked(followup)
        _check_open(locked)
        attempt = FollowUpAttempt.objects.create(
            followup=locked, at=now, by=actor, method=method, result=result, note=note.strip()
        )
        event_record(
            complaint=locked.complaint,
            action="followup_attempt",
            actor=actor,
            via=via,
            at=now,
            note=attempt.note,
            after={"followup": locked.pk, "attempt": attempt.pk, "method": method, "result": result},
        )
        days = _failed_days(locked)
        if len(days) >= settings.FOLLOWUP_MAX_ATTEMPTS:
            LIFECYCLE.move(locked, "unreachable", actor)
            locked.method = method
            locked.completed_at = now
            locked.completed_by = actor
            locked.save(update_fields=["outcome", "method", "completed_at", "completed_by"])
            deadlines_close(complaint=locked.complaint, milestones=[Milestone.FOLLOWUP], at=now)
            event_record(
                complaint=locked.complaint,
                action="followup_unreachable",
                actor=actor,
                via=via,
                at=now,
                after={"followup": locked.pk, "outcome": locked.outcome, "days": len(days)},
            )
        # The caller's copy learns whether the round ended (read again: the table alone writes the outcome).
        followup.refresh_from_db(fields=["outcome", "completed_at"])
    return attempt


# --- the customer's answer ------------------------------------------------------------------------


def _level_for(code: str) -> SatisfactionLevel | None:
    return next((level for level in active_scale().levels.all() if level.code == code), None)


def followup_record(
    *,
    followup: FollowUp,
    method: str,
    solved: bool | None,
    level: str,
    comments: str = "",
    suggestions: str = "",
    actor: User | None,
    via: str,
    now: datetime.datetime | None = None,
) -> FollowUp:
    """The customer's answer: problem solved or not, a level of the active scale, comments and
    suggestions. `actor` is None for a survey answer; the answer is recorded the same way either way.
    Not solved, or a level that reopens (不满意), reopens the complaint with the customer's reason."""
    now = now or timezone.now()
    if actor is not None:
        _check_actor(actor)
    errors: dict[str, list[str]] = {}
    if method not in FollowUpMethod.values:
        errors["method"] = [_("Choose how the customer was reached.")]
    if solved is None:
        errors["solved"] = [_("Say whether the problem is solved.")]
    satisfaction = _level_for(level or "")
    if satisfaction is None:
        errors["level"] = [_("Choose a satisfaction level from the list.")]
    comments, suggestions = (comments or "").strip(), (suggestions or "").strip()
    for name, value in (("comments", comments), ("suggestions", suggestions)):
        if len(value) > TEXT_MAX_LENGTH:
            errors[name] = [_("At most %(n)d characters.") % {"n": TEXT_MAX_LENGTH}]
    if errors:
        raise ValidationFailed(errors)
    assert satisfaction is not None and solved is not None
    satisfied = solved and not satisfaction.reopens
    with transaction.atomic():
        locked = _locked(followup)
        _check_open(locked)
        complaint = locked.complaint
        attempt = FollowUpAttempt.objects.create(
            followup=locked, at=now, by=actor, method=method, result=AttemptResult.REACHED
        )
        event_record(
            complaint=complaint,
            action="followup_attempt",
            actor=actor,
            via=via,
            at=now,
            after={"followup": locked.pk, "attempt": attempt.pk, "method": method, "result": attempt.result},
        )
        locked.method = method
        locked.solved = solved
        locked.satisfaction = satisfaction
        locked.comments = comments
        locked.suggestions = suggestions
        LIFECYCLE.move(locked, "record_satisfied" if satisfied else "record_unsatisfied", actor)
        locked.completed_at = now
        locked.completed_by = actor
        locked.save(
            update_fields=[
                "method",
                "solved",
                "satisfaction",
                "comments",
                "suggestions",
                "outcome",
                "completed_at",
                "completed_by",
            ]
        )
        deadlines_close(complaint=complaint, milestones=[Milestone.FOLLOWUP], at=now)
        event_record(
            complaint=complaint,
            action="followup_recorded",
            actor=actor,
            via=via,
            at=now,
            note=comments,
            after={
                "followup": locked.pk,
                "method": method,
                "outcome": locked.outcome,
                "level": satisfaction.code,
                "level_label": satisfaction.label_zh,
                "scale": satisfaction.scale.code,
                "solved": solved,
                "suggestions": suggestions,
            },
        )
        if not satisfied:
            from closeloop.followup.services.closing import complaint_reopen

            complaint_reopen(
                complaint=complaint,
                reason=comments or reopen_reason(solved=solved, level=satisfaction),
                actor=actor,
                via=via,
                now=now,
            )
    return locked


def reopen_reason(*, solved: bool, level: SatisfactionLevel) -> str:
    """The reason given to the CS supervisor when the customer left no comment."""
    parts = []
    if not solved:
        parts.append(_("Customer says the problem is not solved"))
    if level.reopens:
        parts.append(_("satisfaction: %(level)s") % {"level": level.label_zh})
    return "; ".join(parts) or _("Customer not satisfied")


# --- configuration --------------------------------------------------------------------------------


def satisfaction_scale_activate(*, scale_id: int) -> None:
    """Make one scale the one customers answer on. Past answers keep the level they were given."""
    from closeloop.followup.models import SatisfactionScale

    with transaction.atomic():
        SatisfactionScale.objects.select_for_update(no_key=True).filter(pk=scale_id).get()
        SatisfactionScale.objects.exclude(pk=scale_id).filter(is_active=True).update(is_active=False)
        SatisfactionScale.objects.filter(pk=scale_id).update(is_active=True)
