"""The responsible person's feedback form (责任人反馈表).

A form is opened when a task's handling completes (`feedback_form_open`, called by the reply service)
and is due 24 h later. The handler (or a colleague of the task's department) fills it in — drafts keep
whatever was typed — and submits it; a CS supervisor approves it for archive or returns it with what
must be supplemented, and then it is the handler's again.

Reads (`feedback_form_prefill`, the lists) live here too, so the desk, the API and the PDF show the
same values.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Case, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Trim
from django.utils import dateformat, timezone
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from closeloop import authz
from closeloop.complaints.events import event_record
from closeloop.complaints.models import Complaint, Event, Via
from closeloop.complaints.presentation import action_label
from closeloop.complaints.selectors import complaints_visible_to
from closeloop.core.errors import DomainError, ValidationFailed
from closeloop.core.masking import mask_phone
from closeloop.core.roles import Role
from closeloop.core.types import AnyUser, User
from closeloop.directory.models import CauseCategory, Membership
from closeloop.handling.lifecycle import FEEDBACK_FORM_LIFECYCLE
from closeloop.handling.models import (
    CompensationForm,
    ContactLog,
    FeedbackForm,
    FeedbackResult,
    FeedbackStatus,
    Measure,
    Solution,
    SolutionStatus,
    Task,
)
from closeloop.notifications.services import Message, notifications_build, notifications_done, notifications_queue
from closeloop.sla.milestones import Milestone
from closeloop.sla.models import Deadline
from closeloop.sla.services import deadlines_close, deadlines_start

# States in which the handler side may still change the form.
EDITABLE_STATUSES = (FeedbackStatus.DRAFT, FeedbackStatus.RETURNED)

# Customer satisfaction as the handler saw it: the paper form's three boxes (seed 003).
SATISFACTION_CHOICES = [
    ("satisfied", gettext_lazy("satisfied (满意)")),
    ("basically_satisfied", gettext_lazy("basically satisfied (基本满意)")),
    ("unsatisfied", gettext_lazy("unsatisfied (不满意)")),
]

# The fields a save may change; everything else is the workflow's.
TEXT_FIELDS = ("result_reason", "demand_reason", "measures", "compensation", "root_cause", "improvement_suggestion")
EDITABLE_FIELDS = ("result", "demand_met", "satisfaction_seen", "key_actions", "cause_category_id", *TEXT_FIELDS)
MAX_LENGTHS = {"compensation": 200, "key_action_at": 40, "key_action_text": 500}
TEXT_MAX_LENGTH = 10000

# Events that make the key-action timeline (the paper form's "关键时间节点及沟通记录"): the steps a
# reader of the archived form needs, not the bookkeeping (attachments, deadline warnings, the form's
# own saves). Contacts come from the contact log itself, not from their events, so none is doubled.
KEY_EVENT_ACTIONS = frozenset(
    {
        "registered",
        "acknowledge",
        "dispatch",
        "redispatched",
        "task_created",
        "task_reassigned",
        "task_verified",
        "task_info_requested",
        "task_replied",
        "postponement_approved",
        "dispute_decided",
        "start_handling",
        "propose_solution",
        "approve_solution",
        "reject_solution",
        "start_execution",
        "resolve",
        "reopen",
    }
)
# Solution and execution steps, whatever their services call them.
KEY_EVENT_PREFIXES = ("solution_", "execution_")
SHORT_TEXT = 160


# --- reads ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyAction:
    at: str  # local time as shown on the form, e.g. "2026-11-23 10:00"; free text once edited
    text: str


@dataclass(frozen=True)
class FeedbackPrefill:
    """What the record already knows, shown on the form (and printed) beside what the handler fills in."""

    number: str
    customer_name: str
    phone_masked: str  # always masked on the form, whoever looks (seed 003: only the last 4 digits)
    product: str
    type: str
    description: str
    demand: str
    handler: str
    department: str
    measures: str
    compensation: str
    timeline: list[KeyAction] = field(default_factory=list)
    saved_before: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _local(value: datetime.datetime) -> str:
    return dateformat.format(timezone.localtime(value), "Y-m-d H:i")


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SHORT_TEXT else text[: SHORT_TEXT - 1] + "…"


def _person(user: User | None) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _is_key_event(event: Event, task_id: int | None) -> bool:
    if event.action not in KEY_EVENT_ACTIONS and not event.action.startswith(KEY_EVENT_PREFIXES):
        return False
    # A step of another department's task belongs on that department's form.
    other_task = event.after.get("task") if isinstance(event.after, dict) else None
    return not (other_task is not None and task_id is not None and other_task != task_id)


def _solution_for(complaint: Complaint) -> Solution | None:
    return (
        Solution.objects.filter(
            complaint=complaint,
            status__in=[SolutionStatus.APPROVED, SolutionStatus.EXECUTING, SolutionStatus.DONE],
        )
        .order_by("-proposed_at", "-id")
        .first()
    )


def solution_measures_text(solution: Solution | None) -> str:
    if solution is None:
        return ""
    labels = [str(Measure(m).label) for m in solution.measures if m in Measure.values]
    head = ("、" if (get_language() or "").startswith("zh") else ", ").join(labels)
    return f"{head}\n{solution.description}".strip() if head else solution.description


def solution_compensation_text(solution: Solution | None) -> str:
    if solution is None or (solution.compensation_amount is None and not solution.compensation_form):
        return ""
    parts = []
    if solution.compensation_amount is not None:
        parts.append(f"{solution.compensation_amount.quantize(Decimal('0.01'))} CNY")
    if solution.compensation_form in CompensationForm.values:
        parts.append(str(CompensationForm(solution.compensation_form).label))
    return " · ".join(parts)[: MAX_LENGTHS["compensation"]]


def key_actions_assemble(*, complaint: Complaint, task: Task | None) -> list[KeyAction]:
    """The key-action timeline from the contact log (this task's contacts and customer service's) and
    the complaint's key events, oldest first."""
    task_id = task.pk if task is not None else None
    rows: list[tuple[datetime.datetime, int, KeyAction]] = []
    contacts = ContactLog.objects.filter(complaint=complaint).filter(Q(task__isnull=True) | Q(task_id=task_id))
    for contact in contacts.select_related("by"):
        text = _("%(channel)s contact (%(outcome)s) by %(by)s: %(summary)s") % {
            "channel": contact.get_channel_display(),
            "outcome": contact.get_outcome_display(),
            "by": _person(contact.by),
            "summary": contact.summary,
        }
        rows.append((contact.at, 1, KeyAction(_local(contact.at), _short(text))))
    for event in complaint.events.order_by("at", "id"):
        if not _is_key_event(event, task_id):
            continue
        text = str(action_label(event.action))
        if event.note:
            text = f"{text}: {event.note}"
        rows.append((event.at, 0, KeyAction(_local(event.at), _short(text))))
    rows.sort(key=lambda row: (row[0], row[1]))
    return [row[2] for row in rows]


def _saved_before(form: FeedbackForm) -> bool:
    """Has the handler side ever stored this form? From then on its own values count, not the prefill."""
    return Event.objects.filter(
        complaint_id=form.complaint_id,
        action__in=["feedback_form_saved", "feedback_form_submitted"],
        after__feedback_form=form.pk,
    ).exists()


def feedback_form_prefill(form: FeedbackForm) -> FeedbackPrefill:
    """The record's side of the form. The timeline is assembled afresh; once the form has been saved the
    form's own (edited) `key_actions` are what counts, see `feedback_form_values`."""
    complaint = form.complaint
    task = form.task
    solution = _solution_for(complaint)
    return FeedbackPrefill(
        number=complaint.number,
        customer_name=complaint.customer.name,
        phone_masked=mask_phone(complaint.customer.phone),
        product=complaint.product_label,
        type=complaint.type.label,
        description=complaint.description,
        demand=complaint.demand,
        handler=_person(form.handler),
        department=task.department.label if task is not None else "",
        measures=solution_measures_text(solution),
        compensation=solution_compensation_text(solution),
        timeline=key_actions_assemble(complaint=complaint, task=task),
        saved_before=_saved_before(form),
    )


def feedback_form_values(form: FeedbackForm, prefill: FeedbackPrefill) -> dict[str, Any]:
    """The editable values as the handler sees them: the form's own, or — until the first save — the
    record's measures, compensation and timeline."""
    values = {name: getattr(form, name) for name in EDITABLE_FIELDS}
    if not prefill.saved_before:
        values["measures"] = form.measures or prefill.measures
        values["compensation"] = form.compensation or prefill.compensation
        values["key_actions"] = form.key_actions or [asdict(a) for a in prefill.timeline]
    return values


def feedback_form_get(*, user: AnyUser, pk: int) -> FeedbackForm:
    """One form whose complaint the user may see; FeedbackForm.DoesNotExist (a 404) otherwise."""
    return _with_related(FeedbackForm.objects.filter(complaint__in=complaints_visible_to(user))).get(pk=pk)


def _with_related(qs: QuerySet[FeedbackForm]) -> QuerySet[FeedbackForm]:
    open_deadline = Deadline.objects.filter(
        task_id=OuterRef("task_id"), milestone=Milestone.FEEDBACK_FORM, met_at__isnull=True
    ).order_by("due_at")
    return qs.select_related(
        "complaint__customer",
        "complaint__product",
        "complaint__type",
        "task__department",
        "handler",
        "reviewed_by",
        "cause_category__parent",
    ).annotate(
        due_at=Subquery(open_deadline.values("due_at")[:1]),
        warn_at=Subquery(open_deadline.values("warn_at")[:1]),
        paused_at=Subquery(open_deadline.values("paused_at")[:1]),
    )


def feedback_forms_for_complaint(*, complaint: Complaint) -> list[FeedbackForm]:
    return list(_with_related(FeedbackForm.objects.filter(complaint=complaint)).order_by("created_at", "id"))


def feedback_forms_visible(*, user: AnyUser, status: str = "") -> QuerySet[FeedbackForm]:
    qs = _with_related(FeedbackForm.objects.filter(complaint__in=complaints_visible_to(user)))
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


def feedback_forms_to_fill(*, user: User) -> QuerySet[FeedbackForm]:
    """The handler's inbox of forms: theirs and their departments' (cover for a colleague), draft or
    returned; returned ones first, then by time left."""
    departments = Membership.objects.filter(user=user).values("department_id")
    qs = FeedbackForm.objects.filter(status__in=EDITABLE_STATUSES).filter(
        Q(handler=user) | Q(task__department_id__in=departments)
    )
    returned_first = Case(
        When(status=FeedbackStatus.RETURNED, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    return _with_related(qs).order_by(returned_first, F("due_at").asc(nulls_last=True), "created_at", "id")


def feedback_forms_to_review(*, user: User) -> QuerySet[FeedbackForm]:
    """Forms waiting for a CS supervisor's review, oldest submission first."""
    if not authz.allowed(user, "handling.review_feedback_form"):
        return FeedbackForm.objects.none()
    return _with_related(FeedbackForm.objects.filter(status=FeedbackStatus.SUBMITTED)).order_by("submitted_at", "id")


def can_edit(*, form: FeedbackForm, user: AnyUser) -> bool:
    return form.status in EDITABLE_STATUSES and authz.allowed(user, "handling.fill_feedback_form", form)


def can_review(*, form: FeedbackForm, user: AnyUser) -> bool:
    return form.status == FeedbackStatus.SUBMITTED and authz.allowed(user, "handling.review_feedback_form")


# --- writes --------------------------------------------------------------------------------------


def feedback_form_open(*, task: Task, now: datetime.datetime) -> FeedbackForm:
    """Called when a task's handling completes (its reply to customer service): the form is due 24 h
    later. Idempotent: a task has one form."""
    form, created = FeedbackForm.objects.get_or_create(
        task=task,
        defaults={"complaint": task.complaint, "handler": task.handler or task.dispatched_by, "created_at": now},
    )
    if created:
        deadlines_start(
            complaint=task.complaint,
            milestones=[Milestone.FEEDBACK_FORM],
            start=now,
            assignee=form.handler,
            task=task,
        )
        event_record(
            complaint=task.complaint,
            action="feedback_form_opened",
            actor=None,
            via=Via.SYSTEM,
            at=now,
            after={"feedback_form": form.pk, "task": task.pk},
        )
    return form


def _locked(form: FeedbackForm) -> FeedbackForm:
    return (
        FeedbackForm.objects.select_for_update(no_key=True, of=("self",))
        .select_related("complaint", "task")
        .get(pk=form.pk)
    )


def _check_fill(form: FeedbackForm, actor: User) -> None:
    """Filled in (saved or submitted) by the people and in the states from which it is submitted."""
    FEEDBACK_FORM_LIFECYCLE.check(form, "submit", actor)


def _clean_key_actions(value: Any, errors: dict[str, list[str]]) -> list[dict[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list):
        errors.setdefault("key_actions", []).append(_("Give the key actions as a list of time and text."))
        return []
    cleaned = []
    for item in value:
        if isinstance(item, KeyAction):
            item = asdict(item)
        if not isinstance(item, dict):
            errors.setdefault("key_actions", []).append(_("Each key action needs a time and a text."))
            return []
        at = str(item.get("at") or "").strip()
        text = str(item.get("text") or "").strip()
        if not at and not text:
            continue
        if len(at) > MAX_LENGTHS["key_action_at"] or len(text) > MAX_LENGTHS["key_action_text"]:
            errors.setdefault("key_actions", []).append(
                _("A key action's time may be at most %(at)d and its text %(text)d characters long.")
                % {"at": MAX_LENGTHS["key_action_at"], "text": MAX_LENGTHS["key_action_text"]}
            )
            return []
        cleaned.append({"at": at, "text": text})
    return cleaned


def _clean_cause_category(value: Any, errors: dict[str, list[str]]) -> int | None:
    """An active root-cause category's id, or None when none is chosen."""
    if value in (None, ""):
        return None
    try:
        pk = int(value)
    except (TypeError, ValueError):
        pk = 0
    if not CauseCategory.objects.filter(pk=pk, is_active=True).exists():
        errors.setdefault("cause_category_id", []).append(_("Choose one of the root-cause categories offered."))
        return None
    return pk


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    """Normalise what was typed; refuse only values that cannot be stored (an unknown choice, too long),
    never missing ones — a draft may be incomplete."""
    errors: dict[str, list[str]] = {}
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        errors.setdefault(sorted(unknown)[0], []).append(_("This field cannot be changed."))
    values: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        if name in data:
            text = str(data[name] or "").strip()
            limit = MAX_LENGTHS.get(name, TEXT_MAX_LENGTH)
            if len(text) > limit:
                errors.setdefault(name, []).append(
                    _("At most %(limit)d characters, please (%(count)d given).") % {"limit": limit, "count": len(text)}
                )
            values[name] = text
    if "result" in data:
        result = str(data["result"] or "")
        if result and result not in FeedbackResult.values:
            errors.setdefault("result", []).append(_("Choose one of the results offered."))
        values["result"] = result
    if "satisfaction_seen" in data:
        satisfaction = str(data["satisfaction_seen"] or "")
        if satisfaction and satisfaction not in {code for code, _label in SATISFACTION_CHOICES}:
            errors.setdefault("satisfaction_seen", []).append(_("Choose one of the satisfaction levels offered."))
        values["satisfaction_seen"] = satisfaction
    if "demand_met" in data:
        demand_met = data["demand_met"]
        if demand_met is not None and not isinstance(demand_met, bool):
            errors.setdefault("demand_met", []).append(_("Answer yes or no."))
            demand_met = None
        values["demand_met"] = demand_met
    if "key_actions" in data:
        values["key_actions"] = _clean_key_actions(data["key_actions"], errors)
    if "cause_category_id" in data:
        values["cause_category_id"] = _clean_cause_category(data["cause_category_id"], errors)
    if errors:
        raise ValidationFailed(errors)
    return values


def _apply(form: FeedbackForm, data: dict[str, Any]) -> dict[str, Any]:
    """Set the typed values on the locked form; before its first save the record's prefill fills the
    measures, compensation and timeline the handler did not type. Returns what changed (before)."""
    values = _clean(data)
    if _saved_before(form):
        current = {name: getattr(form, name) for name in EDITABLE_FIELDS}
    else:
        current = feedback_form_values(form, feedback_form_prefill(form))
    current.update(values)
    before = {}
    for name, value in current.items():
        if getattr(form, name) != value:
            before[name] = getattr(form, name)
            setattr(form, name, value)
    return before


def feedback_form_save(
    *,
    form: FeedbackForm,
    data: dict[str, Any],
    actor: User,
    now: datetime.datetime | None = None,
    via: str = Via.DESK,
) -> FeedbackForm:
    """Save a draft: everything typed is kept, complete or not. `data` holds the fields to change (the
    others keep their value); the first save also stores the record's prefill (timeline, measures)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(form)
        _check_fill(locked, actor)
        before = _apply(locked, data)
        if not before:
            return locked  # nothing changed: no save, no event
        locked.save()
        event_record(
            complaint=locked.complaint,
            action="feedback_form_saved",
            actor=actor,
            via=via,
            at=now,
            # The timeline can be long; the audit names it as changed without copying it twice.
            before={k: v for k, v in before.items() if k != "key_actions"},
            after={
                "feedback_form": locked.pk,
                "fields": sorted(before),
                **{k: getattr(locked, k) for k in before if k != "key_actions"},
            },
        )
    return locked


def feedback_forms_categorise(
    *, text: str, category_id: int, actor: User, now: datetime.datetime | None = None, via: str = Via.DESK
) -> int:
    """The mapping of existing free-text causes: every feedback form whose root cause reads `text` (ignoring
    the spaces around it) and that has no category yet gets `category`; the text stays as the detail. One
    event per complaint concerned. Returns how many forms were given the category."""
    authz.require(actor, "handling.map_root_causes")
    now = now or timezone.now()
    text = (text or "").strip()
    category = CauseCategory.objects.filter(pk=category_id, is_active=True).first()
    errors: dict[str, list[str]] = {}
    if not text:
        errors["text"] = [_("Say which root cause text to map.")]
    if category is None:
        errors["category"] = [_("Choose one of the root-cause categories offered.")]
    if errors:
        raise ValidationFailed(errors)
    assert category is not None  # for mypy: refused above
    with transaction.atomic():
        forms = list(
            FeedbackForm.objects.select_for_update(no_key=True, of=("self",))
            .annotate(cause_text=Trim("root_cause"))
            .filter(cause_text=text, cause_category__isnull=True)
            .select_related("complaint")
            .order_by("pk")
        )
        for form in forms:
            form.cause_category = category
            form.updated_at = now
        FeedbackForm.objects.bulk_update(forms, ["cause_category", "updated_at"])
        for form in forms:
            event_record(
                complaint=form.complaint,
                action="feedback_form_cause_mapped",
                actor=actor,
                via=via,
                at=now,
                before={"cause_category_id": None},
                after={"feedback_form": form.pk, "cause_category_id": category.pk, "root_cause": text},
            )
    return len(forms)


def feedback_form_missing(form: FeedbackForm) -> dict[str, list[str]]:
    """What a submission still lacks, per field (empty when it may be submitted)."""
    errors: dict[str, list[str]] = {}
    if not form.result:
        errors["result"] = [_("Choose the result of the handling.")]
    elif form.result != FeedbackResult.RESOLVED and not form.result_reason.strip():
        errors["result_reason"] = [_("Say why the complaint is not resolved.")]
    if form.demand_met is None:
        errors["demand_met"] = [_("Say whether the customer's initial demand was met.")]
    elif form.demand_met is False and not form.demand_reason.strip():
        errors["demand_reason"] = [_("Say why the customer's demand was not met.")]
    if not form.measures.strip():
        errors["measures"] = [_("Describe the measures taken.")]
    if not form.root_cause.strip():
        errors["root_cause"] = [_("Give the root cause of the complaint.")]
    return errors


def feedback_form_submit(
    *,
    form: FeedbackForm,
    actor: User,
    now: datetime.datetime | None = None,
    data: dict[str, Any] | None = None,
    via: str = Via.DESK,
) -> FeedbackForm:
    """Submit for review (draft or returned → submitted), with `data` saved first when given. Refused
    with every missing field at once; nothing is written then (what was typed is in the caller's form)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(form)
        _check_fill(locked, actor)
        _apply(locked, data or {})
        missing = feedback_form_missing(locked)
        if missing:
            raise ValidationFailed(missing)
        before_status, _target = FEEDBACK_FORM_LIFECYCLE.move(locked, "submit", actor, checked=True)
        locked.submitted_at = now
        locked.save()
        if locked.task is not None:
            deadlines_close(complaint=locked.complaint, milestones=[Milestone.FEEDBACK_FORM], at=now, task=locked.task)
        event_record(
            complaint=locked.complaint,
            action="feedback_form_submitted",
            actor=actor,
            via=via,
            at=now,
            before={"status": before_status},
            after={"feedback_form": locked.pk, "status": locked.status, "revision": locked.revision},
        )
        supervisors = authz.recipients.members_of_role(Role.CS_SUPERVISOR)
        _notify(
            locked,
            kind="feedback_form_submitted",
            subject=gettext_lazy("Feedback form for %(number)s waits for your review"),
            recipients=supervisors,
            now=now,
        )
    return locked


def feedback_form_review(
    *,
    form: FeedbackForm,
    approve: bool,
    note: str,
    actor: User,
    now: datetime.datetime | None = None,
    via: str = Via.DESK,
) -> FeedbackForm:
    """A CS supervisor approves the form for archive, or returns it with what must be supplemented
    (the note is then required); a returned form is the handler's again, with a fresh 24 h."""
    now = now or timezone.now()
    note = (note or "").strip()
    action = "approve" if approve else "return"
    FEEDBACK_FORM_LIFECYCLE.check_actor(action, actor)
    if not approve and not note:
        raise DomainError(_("Say what must be supplemented."), field="note")
    if len(note) > TEXT_MAX_LENGTH:
        raise DomainError(_("At most %(limit)d characters, please.") % {"limit": TEXT_MAX_LENGTH}, field="note")
    with transaction.atomic():
        locked = _locked(form)
        FEEDBACK_FORM_LIFECYCLE.move(locked, action, actor, checked=False)
        # The "waits for your review" notices of this revision are done, whoever reviewed it.
        notifications_done(todo=_review_todo(locked), now=now)
        locked.reviewed_by = actor
        locked.reviewed_at = now
        locked.review_note = note
        if approve:
            action = "feedback_form_approved"
            subject = gettext_lazy("Feedback form for %(number)s approved for archive")
        else:
            locked.revision += 1
            action = "feedback_form_returned"
            subject = gettext_lazy("Feedback form for %(number)s returned: please supplement it")
        locked.save()
        if not approve and locked.task is not None:
            deadlines_start(
                complaint=locked.complaint,
                milestones=[Milestone.FEEDBACK_FORM],
                start=now,
                assignee=locked.handler,
                task=locked.task,
            )
        event_record(
            complaint=locked.complaint,
            action=action,
            actor=actor,
            via=via,
            at=now,
            before={"status": FeedbackStatus.SUBMITTED},
            after={"feedback_form": locked.pk, "status": locked.status, "revision": locked.revision},
            note=note,
        )
        _notify(
            locked,
            kind=action,
            subject=subject,
            recipients=[locked.handler],
            now=now,
        )
    return locked


def _review_todo(form: FeedbackForm) -> str:
    return f"feedback_form:{form.pk}:{form.revision}:review"


def _notify(
    form: FeedbackForm, *, kind: str, subject: Promise, recipients: Iterable[User], now: datetime.datetime
) -> None:
    """A staff notice in each reader's language; the supervisor's note (a returned form) as written.
    No personal data in staff notifications: the number and the workflow step only."""
    message = Message.words(
        kind=kind,
        subject=subject,
        body=form.review_note if kind == "feedback_form_returned" else "",
        params={"number": form.complaint.number},
        complaint_id=form.complaint_id,
        dedup=f"{kind}:{form.pk}:{form.revision}",
        todo=_review_todo(form) if kind == "feedback_form_submitted" else "",
    )
    notifications_queue(notifications_build(message=message, recipients=recipients, now=now))


def parse_key_actions(text: str) -> list[dict[str, str]]:
    """The desk's textarea, one key action per line: "2026-11-23 10:00 text" (the time is optional)."""
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        match = re.match(r"^(\d{4}-\d{1,2}-\d{1,2}(?:[ T]\d{1,2}:\d{2})?)\s+(.*)$", line)
        rows.append({"at": match.group(1), "text": match.group(2).strip()} if match else {"at": "", "text": line})
    return rows


def format_key_actions(rows: Iterable[dict[str, str]]) -> str:
    return "\n".join(f"{row.get('at', '')} {row.get('text', '')}".strip() for row in rows)
