"""Improvement actions (改进措施): every write goes through here — desk views, the API, the admin and the
warning sweep's neighbours all call these functions.

An action is created from a feedback form's or a follow-up's suggestion, a root cause, a defect incident,
a monthly report or anything else (`action_create`, with `action_prefill` proposing its title, text and
targets from the source). Its deadline is computed on the working calendar of the default SLA policy from
a duration ("20wd") or a due date (the end of that working day), with the policy's warning point. The owner
(or a manager of the owner department) starts it and reports it done with what was done; then the owner
side and quality each judge whether it was effective, with a note, looking at the effect the system
measured (`closeloop.improvement.evaluation`). When both have judged, it is verified.

Pattern: check permission and input first (nothing is written on a refusal), then lock the row, change it
and append an `ActionEvent` in one transaction; notifications go through the outbox in that transaction.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.db import connection, models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from closeloop import authz
from closeloop.calendar.durations import Duration, DurationUnit, InvalidDuration
from closeloop.calendar.working import WorkingCalendar, add, add_working_time, warning_at, working_time_between
from closeloop.complaints.models import Complaint, Via
from closeloop.core.errors import DomainError, PermissionDeniedError, ValidationFailed
from closeloop.core.links import absolute_url
from closeloop.core.roles import Role
from closeloop.core.types import AnyUser, User
from closeloop.directory.models import CauseCategory, ComplaintType, Department, Membership, Product, ProductLine
from closeloop.improvement.lifecycle import LIFECYCLE
from closeloop.improvement.models import (
    ActionEvent,
    ActionSource,
    ActionStatus,
    ImprovementAction,
    MonthlySequence,
)
from closeloop.notifications.services import Message, notifications_build, notifications_queue
from closeloop.sla.models import Policy
from closeloop.sla.presentation import describe_day
from closeloop.sla.services import policy_calendar

MANAGE_PERMISSION = "improvement.manage_improvement"

TITLE_MAX_LENGTH = 200
TEXT_MAX_LENGTH = 10000
ROOT_CAUSE_MAX_LENGTH = 200
DEFAULT_WINDOW_DAYS = 30
MIN_WINDOW_DAYS, MAX_WINDOW_DAYS = 7, 365
# A deadline further out than this is a typo (and an unbounded count of working days is work for nobody).
MAX_HORIZON = datetime.timedelta(days=730)
_MAX_WORKING_DAYS = 500
_MAX_WORKING_SECONDS = 500 * 8 * 3600

# The foreign key each source names; "root cause" and "other" name none.
SOURCE_REFS: dict[str, str] = {
    ActionSource.FEEDBACK_FORM: "feedback_form",
    ActionSource.FOLLOWUP: "followup",
    ActionSource.INCIDENT: "incident",
    ActionSource.REPORT: "report",
}
REF_FIELDS = ("feedback_form", "followup", "incident", "report")
TARGET_FIELDS = ("product_line", "product", "complaint_type", "root_cause", "cause_category")


class Side:
    """Whose judgement of the effect: the owner side (owner or a manager of the owner department) or quality."""

    OWNER = "owner"
    QUALITY = "quality"
    ALL = (OWNER, QUALITY)


# --- who may do what ------------------------------------------------------------------------------------


def can_create(user: AnyUser | None) -> bool:
    """Holders of the permission, CS supervisors, quality and management (the brief)."""
    return authz.allowed(user, "improvement.create_action")


def can_judge_quality(user: AnyUser | None) -> bool:
    return authz.allowed(user, "improvement.judge_effect_as_quality")


def is_owner_side(user: AnyUser | None, action: ImprovementAction) -> bool:
    """The owner, or a manager of the owner department: they report progress and give the owner's judgement."""
    return authz.allowed(user, "improvement.act_as_owner", action)


@dataclass(frozen=True)
class Allowed:
    """What a user may do on an action now; the desk offers exactly these forms."""

    start: bool = False
    complete: bool = False
    judge_owner: bool = False
    judge_quality: bool = False

    @property
    def anything(self) -> bool:
        return self.start or self.complete or self.judge_owner or self.judge_quality


def action_allowed(*, action: ImprovementAction, user: AnyUser) -> Allowed:
    owner_side = is_owner_side(user, action)
    done = action.status == ActionStatus.DONE
    return Allowed(
        start=owner_side and action.status == ActionStatus.PLANNED,
        complete=owner_side and action.status == ActionStatus.IN_PROGRESS,
        judge_owner=(
            done
            and owner_side
            and action.owner_effective is None
            and (action.quality_judged_by_id is None or action.quality_judged_by_id != user.pk)
        ),
        judge_quality=(
            done
            and can_judge_quality(user)
            and action.quality_effective is None
            and user.pk != action.owner_id
            and (action.owner_judged_by_id is None or action.owner_judged_by_id != user.pk)
        ),
    )


# --- the deadline ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionDeadline:
    due_at: datetime.datetime
    warn_at: datetime.datetime
    target: str  # as given: "20wd" or "2026-12-31"


def default_policy() -> Policy:
    return Policy.objects.select_related("calendar").get(is_default=True)


def _check_horizon(duration: Duration) -> None:
    if duration.unit is DurationUnit.WORKING_DAYS:
        too_long = duration.value > _MAX_WORKING_DAYS
    elif duration.unit is DurationUnit.WORKING_HOURS:
        too_long = duration.value > _MAX_WORKING_SECONDS
    else:
        too_long = duration.timedelta > MAX_HORIZON
    if too_long:
        raise DomainError(_("A deadline more than two years ahead is not a plan; give a shorter time."), field="target")


def _end_of_working_day(calendar: WorkingCalendar, day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, calendar.windows[-1][1], tzinfo=calendar.tz)


def action_deadline(
    *, start: datetime.datetime, target: str = "", due_date: datetime.date | None = None
) -> ActionDeadline:
    """The due instant and warning point on the default policy's working calendar.

    A duration (any SLA unit: "20wd", "30d", "16wh") is added with the SLA arithmetic and warns at the
    policy's fraction of it. A due date means the end of that working day; the warning is then at the same
    fraction of the working time from `start` to it (as for a working-days target)."""
    target = (target or "").strip()
    if bool(target) == (due_date is not None):
        raise DomainError(_("Give the deadline either as a duration (e.g. 20wd) or as a due date."), field="target")
    policy = default_policy()
    calendar = policy_calendar(policy)
    fraction = float(policy.warning_fraction)
    if target:
        try:
            duration = Duration.parse(target)
        except InvalidDuration:
            raise DomainError(
                _(
                    "Write the time as a number and a unit: wd (working days), wh (working hours), d, h or min "
                    "(calendar time), e.g. 20wd."
                ),
                field="target",
            ) from None
        _check_horizon(duration)
        return ActionDeadline(
            add(calendar, start, duration), warning_at(calendar, start, duration, fraction), str(duration)
        )
    assert due_date is not None
    status = calendar.day_status(due_date)
    if not status.is_working:
        raise DomainError(
            _("%(date)s is not a working day (%(why)s); choose a working day.")
            % {"date": due_date.isoformat(), "why": describe_day(status)},
            field="due_date",
        )
    due = _end_of_working_day(calendar, due_date)
    if due <= start:
        raise DomainError(_("The due date must be in the future."), field="due_date")
    if due - start > MAX_HORIZON:
        raise DomainError(
            _("A deadline more than two years ahead is not a plan; give an earlier date."), field="due_date"
        )
    allowed = working_time_between(calendar, start, due)
    part = datetime.timedelta(seconds=int(Fraction(str(fraction)) * int(allowed.total_seconds())))
    return ActionDeadline(due.astimezone(calendar.tz), add_working_time(calendar, start, part), due_date.isoformat())


# --- numbers ---------------------------------------------------------------------------------------------


def next_action_number(now: datetime.datetime) -> str:
    """`GJ` + local year and month + a monthly sequence (GJ202611-001). Must run inside the creating
    transaction: the row lock taken by the UPDATE serialises concurrent creations, and a rollback returns
    the number."""
    month = timezone.localtime(now).strftime("%Y%m")
    table = connection.ops.quote_name(MonthlySequence._meta.db_table)
    sql = f"UPDATE {table} SET last = last + 1 WHERE month = %s RETURNING last"  # noqa: S608 - our identifiers
    with connection.cursor() as cursor:
        cursor.execute(sql, [month])
        row = cursor.fetchone()
        if row is None:  # the month's first action (racing creations both land here once)
            MonthlySequence.objects.bulk_create([MonthlySequence(month=month, last=0)], ignore_conflicts=True)
            cursor.execute(sql, [month])
            row = cursor.fetchone()
    return f"GJ{month}-{row[0]:03d}"


# --- proposing an action from its source -----------------------------------------------------------------


def _first_line(text: str, limit: int = 80) -> str:
    for line in (text or "").splitlines():
        line = " ".join(line.split())
        if line:
            return line if len(line) <= limit else line[: limit - 1] + "…"
    return ""


def _one_line(text: str, limit: int = ROOT_CAUSE_MAX_LENGTH) -> str:
    text = " ".join((text or "").split())
    return text[:limit]


def _complaint_targets(complaint: Complaint) -> dict[str, Any]:
    product = complaint.product
    return {
        "product_line": product.line if product is not None else None,
        "product": product,
        "complaint_type": complaint.type,
    }


def action_prefill(
    *,
    feedback_form: Any = None,
    followup: Any = None,
    incident: Any = None,
    report: Any = None,
    complaint: Complaint | None = None,
) -> dict[str, Any]:
    """What the create form proposes for a source: source, title, description, targets and owner department.
    Nothing here is binding: the creator edits it, and `action_create` validates what they send."""
    values: dict[str, Any] = {"source": ActionSource.OTHER, "window_days": DEFAULT_WINDOW_DAYS}
    if complaint is not None and feedback_form is None and followup is None:
        # From the complaint page: its latest suggestion, else its latest root cause.
        forms = complaint.feedback_forms.select_related("task__department").order_by("-created_at", "-id")
        feedback_form = forms.exclude(improvement_suggestion="").first()
        if feedback_form is None:
            followup = complaint.followups.exclude(suggestions="").order_by("-round").first()
        if feedback_form is None and followup is None:
            with_cause = forms.exclude(root_cause="").first()
            values.update(_complaint_targets(complaint))
            values.update(source=ActionSource.OTHER, complaint=complaint, owner_department=complaint.department)
            if with_cause is not None:
                cause = _one_line(with_cause.root_cause)
                values.update(
                    source=ActionSource.ROOT_CAUSE,
                    root_cause=cause,
                    title=_("Remove the root cause: %(cause)s") % {"cause": _first_line(cause)},
                    owner_department=with_cause.task.department if with_cause.task else complaint.department,
                )
            return values
    if feedback_form is not None:
        form_complaint = feedback_form.complaint
        cause = _one_line(feedback_form.root_cause)
        suggestion = feedback_form.improvement_suggestion.strip()
        values.update(_complaint_targets(form_complaint))
        values.update(
            source=ActionSource.FEEDBACK_FORM,
            feedback_form=feedback_form,
            complaint=form_complaint,
            root_cause=cause,
            cause_category=feedback_form.cause_category,
            title=_first_line(suggestion)
            or (_("Remove the root cause: %(cause)s") % {"cause": _first_line(cause)} if cause else ""),
            description=suggestion,
            owner_department=feedback_form.task.department if feedback_form.task_id else form_complaint.department,
        )
    elif followup is not None:
        fu_complaint = followup.complaint
        suggestion = followup.suggestions.strip()
        values.update(_complaint_targets(fu_complaint))
        values.update(
            source=ActionSource.FOLLOWUP,
            followup=followup,
            complaint=fu_complaint,
            title=_first_line(suggestion),
            description=suggestion,
            owner_department=fu_complaint.department,
        )
    elif incident is not None:
        product = incident.product
        values.update(
            source=ActionSource.INCIDENT,
            incident=incident,
            product_line=product.line if product is not None else None,
            product=product,
            title=_("Prevent a recurrence: %(title)s") % {"title": incident.title},
            description=incident.description,
        )
    elif report is not None:
        values.update(
            source=ActionSource.REPORT,
            report=report,
            title=_("Improvement from the report %(start)s – %(end)s")
            % {"start": report.period_start.isoformat(), "end": report.period_end.isoformat()},
        )
    return values


# --- creating ----------------------------------------------------------------------------------------------


@dataclass
class ActionInput:
    """What the create form and the API send. References are model instances, looked up by the caller
    (the desk by id, the API by code / username), so that the rules below are the same for both."""

    source: str
    title: str
    description: str
    owner_department: Department | None
    owner: User | None
    target: str = ""
    due_date: datetime.date | None = None
    product_line: ProductLine | None = None
    product: Product | None = None
    complaint_type: ComplaintType | None = None
    root_cause: str = ""
    cause_category: CauseCategory | None = None
    window_days: int = DEFAULT_WINDOW_DAYS
    feedback_form: Any = None
    followup: Any = None
    incident: Any = None
    report: Any = None
    complaint: Complaint | None = None


def _clean(data: ActionInput) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Normalise the input and collect every refusal per field (the form shows them all at once)."""
    errors: dict[str, list[str]] = {}

    def refuse(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    values: dict[str, Any] = {}
    source = data.source or ""
    if source not in ActionSource.values:
        refuse("source", _("Choose where the action comes from."))
    values["source"] = source
    ref_name = SOURCE_REFS.get(source)
    for name in REF_FIELDS:
        ref = getattr(data, name)
        if name == ref_name:
            if ref is None:
                refuse(
                    name,
                    _("Say which record the action comes from (%(source)s).") % {"source": ActionSource(source).label},
                )
        elif ref is not None:
            refuse(name, _("This record does not fit the chosen source (%(source)s).") % {"source": _label(source)})
        values[name] = ref if name == ref_name else None

    complaint = data.complaint
    for name in ("feedback_form", "followup"):
        ref = values.get(name)
        if ref is not None:
            if complaint is not None and complaint.pk != ref.complaint_id:
                refuse("complaint", _("The complaint is not the one the source belongs to."))
            complaint = ref.complaint
    values["complaint"] = complaint

    title = " ".join((data.title or "").split())
    if not title:
        refuse("title", _("Give the action a short title."))
    elif len(title) > TITLE_MAX_LENGTH:
        refuse("title", _("At most %(limit)d characters, please.") % {"limit": TITLE_MAX_LENGTH})
    values["title"] = title
    description = (data.description or "").strip()
    if not description:
        refuse("description", _("Describe what will be changed."))
    elif len(description) > TEXT_MAX_LENGTH:
        refuse("description", _("At most %(limit)d characters, please.") % {"limit": TEXT_MAX_LENGTH})
    values["description"] = description

    root_cause = " ".join((data.root_cause or "").split())
    if len(root_cause) > ROOT_CAUSE_MAX_LENGTH:
        refuse("root_cause", _("At most %(limit)d characters, please.") % {"limit": ROOT_CAUSE_MAX_LENGTH})
    values["root_cause"] = root_cause
    product_line, product = data.product_line, data.product
    if product is not None:
        if product_line is not None and product.line_id != product_line.pk:
            refuse("product", _("This model does not belong to the chosen product line."))
        product_line = product_line or product.line
    values.update(product_line=product_line, product=product, complaint_type=data.complaint_type)
    category = data.cause_category
    if category is not None and not category.is_active:
        refuse("cause_category", _("Choose one of the root-cause categories offered."))
    values["cause_category"] = category
    if source == ActionSource.ROOT_CAUSE and not (root_cause or category):
        refuse("root_cause", _("Name the root cause the action removes."))
    if not (product_line or product or data.complaint_type or root_cause or category):
        refuse(
            "targets",
            _(
                "Name what the action targets — a product line, a model, a complaint type or a root cause — so that "
                "its effect can be measured."
            ),
        )

    department, owner = data.owner_department, data.owner
    if department is None or not department.is_active:
        refuse("owner_department", _("Choose the department that owns the action."))
    if owner is None or not owner.is_active:
        refuse("owner", _("Choose the person who owns the action."))
    elif department is not None and not Membership.objects.filter(user=owner, department=department).exists():
        refuse("owner", _("The owner must be a member of the owner department."))
    values.update(owner_department=department, owner=owner)

    window = data.window_days
    if not isinstance(window, int) or isinstance(window, bool) or not MIN_WINDOW_DAYS <= window <= MAX_WINDOW_DAYS:
        refuse(
            "window_days",
            _("The evaluation window is between %(low)d and %(high)d days.")
            % {"low": MIN_WINDOW_DAYS, "high": MAX_WINDOW_DAYS},
        )
    values["window_days"] = window
    return values, errors


def _label(source: str) -> str:
    return str(ActionSource(source).label) if source in ActionSource.values else source


def action_create(
    *, data: ActionInput, actor: User, now: datetime.datetime | None = None, via: str = Via.DESK
) -> ImprovementAction:
    """Create a planned action with its number, deadline and warning point; the owner is told."""
    if not can_create(actor):
        raise PermissionDeniedError(
            _("Only quality, CS supervisors and management (or holders of the permission) raise improvement actions.")
        )
    now = now or timezone.now()
    values, errors = _clean(data)
    deadline = None
    try:
        deadline = action_deadline(start=now, target=data.target, due_date=data.due_date)
    except DomainError as exc:
        errors.setdefault(exc.field or "target", []).append(str(exc.message))
    if errors:
        raise ValidationFailed(errors)
    assert deadline is not None
    with transaction.atomic():
        action = ImprovementAction.objects.create(
            number=next_action_number(now),
            created_at=now,
            created_by=actor,
            status=ActionStatus.PLANNED,
            target=deadline.target,
            due_at=deadline.due_at,
            warn_at=deadline.warn_at,
            **values,
        )
        _event(action, "created", actor, via, now, after=_snapshot(action))
        _notify(
            action,
            kind="improvement_assigned",
            subject=gettext_lazy("%(number)s: you own the improvement action “%(title)s”, due %(due)s"),
            params={"title": action.title, "due": _local(action.due_at)},
            recipients=[action.owner],
            now=now,
        )
    return action


# --- progress ----------------------------------------------------------------------------------------------


def _locked(action: ImprovementAction) -> ImprovementAction:
    return ImprovementAction.objects.select_for_update(no_key=True, of=("self",)).get(pk=action.pk)


def action_start(
    *, action: ImprovementAction, actor: User, now: datetime.datetime | None = None, via: str = Via.DESK
) -> ImprovementAction:
    """planned → in progress."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(action)
        LIFECYCLE.move(locked, "start", actor)
        locked.started_at = now
        locked.save(update_fields=["status", "started_at"])
        _event(
            locked, "started", actor, via, now, before={"status": ActionStatus.PLANNED}, after={"status": locked.status}
        )
    return locked


def action_complete(
    *,
    action: ImprovementAction,
    actor: User,
    done_note: str,
    now: datetime.datetime | None = None,
    via: str = Via.DESK,
) -> ImprovementAction:
    """in progress → done, with what was done. From now on the effect is measured; quality is asked to judge."""
    now = now or timezone.now()
    note = (done_note or "").strip()
    with transaction.atomic():
        locked = _locked(action)
        LIFECYCLE.check(locked, "complete", actor)
        if not note:
            raise DomainError(_("Say what was done."), field="done_note")
        if len(note) > TEXT_MAX_LENGTH:
            raise DomainError(
                _("At most %(limit)d characters, please.") % {"limit": TEXT_MAX_LENGTH}, field="done_note"
            )
        LIFECYCLE.move(locked, "complete", actor, checked=True)
        locked.done_at = now
        locked.done_note = note
        locked.save(update_fields=["status", "done_at", "done_note"])
        _event(
            locked,
            "completed",
            actor,
            via,
            now,
            before={"status": ActionStatus.IN_PROGRESS},
            after={"status": locked.status, "late": now > locked.due_at},
            note=note,
        )
        quality = authz.recipients.members_of_role(Role.QUALITY)
        _notify(
            locked,
            kind="improvement_done",
            subject=gettext_lazy("%(number)s: improvement action done — judge its effect"),
            recipients=[u for u in quality if u.pk != locked.owner_id],
            now=now,
        )
    return locked


# --- judging the effect --------------------------------------------------------------------------------------


def action_judge(
    *,
    action: ImprovementAction,
    actor: User,
    side: str,
    effective: bool,
    note: str,
    now: datetime.datetime | None = None,
    via: str = Via.DESK,
) -> ImprovementAction:
    """The owner side's or quality's judgement (effective or not, with a note) of a done action; when both
    have judged, the action is verified. Each side judges once, and not both by the same person."""
    from closeloop.improvement.evaluation import action_evaluate

    now = now or timezone.now()
    note = (note or "").strip()
    if side not in Side.ALL:
        raise DomainError(_("Judge as the owner or as quality."), field="side")
    if side == Side.QUALITY and not can_judge_quality(actor):
        raise PermissionDeniedError(_("Only quality (or holders of the permission) give quality's judgement."))
    if not isinstance(effective, bool):
        raise DomainError(_("Say whether the action was effective."), field="effective")
    if not note:
        raise DomainError(_("Give a note with the judgement."), field="note")
    if len(note) > TEXT_MAX_LENGTH:
        raise DomainError(_("At most %(limit)d characters, please.") % {"limit": TEXT_MAX_LENGTH}, field="note")
    with transaction.atomic():
        locked = _locked(action)
        if side == Side.OWNER and not is_owner_side(actor, locked):
            raise PermissionDeniedError(
                _("Only the action's owner or a manager of the owner department give the owner's judgement.")
            )
        LIFECYCLE.check_state(locked, "verify")
        if side == Side.OWNER:
            if locked.owner_effective is not None:
                raise DomainError(_("The owner side has already judged this action."), field="side")
            if locked.quality_judged_by_id == actor.pk:
                raise DomainError(
                    _("You gave quality's judgement; the owner's must come from someone else."), field="side"
                )
            locked.owner_effective, locked.owner_note = effective, note
            locked.owner_judged_by, locked.owner_judged_at = actor, now
        else:
            if locked.quality_effective is not None:
                raise DomainError(_("Quality has already judged this action."), field="side")
            if actor.pk in (locked.owner_id, locked.owner_judged_by_id):
                raise DomainError(
                    _("Quality's judgement must come from someone other than the owner side."), field="side"
                )
            locked.quality_effective, locked.quality_note = effective, note
            locked.quality_judged_by, locked.quality_judged_at = actor, now
        verified = locked.owner_effective is not None and locked.quality_effective is not None
        if verified:
            LIFECYCLE.move(locked, "verify", actor)
            locked.verified_at = now
        locked.save()
        # What the judge saw: the measured effect at the time of the judgement.
        evaluation = action_evaluate(locked, now=now)
        _event(
            locked,
            f"judged_{side}",
            actor,
            via,
            now,
            after={"effective": effective, "evaluation": evaluation.as_dict() if evaluation else None},
            note=note,
        )
        if verified:
            _event(
                locked,
                "verified",
                actor,
                via,
                now,
                before={"status": ActionStatus.DONE},
                after={
                    "status": locked.status,
                    "owner_effective": locked.owner_effective,
                    "quality_effective": locked.quality_effective,
                },
            )
    return locked


# --- events and messages -------------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _snapshot(action: ImprovementAction) -> dict[str, Any]:
    names = (
        "number",
        "title",
        "source",
        *REF_FIELDS,
        "complaint",
        *TARGET_FIELDS,
        "owner_department",
        "owner",
        "target",
        "due_at",
        "warn_at",
        "window_days",
        "status",
    )
    return {name: getattr(action, name) for name in names}


def _event(
    action: ImprovementAction,
    kind: str,
    actor: User | None,
    via: str,
    at: datetime.datetime,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str = "",
) -> ActionEvent:
    return ActionEvent.objects.create(
        action=action,
        at=at,
        actor=actor if actor is not None and actor.is_authenticated else None,
        kind=kind,
        via=via,
        before=_jsonable(before or {}),
        after=_jsonable(after or {}),
        note=note,
    )


def _local(value: datetime.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def action_url(action: ImprovementAction) -> str:
    """The action's page, as an absolute link for notifications (they are also e-mailed)."""
    return absolute_url(reverse("improvement:detail", args=[action.pk]))


def action_message(
    action: ImprovementAction, *, kind: str, subject: Promise, params: dict[str, Any] | None = None
) -> Message:
    """A notice about an action, stored as message ids (shown in each reader's language); its body the
    action's number, title and address."""
    return Message.words(
        kind=kind,
        subject=subject,
        body=gettext_lazy("%(number)s %(title)s\n%(link)s"),
        params={"number": action.number, "title": action.title, "link": action_url(action), **(params or {})},
        dedup=f"{kind}:{action.pk}",
        link=reverse("improvement:detail", args=[action.pk]),
    )


def _notify(
    action: ImprovementAction,
    *,
    kind: str,
    subject: Promise,
    recipients: Iterable[User],
    now: datetime.datetime,
    params: dict[str, Any] | None = None,
) -> None:
    """A staff notice in each reader's language (`subject`: a lazy translation with `%(number)s` and
    `params`), leading to the action's page."""
    message = action_message(action, kind=kind, subject=subject, params=params)
    notifications_queue(notifications_build(message=message, recipients=recipients, now=now))
