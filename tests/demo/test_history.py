"""The generated history is what the services would have written: tasks, contacts, solutions,
feedback forms, follow-ups, reopens, repeats, every clock met or missed with its working time, and an
event for every step — deterministic from the seed."""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from closeloop.calendar.working import add, warning_at, working_time_between
from closeloop.complaints.lifecycle import HANDLING_STATUSES, Status
from closeloop.complaints.models import Complaint, Event
from closeloop.complaints.repeats import detect_repeat
from closeloop.demo.generator import _data, days_covering_months, seed_complaints
from closeloop.directory.models import Membership
from closeloop.followup.models import FollowUp, FollowUpAttempt, FollowUpOutcome
from closeloop.handling.models import (
    ContactLog,
    ExecutionStep,
    FeedbackForm,
    FeedbackStatus,
    ProgressEntry,
    Solution,
    SolutionApproval,
    SolutionStatus,
    Task,
    TaskStatus,
)
from closeloop.insight.kpis import Kpi, Period, kpi_figures
from closeloop.sla.models import Deadline, PolicyTarget
from closeloop.sla.services import policy_calendar
from tests.conftest import aware

NOW = aware(2026, 11, 23, 10, 30)
DISPATCHED_OR_LATER = HANDLING_STATUSES | {Status.RESOLVED, Status.REOPENED, Status.CLOSED, Status.ARCHIVED}
RESOLVED_OR_LATER = {Status.RESOLVED, Status.REOPENED, Status.CLOSED, Status.ARCHIVED}


def history(count: int = 500, seed: int = 11, days: int = 60) -> Any:
    return seed_complaints(count=count, seed=seed, days=days, now=NOW, desk_users=None, api_user=None)


def _events() -> dict[int, list[Event]]:
    trail: dict[int, list[Event]] = defaultdict(list)
    for event in Event.objects.order_by("at", "id"):
        trail[event.complaint_id].append(event)
    return trail


def _pointed(events: Iterable[Event], action: str, key: str) -> Counter[Any]:
    """How many `action` events name each id under `after[key]`."""
    return Counter(e.after.get(key) for e in events if e.action == action)


@pytest.fixture
def desk_staff(make_user: Callable[..., User]) -> list[User]:
    """Customer service at the desk (two agents, a supervisor) and management, as a demo has them."""
    return [make_user("agent"), make_user("agent"), make_user("cs_supervisor"), make_user("management")]


@pytest.mark.django_db
@pytest.mark.usefixtures("desk_staff")
def test_tasks_contacts_solutions_and_forms_are_consistent_with_their_complaints() -> None:
    result = history()
    assert result.tasks == Task.objects.count() > 100
    tasks = list(Task.objects.select_related("complaint", "department", "handler"))
    members = set(Membership.objects.values_list("user_id", "department_id"))
    handlers = set(User.objects.filter(groups__name="handler").values_list("id", flat=True))
    for task in tasks:
        complaint = task.complaint
        assert complaint.status in DISPATCHED_OR_LATER, (complaint.number, complaint.status)
        assert complaint.acknowledged_at is not None and complaint.acknowledged_at <= task.dispatched_at <= NOW
        assert (task.handler_id, task.department_id) in members and task.handler_id in handlers
        assert task.department.code != "cs"
        if task.verified_at is not None:
            assert task.dispatched_at <= task.verified_at
        if task.replied_at is not None:
            assert task.status == TaskStatus.REPLIED and task.reply
            assert task.verified_at is not None and task.dispatched_at <= task.verified_at <= task.replied_at <= NOW
            assert FeedbackForm.objects.filter(task=task).exists()
        else:
            assert task.status in (TaskStatus.DISPATCHED, TaskStatus.IN_PROGRESS) and not task.reply
            assert complaint.status in HANDLING_STATUSES or complaint.status == Status.REOPENED
        if task.status == TaskStatus.DISPATCHED:
            assert task.verified_at is None
        if complaint.status in (Status.RESOLVED, Status.CLOSED, Status.ARCHIVED):
            assert task.status == TaskStatus.REPLIED and task.replied_at <= complaint.resolved_at
    # Contacts: by the task's handler (or customer service without a task), never before receipt.
    for contact in ContactLog.objects.select_related("task", "complaint"):
        assert contact.complaint.received_at <= contact.at <= contact.created_at <= NOW
        if contact.task is not None:
            assert contact.by_id == contact.task.handler_id and contact.task.complaint_id == contact.complaint_id
    assert ContactLog.objects.filter(task__isnull=True).exists()
    assert set(ContactLog.objects.values_list("outcome", flat=True)) >= {"reached", "no_answer"}
    for entry in ProgressEntry.objects.select_related("task"):
        assert entry.task.dispatched_at <= entry.at and entry.by_id == entry.task.handler_id
        assert entry.task.replied_at is None or entry.at <= entry.task.replied_at
    # Solutions: levels decided in order by the roles they name; execution steps only when executing.
    solutions = list(Solution.objects.prefetch_related("approvals", "steps").select_related("complaint"))
    assert solutions and {s.status for s in solutions} >= {SolutionStatus.DONE, SolutionStatus.REJECTED}
    for solution in solutions:
        approvals = sorted(solution.approvals.all(), key=lambda a: a.level)
        assert [a.role for a in approvals if a.approved] == solution.required_levels[: solution.approved_levels]
        assert all(a.decided_at >= solution.proposed_at for a in approvals)
        assert solution.required_levels[0] == "cs_supervisor"
        if solution.compensation_amount is not None and solution.compensation_amount > 500:
            assert "management" in solution.required_levels
        done = [s for s in solution.steps.all() if s.done_at is not None]
        if solution.status == SolutionStatus.DONE:
            assert len(done) == solution.steps.count()
        elif solution.status != SolutionStatus.EXECUTING:
            assert not done
    assert SolutionApproval.objects.filter(approved=False).exists()
    assert ExecutionStep.objects.filter(done_at__isnull=False).exists()
    # Feedback forms: one per replied task, root cause and review as the workflow allows.
    causes = Counter()
    for form in FeedbackForm.objects.select_related("task", "complaint"):
        assert form.task.replied_at == form.created_at and form.handler_id == form.task.handler_id
        if form.status in (FeedbackStatus.SUBMITTED, FeedbackStatus.APPROVED):
            assert form.root_cause and form.result and form.demand_met is not None and form.measures
            assert form.key_actions and form.submitted_at >= form.created_at
            causes[form.root_cause] += 1
        if form.status == FeedbackStatus.APPROVED:
            assert form.reviewed_by_id and form.reviewed_at >= form.submitted_at
        if form.complaint.status in (Status.CLOSED, Status.ARCHIVED):
            assert form.status == FeedbackStatus.APPROVED
    # Root causes: one of the list's dozen or so, in a skewed (Pareto-like) distribution.
    assert set(causes) <= {c["cause"] for c in _data("handling")["root_causes"]}
    top = causes.most_common()
    assert len(top) >= 6 and top[0][1] > 3 * top[-1][1]
    assert FeedbackForm.objects.filter(revision__gt=0).exists()


@pytest.mark.django_db
@pytest.mark.usefixtures("desk_staff")
def test_follow_ups_reopens_and_repeats() -> None:
    history(count=800, days=90)
    followups = list(FollowUp.objects.select_related("complaint", "satisfaction"))
    assert followups
    resolve_times = defaultdict(set)
    for event in Event.objects.filter(action="resolve"):
        resolve_times[event.complaint_id].add(event.at)
    for followup in followups:
        complaint = followup.complaint
        assert complaint.status in RESOLVED_OR_LATER or complaint.reopen_count > 0, complaint.status
        assert followup.created_at in resolve_times[complaint.pk]  # born with the resolve transition
        if followup.outcome:
            assert followup.created_at <= followup.completed_at <= NOW
        if followup.outcome in (FollowUpOutcome.SATISFIED, FollowUpOutcome.UNSATISFIED):
            assert followup.satisfaction is not None and followup.solved is not None
        if followup.outcome == FollowUpOutcome.UNREACHABLE:
            assert followup.satisfaction is None
            failed_days = {timezone.localdate(a.at) for a in followup.attempts.all() if a.result != "reached"}
            assert len(failed_days) >= 3
        if followup.outcome == FollowUpOutcome.UNSATISFIED:
            assert complaint.reopen_count >= followup.round
    outcomes = Counter(f.outcome for f in followups if f.outcome)
    satisfied = sum(1 for f in followups if f.satisfaction and f.satisfaction.counts_as_satisfied)
    rated = sum(1 for f in followups if f.satisfaction)
    assert 0.78 <= satisfied / rated <= 0.93
    assert outcomes[FollowUpOutcome.UNREACHABLE] > 0
    assert FollowUpAttempt.objects.filter(result="no_answer").exists()
    # Closed complaints: the follow-up has an outcome (the close guard).
    for complaint in Complaint.objects.filter(status__in=[Status.CLOSED, Status.ARCHIVED]):
        latest = complaint.followups.order_by("-round").first()
        assert latest.outcome in (FollowUpOutcome.SATISFIED, FollowUpOutcome.UNREACHABLE)
    # Reopens: second-result clock, escalation, new tasks for the departments that had replied.
    reopened = list(Complaint.objects.filter(reopen_count__gt=0))
    assert reopened
    for complaint in reopened:
        assert Deadline.objects.filter(complaint=complaint, milestone="second_result").count() == complaint.reopen_count
        assert complaint.events.filter(action="reopen").count() == complaint.reopen_count
        assert complaint.events.filter(action="escalated").count() == complaint.reopen_count
        assert complaint.followups.count() >= complaint.reopen_count
    # Repeats: marked as intake's detect_repeat finds them, with the event.
    cohort = Complaint.objects.exclude(status__in=[Status.INVALID, Status.DUPLICATE])
    repeats = [c for c in cohort if c.repeat_of_id]
    assert repeats and len(repeats) / cohort.count() < 0.08
    for complaint in Complaint.objects.all():
        expected = detect_repeat(complaint=complaint)
        assert complaint.repeat_of_id == (expected.pk if expected else None), complaint.number
        if complaint.repeat_of_id:
            detected = complaint.events.get(action="repeat_detected")
            assert detected.after["repeat_of"] == complaint.repeat_of.number
            assert complaint.repeat_reason and detected.note == complaint.repeat_reason


@pytest.mark.django_db
@pytest.mark.usefixtures("desk_staff")
def test_deadlines_met_or_breached_with_working_time_and_sweep_events() -> None:
    history()
    deadlines = list(Deadline.objects.select_related("policy__calendar", "task", "complaint"))
    targets = {(t.policy_id, t.milestone): t for t in PolicyTarget.objects.all()}
    by_task = defaultdict(dict)
    for deadline in deadlines:
        assert deadline.warn_at <= deadline.due_at
        if deadline.task_id is not None:
            assert deadline.task.complaint_id == deadline.complaint_id
            by_task[deadline.task_id][deadline.milestone] = deadline
        calendar = policy_calendar(deadline.policy)
        target = targets[(deadline.policy_id, deadline.milestone)]
        assert deadline.duration == target.for_priority(deadline.complaint.priority)
        assert deadline.due_at == add(calendar, deadline.started_at, deadline.duration)
        fraction = float(deadline.policy.warning_fraction)
        assert deadline.warn_at == warning_at(calendar, deadline.started_at, deadline.duration, fraction)
        timed = deadline.milestone in ("first_response", "resolution") and deadline.task_id is None
        if timed and deadline.met_at is not None and not deadline.cancelled:
            expected = working_time_between(calendar, deadline.started_at, deadline.met_at)
            assert deadline.worked_seconds == int(expected.total_seconds())
        else:
            assert deadline.worked_seconds is None
        until = deadline.met_at or NOW
        assert (deadline.warned_at is not None) == (deadline.warn_at <= until)
        assert (deadline.breached_at is not None) == (deadline.due_at <= until)
        if deadline.breached_at:
            assert deadline.escalation_level >= 1
    for task in Task.objects.all():
        clocks = by_task[task.pk]
        assert {"verify", "reply", "progress"} <= set(clocks)
        assert clocks["reply"].started_at == task.dispatched_at
        if task.replied_at:
            assert clocks["reply"].met_at == task.replied_at
        if task.verified_at:
            assert clocks["verify"].met_at == task.verified_at
        running = [d for d in Deadline.objects.filter(task=task, met_at__isnull=True, paused_at__isnull=True)]
        nearest = min(running, key=lambda d: d.due_at, default=None)
        assert task.next_due_at == (nearest.due_at if nearest else None)
    replies = [t for t in by_task.values() if t["reply"].met_at or t["reply"].due_at <= NOW]
    on_time = sum(1 for t in replies if t["reply"].met_at and t["reply"].met_at <= t["reply"].due_at)
    assert 0.72 <= on_time / len(replies) <= 0.95  # ≈85 % of replies within the 2wd reply deadline
    # The sweep's markers each have their event.
    events = Event.objects.filter(action__in=["deadline_warned", "deadline_breached", "deadline_escalated"])
    counted = Counter(e.action for e in events)
    assert counted["deadline_warned"] == sum(1 for d in deadlines if d.warned_at)
    assert counted["deadline_breached"] == sum(1 for d in deadlines if d.breached_at)
    assert counted["deadline_escalated"] == sum(max(d.escalation_level - 1, 0) for d in deadlines)


@pytest.mark.django_db
@pytest.mark.usefixtures("desk_staff")
def test_every_step_has_its_event() -> None:
    history()
    trail = _events()
    every = [e for events in trail.values() for e in events]
    for task in Task.objects.all():
        events = trail[task.complaint_id]
        assert _pointed(events, "task_created", "task")[task.pk] == 1
        assert _pointed(events, "task_verified", "task")[task.pk] == (1 if task.verified_at else 0)
        assert _pointed(events, "task_replied", "task")[task.pk] == (1 if task.replied_at else 0)
    pointed = {
        ("contact_logged", "contact"): ContactLog.objects.values_list("id", flat=True),
        ("progress_added", "progress"): ProgressEntry.objects.values_list("id", flat=True),
        ("feedback_form_opened", "feedback_form"): FeedbackForm.objects.values_list("id", flat=True),
        ("followup_created", "followup"): FollowUp.objects.values_list("id", flat=True),
        ("followup_attempt", "attempt"): FollowUpAttempt.objects.values_list("id", flat=True),
        ("propose_solution", "solution"): Solution.objects.values_list("id", flat=True),
        ("execution_step_done", "step"): ExecutionStep.objects.filter(done_at__isnull=False).values_list(
            "id", flat=True
        ),
        ("feedback_form_approved", "feedback_form"): FeedbackForm.objects.filter(
            status=FeedbackStatus.APPROVED
        ).values_list("id", flat=True),
    }
    for (action, key), ids in pointed.items():
        counted = _pointed(every, action, key)
        assert ids and all(counted[pk] == 1 for pk in ids), action
        assert sum(counted.values()) == len(ids), action
    complaints = list(Complaint.objects.all())
    for complaint in complaints:
        actions = Counter(e.action for e in trail[complaint.pk])
        assert actions["registered"] == 1
        if complaint.closed_at:
            assert [e.at for e in trail[complaint.pk] if e.action == "close"] == [complaint.closed_at]
        if complaint.archived_at:
            archive = [e for e in trail[complaint.pk] if e.action == "archive"]
            assert len(archive) == 1 and archive[0].via == "system" and archive[0].actor_id is None
        assert actions["reopen"] == complaint.reopen_count
        assert actions["repeat_detected"] == (1 if complaint.repeat_of_id else 0)
        if Task.objects.filter(complaint=complaint).exists():
            assert actions["dispatch"] == 1
    # Steps are recorded in time order: no event of a complaint before its registration or after now.
    for complaint in complaints:
        assert all(complaint.registered_at <= e.at <= NOW for e in trail[complaint.pk])


def _snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every generated table, ids replaced by their rank (they differ between runs on PostgreSQL)."""
    rank: dict[str, dict[int, int]] = {}

    def ranks(name: str, model: Any) -> dict[int, int]:
        rank[name] = {pk: i for i, pk in enumerate(model.objects.order_by("id").values_list("id", flat=True))}
        return rank[name]

    complaints = ranks("complaint", Complaint)
    rank["duplicate_of"] = complaints
    tasks = ranks("task", Task)
    for name, model in [
        ("contact", ContactLog),
        ("progress", ProgressEntry),
        ("feedback_form", FeedbackForm),
        ("followup", FollowUp),
        ("attempt", FollowUpAttempt),
        ("solution", Solution),
        ("step", ExecutionStep),
    ]:
        ranks(name, model)
    ranks("customer", Complaint.customer.field.related_model)
    # Users created by the run (demo handlers) get other ids each time on PostgreSQL: name them.
    users = dict(User.objects.values_list("id", "username"))
    rank["handler"] = users

    def normal(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return tuple(sorted((k, normal(v, k)) for k, v in value.items()))
        if isinstance(value, list):
            return tuple(normal(v, key) for v in value)
        table = {"tasks": "task"}.get(key, key)
        if isinstance(value, int) and not isinstance(value, bool) and table in rank:
            return rank[table].get(value, value)
        return value

    return {
        "complaints": sorted(
            (c.number, c.status, c.received_at, c.resolved_at, c.closed_at, c.reopen_count, c.repeat_reason)
            for c in Complaint.objects.all()
        ),
        "tasks": sorted(
            (complaints[t.complaint_id], t.department_id, users[t.handler_id], t.status, t.dispatched_at, t.replied_at)
            for t in Task.objects.all()
        ),
        "deadlines": sorted(
            (
                complaints[d.complaint_id],
                tasks.get(d.task_id, -1),
                d.milestone,
                d.due_at,
                d.met_at,
                d.worked_seconds,
                d.escalation_level,
            )
            for d in Deadline.objects.all()
        ),
        "events": sorted(
            (
                complaints[e.complaint_id],
                e.at,
                e.action,
                users.get(e.actor_id, ""),
                normal(e.before),
                normal(e.after),
                e.note,
            )
            for e in Event.objects.all()
        ),
        "forms": sorted(
            (tasks[f.task_id], f.status, f.root_cause, f.improvement_suggestion, normal(f.key_actions))
            for f in FeedbackForm.objects.all()
        ),
        "followups": sorted(
            (complaints[f.complaint_id], f.round, f.outcome, f.satisfaction_id or 0, f.completed_at or NOW)
            for f in FollowUp.objects.all()
        ),
    }


@pytest.mark.django_db
@pytest.mark.usefixtures("desk_staff")
def test_same_seed_gives_the_same_history_and_another_seed_does_not() -> None:
    runs = []
    for seed_value in (5, 5, 6):
        with transaction.atomic():
            history(count=150, seed=seed_value, days=20)
            runs.append(_snapshot())
            transaction.set_rollback(True)
    assert runs[0]["events"] and runs[0]["tasks"] and runs[0]["followups"]
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


@pytest.mark.django_db
def test_generated_handlers_are_created_once_per_department() -> None:
    history(count=100, days=10)
    created = set(User.objects.filter(username__startswith="demo.").values_list("username", flat=True))
    assert {"demo.quality.01", "demo.tech.01", "demo.warehouse.01", "demo.sales.01"} <= created
    assert not any(name.startswith("demo.cs.") for name in created)
    history(count=100, seed=12, days=10)
    assert set(User.objects.filter(username__startswith="demo.").values_list("username", flat=True)) == created


@pytest.mark.django_db
def test_demo_history_spans_four_full_months_and_every_kpi_has_a_denominator() -> None:
    call_command("demo", stdout=StringIO())
    now = timezone.now()
    # The demo's own months; the year before them is the closed history it imports for triage to learn from.
    imported = Complaint.objects.filter(events__action="imported")
    first = Complaint.objects.exclude(pk__in=imported).order_by("received_at").first()
    today = timezone.localdate(now)
    assert imported.exists()
    assert imported.order_by("-received_at").first().received_at < first.received_at  # type: ignore[union-attr]
    assert timezone.localdate(first.registered_at) <= today.replace(day=1) - datetime.timedelta(days=100)
    assert (today - timezone.localdate(first.registered_at)).days < days_covering_months(now)
    period = Period.month_of(today).previous()
    for month in period.previous_months(3):
        assert Complaint.objects.filter(received_at__range=month.bounds).count() > 30
    figures = kpi_figures(period, now=now)
    assert set(figures) == set(Kpi)
    for kpi, figure in figures.items():
        assert figure.denominator > 0, kpi
        assert 0 <= figure.numerator <= figure.denominator, kpi
    # The rates land where a real desk's would (the demo's numbers tell a plausible story).
    for kpi in (Kpi.TIMELY_PROCESSING, Kpi.TIMELY_REPLY, Kpi.COMMUNICATION, Kpi.SATISFACTION, Kpi.ACK_ON_TIME):
        assert figures[kpi].numerator > 0, kpi
        assert 50 <= figures[kpi].rate <= 100, kpi


@pytest.mark.django_db
@pytest.mark.usefixtures("desk_staff")
def test_the_demo_feedback_forms_give_a_pareto_of_several_categories() -> None:
    """The demo's handlers pick a root-cause category with the free text, so the report and the dashboard
    show a real Pareto rather than one "uncategorised" bar."""
    from closeloop.insight.figures import UNCATEGORISED, cause_pareto

    history(count=300, seed=5, days=60)
    period = Period(NOW.date() - datetime.timedelta(days=61), NOW.date())
    bars = cause_pareto(period)
    categories = [bar for bar in bars if bar.key != UNCATEGORISED]
    assert len(categories) >= 3, bars
    assert not FeedbackForm.objects.exclude(root_cause="").filter(cause_category__isnull=True).exists()
