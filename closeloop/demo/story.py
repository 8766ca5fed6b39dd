"""The life of one generated complaint, from registration to archive, as the services write it.

`Life` replays a complaint's history as a small discrete-event simulation: each step of the process
(acknowledge, dispatch, a handler's verification, contacts, progress, a solution and its approvals and
execution, the department's reply, the feedback form, resolve, follow-up attempts, reopen, close,
archive) is an action scheduled at a time; actions run in time order and schedule the next ones, and
whatever falls after `now` does not happen, so a young complaint simply stops in the state it has
reached. Each action changes the records and writes the events exactly as the service it stands for
(named in its docstring) would: the same action names, before/after payloads and notes, the SLA
clocks started, met or cancelled by the same rules (`sla.services`), with the working time stored on
met first-response and resolution clocks (the public calendar arithmetic of `closeloop.calendar`). At the
end the periodic SLA sweep is replayed — warnings, breaches and escalations up the policy's ladder,
each with its event — and the nearest open deadline is mirrored on the complaint and its tasks.

Nothing here touches the database: records are `bulk.Rec` objects the generator writes in batches.
Every random draw comes from the complaint's own `random.Random`, so a complaint's story depends on its
seed and `now` only.
"""

from __future__ import annotations

import datetime
import heapq
import math
import random
from bisect import bisect
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from functools import cache
from itertools import accumulate
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext as _

from closeloop.calendar.durations import Duration
from closeloop.calendar.working import WorkingCalendar, add, add_working_time, warning_at, working_time_between
from closeloop.complaints.lifecycle import LIFECYCLE as COMPLAINT
from closeloop.complaints.lifecycle import TRANSITIONS, Status
from closeloop.complaints.models import Priority, Via
from closeloop.complaints.presentation import action_label
from closeloop.demo.bulk import Rec
from closeloop.followup.lifecycle import LIFECYCLE as FOLLOWUP
from closeloop.followup.models import AttemptResult, FollowUpOutcome
from closeloop.handling.lifecycle import FEEDBACK_FORM_LIFECYCLE as FEEDBACK_FORM
from closeloop.handling.lifecycle import SOLUTION_LIFECYCLE as SOLUTION
from closeloop.handling.lifecycle import TASK_LIFECYCLE as TASK
from closeloop.handling.models import (
    ACTIVE_TASK_STATUSES,
    CompensationForm,
    ContactChannel,
    ContactOutcome,
    FeedbackResult,
    FeedbackStatus,
    Measure,
    SolutionStatus,
    TaskStatus,
)
from closeloop.handling.services.feedback import KEY_EVENT_ACTIONS, KEY_EVENT_PREFIXES, SHORT_TEXT
from closeloop.sla.milestones import COMPLAINT_MILESTONES_AT_INTAKE, Milestone
from closeloop.sla.services import TIMED_MILESTONES, policy_calendar, policy_targets

UTC = datetime.UTC
MINUTE = 60.0
HOUR = 3600.0
WORKING_DAY = 8 * HOUR  # of the default calendar; only used to scale random delays

# Shares of the process (of complaints that are neither invalid nor duplicate unless said otherwise).
INVALID_SHARE = 0.05
ON_THE_SPOT_SHARE = 0.25
DESK_HANDLED_SHARE = 0.15  # of the rest whose type has a handling department: customer service solves them
SECOND_DEPARTMENT_SHARE = 0.10  # dispatched to two departments at once
REDISPATCH_SHARE = 0.06  # a second department added later
SOLUTION_SHARE = 0.35  # of dispatched complaints: a formal solution with approvals and execution
REJECT_SHARE = 0.08  # of proposals: rejected once, then a revised one is approved
COMMUNICATION_SHARE = 0.80  # dispatched complaints whose handler reached the customer
STUCK_TASK_SHARE = 0.01  # tasks nobody looks at for days (escalated, then handled late)
FORM_RETURN_SHARE = 0.08
FOLLOWUP_REACHED = (0.85, 0.70)  # first attempt, later attempts
SATISFIED_SHARE = 0.855
REOPENING_SHARE = 0.025
FOLLOWUP_SUGGESTION_SHARE = 0.15

# Departments whose complaints customer service answers itself (no task).
DESK_DEPARTMENTS = frozenset({"cs"})
# A second department for some types (simultaneous or a later redispatch).
SECOND_DEPARTMENTS = {
    "quality": ("production", "tech"),
    "installation": ("quality",),
    "logistics": ("sales",),
    "delivery": ("warehouse",),
}


class Stop(Exception):
    """An action found the complaint no longer in a state where it applies (a guard refused)."""


def lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return median * math.exp(sigma * rng.gauss(0.0, 1.0))


class Choice:
    """A weighted choice, its cumulative weights computed once: `Choice([(value, weight), …])(rng)`."""

    def __init__(self, pairs: Iterable[Sequence[Any]]) -> None:
        pairs = list(pairs)
        self.values = [p[0] for p in pairs]
        self.cumulative = list(accumulate(float(p[1]) for p in pairs))
        self.total = self.cumulative[-1]

    def __call__(self, rng: random.Random) -> Any:
        return self.values[bisect(self.cumulative, rng.random() * self.total)]


FAILED_CONTACT = Choice([("no_answer", 60), ("left_message", 25), ("wrong_number", 5), ("refused", 10)])
CONTACT_CHANNEL = Choice([("phone", 68), ("messaging", 14), ("visit", 10), ("sms", 4), ("email", 4)])
COMPENSATION_FORM = Choice([("cash", 50), ("voucher", 30), ("goods", 15), ("service", 5)])
FORM_RESULT = Choice([("resolved", 90), ("negotiating", 6), ("unresolvable", 4)])
SATISFACTION_SEEN = Choice([("satisfied", 75), ("basically_satisfied", 20), ("unsatisfied", 5)])
FOLLOWUP_METHOD = Choice([("phone", 85), ("sms", 8), ("email", 7)])
FAILED_ATTEMPT = Choice([("no_answer", 60), ("busy", 25), ("wrong_number", 5), ("refused", 10)])


class PolicyClock:
    """One SLA policy's calendar, targets, warning point and escalation ladder, read once per run."""

    def __init__(self, policy: Any) -> None:
        self.policy = policy
        self.calendar: WorkingCalendar = policy_calendar(policy)
        self.targets = policy_targets(policy)
        self.fraction = float(policy.warning_fraction)
        ladder = sorted(policy.escalation or [], key=lambda step: int(step["level"]))
        self.ladder = [(int(step["level"]), Duration.parse(str(step["after"]))) for step in ladder[1:]]
        self._durations: dict[str, Duration] = {}

    def target(self, milestone: str, priority: int) -> str | None:
        target = self.targets.get(milestone)
        return target.for_priority(priority) if target is not None else None

    def duration(self, text: str) -> Duration:
        parsed = self._durations.get(text)
        if parsed is None:
            parsed = self._durations[text] = Duration.parse(text)
        return parsed

    def due_warn(self, text: str, start: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime]:
        duration = self.duration(text)
        due = add(self.calendar, start, duration)
        warn = warning_at(self.calendar, start, duration, self.fraction)
        return due.astimezone(UTC), warn.astimezone(UTC)

    def after_working(self, start: datetime.datetime, seconds: float) -> datetime.datetime:
        return add_working_time(self.calendar, start, datetime.timedelta(seconds=max(seconds, 1.0))).astimezone(UTC)

    def worked(self, start: datetime.datetime, end: datetime.datetime) -> int:
        return int(working_time_between(self.calendar, start, end).total_seconds())

    def next_working_day(self, moment: datetime.datetime) -> datetime.datetime:
        return add(self.calendar, moment, self.duration("1wd")).astimezone(UTC)

    def escalations(self, due: datetime.datetime) -> list[tuple[int, datetime.datetime]]:
        return [(level, add(self.calendar, due, after).astimezone(UTC)) for level, after in self.ladder]


class Context:
    """What every complaint's story reads: now, the staff, texts, departments, the satisfaction scale,
    the message templates, approval rules and the policies' clocks. Built once per seeding run."""

    def __init__(self, *, now: datetime.datetime, staff: Any, seed: int) -> None:
        from closeloop.demo.generator import _data
        from closeloop.directory.models import CauseCategory, Department
        from closeloop.followup.selectors import active_scale
        from closeloop.notifications.models import MessageTemplate

        self.now = now
        self.staff = staff
        self.texts = _data("handling")
        self.zone = ZoneInfo(settings.TIME_ZONE)
        self.departments = {d.code: d for d in Department.objects.filter(is_active=True)}
        self.departments_by_id = {d.pk: d for d in self.departments.values()}
        scale = active_scale()
        levels = list(scale.levels.all())
        self.scale = scale
        self.levels = Choice(_level_weights(levels, allow_reopen=True))
        self.levels_again = Choice(_level_weights(levels, allow_reopen=False))
        self.templates = set(MessageTemplate.objects.filter(is_active=True).values_list("code", "method"))
        self.clocks: dict[int, PolicyClock] = {}
        self._levels: dict[tuple[tuple[str, ...], Decimal | None], list[str]] = {}
        self.supervisor_names = [u.get_username() for u in staff.supervisors]
        # Some handlers reply on time more reliably than others (the per-handler KPI table shows it).
        self.diligence = {
            user.pk: random.Random(f"{seed}:{user.get_username()}").uniform(0.74, 0.96)
            for users in staff.handlers.values()
            for user in users
        }
        self.handlers = {
            department_id: Choice((user, 1.0 / (1.0 + 0.35 * index)) for index, user in enumerate(users))
            for department_id, users in staff.handlers.items()
            if users
        }
        causes = self.texts["root_causes"]
        # Each listed cause has its category (人、机、料、法、环、测 and a sub-cause), as a handler picks it.
        self.cause_categories = dict(
            CauseCategory.objects.filter(code__in=[c["category"] for c in causes]).values_list("code", "pk")
        )
        self.causes = {
            (code, family): Choice(
                (c, c["weight"])
                for c in causes
                if (code in c["types"] or "*" in c["types"]) and family in c.get("families", (family,))
            )
            for code in ("quality", "service", "logistics", "delivery", "price", "installation", "other")
            for family in ("lamp", "furniture")
        }
        self.measures = {code: Choice(pairs) for code, pairs in self.texts["measures_by_type"].items()}
        self.amounts = Choice(self.texts["compensation_amounts"])

    def clock(self, policy: Any) -> PolicyClock | None:
        if policy is None:
            return None
        if policy.pk not in self.clocks:
            self.clocks[policy.pk] = PolicyClock(policy)
        return self.clocks[policy.pk]

    def required_levels(self, measures: list[str], amount: Decimal | None) -> list[str]:
        from closeloop.handling.services.solutions import solution_required_levels

        key = (tuple(measures), amount)
        if key not in self._levels:
            self._levels[key] = solution_required_levels(measures=measures, amount=amount, custom_made=False)
        return self._levels[key]

    def customer_messages(self, code: str, complaint: Rec) -> list[str]:
        from closeloop.complaints.customer_messages import customer_methods

        customer = complaint.customer
        methods = customer_methods(priority=complaint.priority, phone=customer.phone, email=customer.email)
        return [str(m) for m in methods if (code, str(m)) in self.templates]

    def handler(self, department_id: int, rng: random.Random) -> Any:
        choice = self.handlers.get(department_id)
        return choice(rng) if choice is not None else None

    def local(self, moment: datetime.datetime) -> str:
        return moment.astimezone(self.zone).strftime("%Y-%m-%d %H:%M")


def _level_weights(levels: list[Any], *, allow_reopen: bool) -> list[tuple[Any, float]]:
    satisfied = [lv for lv in levels if lv.counts_as_satisfied]
    reopening = [lv for lv in levels if lv.reopens and not lv.counts_as_satisfied] if allow_reopen else []
    neutral = [lv for lv in levels if not lv.counts_as_satisfied and not lv.reopens]
    reopen_share = REOPENING_SHARE if reopening else 0.0
    neutral_share = (1.0 - SATISFIED_SHARE - REOPENING_SHARE) if neutral else 0.0
    satisfied_share = 1.0 - reopen_share - neutral_share
    weights: list[tuple[Any, float]] = []
    # The first "satisfied" level a little more often than the next (非常满意 vs 满意).
    shape = [1.0 / (1.0 + 0.25 * i) for i in range(len(satisfied))]
    weights += [(lv, satisfied_share * s / sum(shape)) for lv, s in zip(satisfied, shape, strict=True)]
    weights += [(lv, neutral_share / len(neutral)) for lv in neutral]
    weights += [(lv, reopen_share / len(reopening)) for lv in reopening]
    return weights or [(lv, 1.0) for lv in levels]


@cache
def _label(action: str) -> str:
    return action_label(action)


@cache
def _contact_words(channel: str, outcome: str) -> tuple[str, str]:
    return str(ContactChannel(channel).label), str(ContactOutcome(outcome).label)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SHORT_TEXT else text[: SHORT_TEXT - 1] + "…"


class Life:
    """One complaint's history (see the module docstring); its lists hold the records to write."""

    def __init__(self, ctx: Context, planned: Any, rng: random.Random) -> None:
        self.ctx = ctx
        self.planned = planned
        self.c: Rec = planned.complaint
        self.rng = rng
        self.clock = ctx.clock(planned.policy)
        self.events: list[Rec] = []
        self.deadlines: list[Rec] = []
        self.open: dict[Rec | None, dict[str, Rec]] = {}
        self.tasks: list[Rec] = []
        self.contacts: list[Rec] = []
        self.progress: list[Rec] = []
        self.solutions: list[Rec] = []
        self.steps: list[Rec] = []
        self.approvals: list[Rec] = []
        self.forms: list[Rec] = []
        self.followups: list[Rec] = []
        self.attempts: list[Rec] = []
        self._heap: list[tuple[datetime.datetime, int, Callable[..., None], tuple[Any, ...]]] = []
        self._seq = 0
        self._resolving = self._closing = False
        self.solution_route = False
        self.communicates = rng.random() < COMMUNICATION_SHARE
        self.repeat_event: Rec | None = None

    # --- the machinery --------------------------------------------------------------------------------

    def at(self, moment: datetime.datetime, action: Callable[..., None], *args: Any) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (moment, self._seq, action, args))

    def run(self) -> None:
        self.intake()
        self.route()
        now = self.ctx.now
        while self._heap:
            moment, _seq, action, args = heapq.heappop(self._heap)
            if moment > now:
                break
            try:
                action(moment, *args)
            except Stop:
                continue
        self._heap.clear()
        self.sweep()
        self.mirror()

    def work(self, start: datetime.datetime, seconds: float) -> datetime.datetime:
        """`seconds` of working time after `start` (staff act in working hours)."""
        if self.clock is None:
            return start + datetime.timedelta(seconds=seconds * 3)
        return self.clock.after_working(start, seconds)

    def desk(self) -> Any:
        desk = self.ctx.staff.desk
        return self.rng.choice(desk) if desk else None

    def supervisor(self) -> Any:
        return self.rng.choice(self.ctx.staff.supervisors)

    def event(
        self,
        action: str,
        moment: datetime.datetime,
        actor: Any,
        via: str,
        *,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        note: str = "",
    ) -> Rec:
        event = Rec(
            complaint_id=self.c,
            at=moment,
            actor_id=actor,
            via=via,
            action=action,
            before=before or {},
            after=after or {},
            note=note,
        )
        self.events.append(event)
        return event

    def text(self, value: str) -> str:
        return value.format(product=self.c.product_name or "产品")

    # --- deadlines (sla.services) ---------------------------------------------------------------------

    def start(
        self,
        milestones: Sequence[str],
        moment: datetime.datetime,
        assignee: Any = None,
        task: Any = None,
        *,
        created: datetime.datetime | None = None,
    ) -> None:
        """`deadlines_start`: a clock per milestone with a target, unless one is open in that scope.
        `created` is when the row was written, if later than the clock's start (intake: registration)."""
        if self.clock is None:
            return
        scope = self.open.setdefault(task, {})
        for milestone in milestones:
            if milestone in scope:
                continue
            duration = self.clock.target(milestone, self.c.priority)
            if duration is None:
                continue
            due, warn = self.clock.due_warn(duration, moment)
            deadline = Rec(
                complaint_id=self.c,
                task_id=task,
                milestone=milestone,
                policy_id=self.clock.policy,
                duration=duration,
                assignee_id=assignee,
                started_at=moment,
                due_at=due,
                warn_at=warn,
                met_at=None,
                cancelled=False,
                worked_seconds=None,
                paused_seconds=0,
                escalation_level=0,
            )
            deadline.created = created or moment
            self.deadlines.append(deadline)
            scope[milestone] = deadline

    def close(
        self,
        milestones: list[str] | tuple[str, ...] | None,
        moment: datetime.datetime,
        *,
        cancelled: bool = False,
        task: Any = None,
        include_tasks: bool = False,
    ) -> None:
        """`deadlines_close`: met (or cancelled); met first-response/resolution clocks get their working time."""
        scopes = [task] if task is not None else ([None, *self.tasks] if include_tasks else [None])
        for key in scopes:
            scope = self.open.get(key)
            if not scope:
                continue
            for milestone in list(scope) if milestones is None else [m for m in milestones if m in scope]:
                deadline = scope.pop(milestone)
                deadline.met_at, deadline.cancelled = moment, cancelled
                if not cancelled and key is None and milestone in TIMED_MILESTONES and self.clock is not None:
                    deadline.worked_seconds = self.clock.worked(deadline.started_at, moment)

    # --- the complaint's state (complaints.services.transition_apply) --------------------------------------

    def transition(
        self,
        action: str,
        moment: datetime.datetime,
        actor: Any,
        via: str = Via.DESK,
        *,
        values: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
        note: str = "",
    ) -> None:
        c = self.c
        transition = TRANSITIONS[action]
        if c.status not in transition.sources:
            raise Stop
        values = values or {}
        before = {"status": c.status, **{k: getattr(c, _attname(k), None) for k in values}}
        COMPLAINT.move(c, action, actor, checked=True)
        for key, value in values.items():
            setattr(c, _attname(key), value)
        c.updated_at = moment
        if transition.cancels_deadlines:
            self.close(None, moment, cancelled=True, include_tasks=True)
        elif transition.meets:
            self.close(transition.meets, moment)
        if action == "resolve":
            self.followup_create(moment, actor, via)
        extra = dict(extra or {})
        if transition.notify_customer:
            extra["customer_messages"] = self.ctx.customer_messages(transition.notify_customer, c)
        self.event(action, moment, actor, via, before=before, after={"status": c.status, **values, **extra}, note=note)

    # --- registration (complaints.services.complaint_register) -------------------------------------------

    def intake(self) -> None:
        c, planned = self.c, self.planned
        self.event(
            "registered",
            c.registered_at,
            planned.actor,
            planned.via,
            after={
                "status": Status.REGISTERED.value,
                "channel": c.channel,
                "priority": c.priority,
                "type": planned.ctype.code,
                "customer": c.customer_id,
                "customer_created": planned.customer_is_new,
                "department": c.department_id,
                "attachments": 0,
                "sla_policy": planned.policy.code if planned.policy else None,
            },
        )
        if c.repeat_of_id is not None:
            # The earlier complaint's number and the reason are filled in once numbers are handed out.
            self.repeat_event = self.event("repeat_detected", c.registered_at, planned.actor, planned.via)
        self.start(COMPLAINT_MILESTONES_AT_INTAKE, c.received_at, assignee=planned.actor, created=c.registered_at)

    def route(self) -> None:
        """Which way the complaint goes (drawn now), and its first step after registration."""
        rng, c, planned = self.rng, self.c, self.planned
        ack_minutes = {Priority.URGENT: (3, 30), Priority.IMPORTANT: (10, 120), Priority.NORMAL: (20, 600)}[c.priority]
        minutes = rng.uniform(*ack_minutes)
        if rng.random() < 0.05:  # a busy shift: acknowledged late
            minutes *= rng.uniform(1.5, 4.0)
        acknowledged_at = c.registered_at + datetime.timedelta(minutes=minutes)
        texts = planned.texts
        if planned.duplicate_of is not None or rng.random() < INVALID_SHARE:
            acknowledged = rng.random() < 0.3
            if acknowledged:
                self.at(acknowledged_at, self.acknowledge, False)
            moment = (acknowledged_at if acknowledged else c.registered_at) + datetime.timedelta(
                minutes=rng.uniform(5, 1440)
            )
            if planned.duplicate_of is not None:
                self.at(moment, self.mark_duplicate, rng.choice(texts["duplicate_reasons"]))
            else:
                self.at(moment, self.invalidate, rng.choice(texts["invalid_reasons"]))
            return
        if rng.random() < ON_THE_SPOT_SHARE:
            moment = c.registered_at + datetime.timedelta(minutes=rng.uniform(3, 40))
            self.at(moment, self.resolve, rng.choice(texts["resolutions"]))
            return
        self.at(acknowledged_at, self.acknowledge, True)

    # --- customer service -------------------------------------------------------------------------------

    def acknowledge(self, moment: datetime.datetime, go_on: bool) -> None:
        self.transition("acknowledge", moment, self.desk(), values={"acknowledged_at": moment})
        if not go_on:
            return
        rng, c = self.rng, self.c
        department = self.ctx.departments_by_id.get(c.department_id)
        handled = department is not None and department.code not in DESK_DEPARTMENTS
        # handled: the department is known
        if handled and self.ctx.staff.handlers.get(department.pk) and rng.random() >= DESK_HANDLED_SHARE:  # type: ignore[union-attr]
            minutes = lognormal(rng, 8 if c.priority == Priority.URGENT else 30, 0.9)
            self.at(self.work(moment, minutes * MINUTE), self.dispatch, department)
            return
        # Customer service answers it itself: perhaps a call back, then the resolution.
        hours = rng.lognormvariate(math.log(30 if c.priority == Priority.NORMAL else 12), 1.0)
        resolved_at = moment + datetime.timedelta(hours=hours)
        if self.ctx.staff.desk and rng.random() < 0.5:
            contact_at = self.work(moment, hours * HOUR * rng.uniform(0.05, 0.3))
            if contact_at < resolved_at:
                self.at(contact_at, self.desk_contact)
        self.at(resolved_at, self.resolve, rng.choice(self.planned.texts["resolutions"]))

    def desk_contact(self, moment: datetime.datetime) -> None:
        """`contact_log_add` by customer service (no task): does not count for the communication rate."""
        agent = self.desk()
        summary = self.rng.choice(self.ctx.texts["cs_contact_summaries"])
        self.contact(moment, None, agent, moment - datetime.timedelta(minutes=self.rng.uniform(1, 20)), summary)

    def invalidate(self, moment: datetime.datetime, reason: str) -> None:
        self.transition("invalidate", moment, self.desk(), values={"status_reason": reason}, note=reason)

    def mark_duplicate(self, moment: datetime.datetime, reason: str) -> None:
        original = self.planned.duplicate_of.complaint
        self.transition(
            "mark_duplicate",
            moment,
            self.desk(),
            values={"status_reason": reason, "duplicate_of": original},
            note=reason,
        )

    def resolve(self, moment: datetime.datetime, resolution: str) -> None:
        """The generic `resolve` transition; its guards: no department still working, execution done."""
        self._resolving = False
        if any(t.status in ACTIVE_TASK_STATUSES for t in self.tasks):
            raise Stop
        if any(s.status == SolutionStatus.EXECUTING for s in self.solutions):
            raise Stop
        self.transition(
            "resolve",
            moment,
            self.desk(),
            values={"resolved_at": moment, "resolution": resolution},
            note=resolution,
        )
        self.c.resolve_times.append(moment)

    def maybe_resolve(self, moment: datetime.datetime) -> None:
        """Customer service resolves once every department replied and the solution is executed."""
        if self._resolving or self.c.status not in TRANSITIONS["resolve"].sources:
            return
        if any(t.status in ACTIVE_TASK_STATUSES for t in self.tasks):
            return
        if any(s.status in (SolutionStatus.EXECUTING, SolutionStatus.PENDING) for s in self.solutions):
            return
        self._resolving = True
        replies = [t.reply for t in self.tasks if t.reply]
        resolution = replies[-1] if replies else self.rng.choice(self.planned.texts["resolutions"])
        delay = lognormal(self.rng, 1.5 * HOUR, 0.8)
        self.at(self.work(moment, delay), self.resolve, resolution)

    # --- dispatch and department tasks (handling.services.tasks) ------------------------------------------

    def dispatch(self, moment: datetime.datetime, department: Any) -> None:
        """`complaint_dispatch` to one department, sometimes two at once; sometimes one more later."""
        rng, ctx = self.rng, self.ctx
        actor = self.desk()
        departments = [department]
        second = self._second_department(department)
        later = None
        if second is not None:
            roll = rng.random()
            if roll < SECOND_DEPARTMENT_SHARE:
                departments.append(second)
            elif roll < SECOND_DEPARTMENT_SHARE + REDISPATCH_SHARE:
                later = second
        if self.c.status not in TRANSITIONS["dispatch"].sources:
            raise Stop
        self.solution_route = rng.random() < SOLUTION_SHARE
        instruction = rng.choice(ctx.texts["instructions"]) if rng.random() < 0.4 else ""
        tasks = [
            self.task_create(moment, d, actor, instruction=instruction, primary=i == 0)
            for i, d in enumerate(departments)
        ]
        self.transition(
            "dispatch",
            moment,
            actor,
            extra={"departments": [d.code for d in departments], "tasks": tasks},
        )
        if later is not None:
            self.at(self.work(moment, lognormal(rng, 3 * HOUR, 0.7)), self.redispatch, later)

    def _second_department(self, department: Any) -> Any:
        for code in SECOND_DEPARTMENTS.get(self.planned.ctype.code, ()):
            other = self.ctx.departments.get(code)
            if other is not None and other.pk != department.pk and self.ctx.staff.handlers.get(other.pk):
                return other if self.rng.random() < 0.7 else None
        return None

    def redispatch(self, moment: datetime.datetime, department: Any) -> None:
        """`complaint_dispatch` on a complaint already being handled: tasks added, the status stays."""
        if self.c.status not in (Status.DISPATCHED, Status.IN_PROGRESS):
            raise Stop
        if any(t.department_id == department.pk and t.status in ACTIVE_TASK_STATUSES for t in self.tasks):
            raise Stop
        actor = self.desk()
        task = self.task_create(moment, department, actor, primary=False)
        self.event("redispatched", moment, actor, Via.DESK, after={"departments": [department.code], "tasks": [task]})

    def task_create(
        self,
        moment: datetime.datetime,
        department: Any,
        actor: Any,
        *,
        handler: Any = None,
        instruction: str = "",
        primary: bool = False,
        second_round: bool = False,
    ) -> Rec:
        """`task_create`: the task, its clocks (verify, reply, progress; analysis where the department
        owes one) and the `task_created` event."""
        handler = handler or self.ctx.handler(department.pk, self.rng)
        task = Rec(
            complaint_id=self.c,
            department_id=department.pk,
            handler_id=handler,
            status=TaskStatus.DISPATCHED.value,
            instruction=instruction,
            dispatched_at=moment,
            dispatched_by_id=actor,
            verified_at=None,
            info_request="",
            last_progress_at=moment,
            reply="",
            replied_at=None,
            ended_at=None,
            end_reason="",
            next_due_at=None,
            next_warn_at=None,
        )
        task.department, task.handler = department, handler
        self.tasks.append(task)
        milestones = [Milestone.VERIFY, Milestone.REPLY, Milestone.PROGRESS]
        if department.has_analysis_target:
            milestones.append(Milestone.ANALYSIS)
        self.start(milestones, moment, assignee=handler, task=task)
        self.event(
            "task_created",
            moment,
            actor,
            Via.DESK,
            after={"task": task, "department": department.code, "handler": handler.pk if handler else None},
            note=instruction,
        )
        self.plan_task(task, moment, primary=primary, second_round=second_round)
        return task

    def plan_task(self, task: Rec, start: datetime.datetime, *, primary: bool, second_round: bool) -> None:
        """Draw when the handler verifies, contacts, reports progress, proposes and replies."""
        rng, ctx = self.rng, self.ctx
        handler = task.handler
        if handler is None:
            return  # nobody to take it: it stays dispatched, its clocks run out
        reply_clock = self.open.get(task, {}).get(Milestone.REPLY)
        due = reply_clock.due_at if reply_clock is not None else start + datetime.timedelta(days=2)
        allowed = self.clock.worked(start, due) if self.clock is not None else 2 * WORKING_DAY
        allowed = max(allowed, HOUR)
        on_time = rng.random() < (0.95 if second_round else ctx.diligence.get(handler.pk, 0.85))
        share = rng.triangular(0.12, 0.98, 0.5) if on_time else 1.0 + lognormal(rng, 0.35, 0.9)
        if rng.random() < STUCK_TASK_SHARE:
            verify = lognormal(rng, 2 * WORKING_DAY, 0.6)
            share = 1.0 + verify / allowed + lognormal(rng, 0.3, 0.6)
        else:
            verify = lognormal(rng, 25 * MINUTE, 1.0)
        if self.c.priority == Priority.URGENT or second_round:
            share *= 0.5
        reply = max(allowed * share, verify + 20 * MINUTE)
        verified_at = self.work(start, verify)
        self.at(verified_at, self.task_verify, task)
        # Contacts with the customer: failed tries, then (for most complaints) one that reached them.
        reached = self.communicates if primary else rng.random() < 0.5
        tries = rng.choice((0, 0, 0, 1, 1, 2)) if reached else rng.choice((0, 0, 1, 1, 2))
        moments = sorted(rng.uniform(0.05, 0.6) for _ in range(tries + (1 if reached else 0)))
        for index, fraction in enumerate(moments):
            outcome = ContactOutcome.REACHED if reached and index == len(moments) - 1 else FAILED_CONTACT(rng)
            contact_at = self.work(start, verify + (reply - verify) * fraction)
            logged_at = contact_at + datetime.timedelta(minutes=rng.uniform(2, 40))
            self.at(logged_at, self.task_contact, task, contact_at, str(outcome))
        # Progress entries while the task is open (a gap over 48 h breaches the `progress` clock).
        replied_at = self.work(start, reply)
        moment = start
        while True:
            moment = self.work(moment + datetime.timedelta(hours=lognormal(rng, 22, 0.45)), MINUTE)
            if moment >= replied_at - datetime.timedelta(minutes=30):
                break
            if moment > verified_at:
                self.at(moment, self.progress_add, task, rng.choice(ctx.texts["progress"]))
        if primary and self.solution_route and not second_round:
            replied_at = self.plan_solution(task, start, verify, reply, replied_at)
        self.at(replied_at, self.task_reply, task)

    def task_verify(self, moment: datetime.datetime, task: Rec) -> None:
        """`task_verify`: the task is in progress; the first one starts the complaint's handling."""
        if task.status != TaskStatus.DISPATCHED:
            raise Stop
        handler = task.handler
        TASK.move(task, "verify", handler, checked=True)
        task.verified_at = moment
        self.close([Milestone.VERIFY], moment, task=task)
        self.event(
            "task_verified",
            moment,
            handler,
            Via.DESK,
            before={"task_status": TaskStatus.DISPATCHED.value},
            after={"task": task, "department": task.department.code, "task_status": task.status},
        )
        if self.c.status in TRANSITIONS["start_handling"].sources:
            self.transition("start_handling", moment, handler, extra={"task": task, "department": task.department.code})

    def task_contact(self, moment: datetime.datetime, task: Rec, contact_at: datetime.datetime, outcome: str) -> None:
        if task.status in (TaskStatus.CANCELLED, TaskStatus.MOVED):
            raise Stop
        summaries = self.ctx.texts["contact_summaries"][outcome]
        channel = "phone" if outcome != ContactOutcome.REACHED else CONTACT_CHANNEL(self.rng)
        self.contact(moment, task, task.handler, contact_at, self.text(self.rng.choice(summaries)), channel, outcome)

    def contact(
        self,
        moment: datetime.datetime,
        task: Rec | None,
        by: Any,
        contact_at: datetime.datetime,
        summary: str,
        channel: str = "phone",
        outcome: str = ContactOutcome.REACHED.value,
    ) -> None:
        """`contact_log_add`: the contact (at `contact_at`), written at `moment`."""
        if by is None:
            raise Stop
        contact_at = max(contact_at, self.c.received_at)
        contact = Rec(
            complaint_id=self.c,
            task_id=task,
            at=contact_at,
            by_id=by,
            channel=channel,
            outcome=outcome,
            summary=summary,
            created_at=moment,
        )
        contact.by = by
        self.contacts.append(contact)
        if outcome == ContactOutcome.REACHED:
            # The first conversation with the complainant is the first substantive response.
            self.close([Milestone.FIRST_RESPONSE], min(contact_at, moment))
        self.event(
            "contact_logged",
            moment,
            by,
            Via.DESK,
            after={"contact": contact, "task": task, "channel": channel, "outcome": outcome, "contact_at": contact_at},
            note=summary,
        )

    def progress_add(self, moment: datetime.datetime, task: Rec, text: str) -> None:
        """`progress_add`: meets the open `progress` clock and starts the next one."""
        if task.status not in (TaskStatus.DISPATCHED, TaskStatus.NEEDS_INFO, TaskStatus.IN_PROGRESS):
            raise Stop
        entry = Rec(task_id=task, at=moment, by_id=task.handler, text=text)
        self.progress.append(entry)
        task.last_progress_at = moment
        self.close([Milestone.PROGRESS], moment, task=task)
        self.start([Milestone.PROGRESS], moment, assignee=task.handler, task=task)
        self.event(
            "progress_added",
            moment,
            task.handler,
            Via.DESK,
            after={"task": task, "department": task.department.code, "progress": entry},
            note=text,
        )

    def task_reply(self, moment: datetime.datetime, task: Rec) -> None:
        """`task_reply`: reply, analysis, progress and verify clocks met; the feedback form opens."""
        if task.status != TaskStatus.IN_PROGRESS:
            raise Stop
        texts = self.ctx.texts["replies"]
        replies = texts.get(self.planned.ctype.code) or texts["*"]
        if isinstance(replies, dict):
            replies = replies.get(self.planned.family) or next(iter(replies.values()))
        reply = self.text(self.rng.choice(replies))
        TASK.move(task, "reply", None, checked=True)
        task.reply, task.replied_at = reply, moment
        self.close([Milestone.REPLY, Milestone.ANALYSIS, Milestone.PROGRESS, Milestone.VERIFY], moment, task=task)
        self.event(
            "task_replied",
            moment,
            task.handler,
            Via.DESK,
            before={"task_status": TaskStatus.IN_PROGRESS.value},
            after={"task": task, "department": task.department.code, "task_status": task.status},
            note=reply,
        )
        self.feedback_form_open(moment, task)
        self.maybe_resolve(moment)

    # --- solutions (handling.services.solutions) ---------------------------------------------------------

    def plan_solution(
        self, task: Rec, start: datetime.datetime, verify: float, reply: float, replied_at: datetime.datetime
    ) -> datetime.datetime:
        """Propose, decide (once rejected, sometimes), execute step by step; returns when the department
        replies (not before the solution is approved)."""
        rng, ctx = self.rng, self.ctx
        code = self.planned.ctype.code
        measure = (ctx.measures.get(code) or ctx.measures["*"])(rng)
        measures = [measure]
        if measure != Measure.COMPENSATION and rng.random() < 0.15:
            measures.append(Measure.COMPENSATION.value)
        amount = None
        form = ""
        if Measure.COMPENSATION in measures:
            amount = Decimal(ctx.amounts(rng))
            form = COMPENSATION_FORM(rng)
        description = "；".join(ctx.texts["solutions"][m] for m in measures)
        levels = ctx.required_levels(measures, amount)
        proposed = self.work(start, verify + (reply - verify) * rng.uniform(0.2, 0.55))
        moment = proposed
        rejected = rng.random() < REJECT_SHARE
        plan: dict[str, Any] = {"measures": measures, "amount": amount, "form": form, "description": description}
        self.at(moment, self.solution_propose, task, plan)
        if rejected:
            moment = self.work(moment, lognormal(rng, 2 * HOUR, 0.8))
            self.at(moment, self.solution_decide, plan, False)
            moment = self.work(moment, lognormal(rng, 2 * HOUR, 0.7))
            self.at(moment, self.solution_propose, task, plan)
        for _level in levels:
            moment = self.work(moment, lognormal(rng, 2 * HOUR, 0.9))
            self.at(moment, self.solution_decide, plan, True)
        approved = moment
        started = self.work(approved, lognormal(rng, 1 * HOUR, 0.8))
        self.at(started, self.solution_execute, plan)
        step_texts = [s for m in measures for s in ctx.texts["steps"].get(m, [])][:3]
        plan["steps"] = step_texts
        moment = started
        for index in range(len(step_texts)):
            moment = self.work(moment, lognormal(rng, 3 * HOUR, 0.8))
            self.at(moment, self.execution_step_done, plan, index)
        return max(replied_at, self.work(approved, lognormal(rng, 40 * MINUTE, 0.6)))

    def solution_propose(self, moment: datetime.datetime, task: Rec, plan: dict[str, Any]) -> None:
        if task.status not in (TaskStatus.DISPATCHED, TaskStatus.IN_PROGRESS):
            raise Stop
        if any(s.status == SolutionStatus.PENDING for s in self.solutions):
            raise Stop
        if self.c.status not in TRANSITIONS["propose_solution"].sources:
            raise Stop
        rng = self.rng
        handler = task.handler
        revised = bool(self.solutions)
        description = plan["description"] + ("（修订）" if revised else "")
        levels = self.ctx.required_levels(plan["measures"], plan["amount"])
        today = moment.astimezone(self.ctx.zone).date()
        steps_texts = [s for m in plan["measures"] for s in self.ctx.texts["steps"].get(m, [])][:3]
        solution = Rec(
            complaint_id=self.c,
            task_id=task,
            proposed_by_id=handler,
            proposed_at=moment,
            measures=list(plan["measures"]),
            description=description,
            compensation_amount=plan["amount"],
            compensation_form=plan["form"],
            custom_made=False,
            status=SolutionStatus.PENDING.value,
            required_levels=levels,
            approved_levels=0,
            decided_at=None,
            rejection_reason="",
        )
        solution.steps = [
            Rec(
                solution_id=solution,
                description=text,
                owner_id=handler,
                due_date=today + datetime.timedelta(days=rng.randint(1, 5)),
                done_at=None,
                done_by_id=None,
                note="",
            )
            for text in steps_texts
        ]
        self.solutions.append(solution)
        self.steps.extend(solution.steps)
        plan["solution"] = solution
        self.transition(
            "propose_solution",
            moment,
            handler,
            note=description,
            extra={
                "solution": solution,
                "task": task,
                "measures": list(plan["measures"]),
                "compensation_amount": plan["amount"],
                "compensation_form": plan["form"],
                "custom_made": False,
                "required_levels": levels,
                "steps": len(solution.steps),
            },
        )

    def solution_decide(self, moment: datetime.datetime, plan: dict[str, Any], approve: bool) -> None:
        """`solution_decide`: one level's decision (the CS supervisor, then management where a rule says)."""
        solution = plan.get("solution")
        if solution is None or solution.status != SolutionStatus.PENDING:
            raise Stop
        role = solution.required_levels[solution.approved_levels]
        actor = self.rng.choice(self.ctx.staff.management) if role == "management" else self.supervisor()
        level = solution.approved_levels + 1
        reason = "" if approve else self.rng.choice(self.ctx.texts["rejection_reasons"])
        self.approvals.append(
            Rec(
                solution_id=solution,
                level=level,
                role=role,
                decided_by_id=actor,
                decided_at=moment,
                approved=approve,
                note=reason,
            )
        )
        decision = {
            "solution": solution,
            "level": level,
            "role": role,
            "decision": "approved" if approve else "rejected",
        }
        if not approve:
            SOLUTION.move(solution, "reject", actor, checked=True)
            solution.decided_at, solution.rejection_reason = (
                moment,
                reason,
            )
            self.transition("reject_solution", moment, actor, note=reason, extra=decision)
            return
        solution.approved_levels = level
        if level < len(solution.required_levels):
            self.event(
                "solution_level_approved",
                moment,
                actor,
                Via.DESK,
                before={"approved_levels": level - 1},
                after={**decision, "next_role": solution.required_levels[level]},
            )
            return
        SOLUTION.move(solution, "approve", actor, checked=True)
        solution.decided_at = moment
        told = self.ctx.customer_messages("solution", self.c)
        self.transition("approve_solution", moment, actor, extra={**decision, "customer_messages": told})

    def solution_execute(self, moment: datetime.datetime, plan: dict[str, Any]) -> None:
        solution = plan.get("solution")
        if solution is None or solution.status != SolutionStatus.APPROVED:
            raise Stop
        actor = solution.task_id.handler
        SOLUTION.move(solution, "execute", actor, checked=True)
        self.transition("start_execution", moment, actor, extra={"solution": solution})
        if not solution.steps:
            self._executed(moment, solution, actor)

    def execution_step_done(self, moment: datetime.datetime, plan: dict[str, Any], index: int) -> None:
        solution = plan.get("solution")
        if solution is None or solution.status != SolutionStatus.EXECUTING or self.c.status != Status.EXECUTING:
            raise Stop
        step = solution.steps[index]
        if step.done_at is not None:
            raise Stop
        actor = step.owner_id
        step.done_at, step.done_by_id = moment, actor
        self.event(
            "execution_step_done",
            moment,
            actor,
            Via.DESK,
            after={"solution": solution, "step": step, "description": step.description},
        )
        if all(s.done_at is not None for s in solution.steps):
            self._executed(moment, solution, actor)

    def _executed(self, moment: datetime.datetime, solution: Rec, actor: Any) -> None:
        SOLUTION.move(solution, "finish", actor, checked=True)
        self.event(
            "solution_executed",
            moment,
            actor,
            Via.DESK,
            before={"solution_status": SolutionStatus.EXECUTING.value},
            after={"solution": solution, "solution_status": SolutionStatus.DONE.value},
        )
        self.maybe_resolve(moment)

    # --- the responsible person's feedback form (handling.services.feedback) -----------------------------

    def feedback_form_open(self, moment: datetime.datetime, task: Rec) -> None:
        rng = self.rng
        form = Rec(
            complaint_id=self.c,
            task_id=task,
            handler_id=task.handler,
            status=FeedbackStatus.DRAFT.value,
            result="",
            result_reason="",
            demand_met=None,
            demand_reason="",
            measures="",
            compensation="",
            key_actions=[],
            satisfaction_seen="",
            root_cause="",
            cause_category_id=None,
            improvement_suggestion="",
            created_at=moment,
            submitted_at=None,
            reviewed_by_id=None,
            reviewed_at=None,
            review_note="",
            revision=0,
        )
        form.task = task
        self.forms.append(form)
        self.start([Milestone.FEEDBACK_FORM], moment, assignee=task.handler, task=task)
        self.event("feedback_form_opened", moment, None, Via.SYSTEM, after={"feedback_form": form, "task": task})
        saved = self.work(moment, lognormal(rng, 2.5 * HOUR, 1.0))
        self.at(saved, self.feedback_form_save, form, False)
        submitted = saved + datetime.timedelta(minutes=rng.uniform(1, 20))
        self.at(submitted, self.feedback_form_submit, form)
        reviewed = self.work(submitted, lognormal(rng, 3 * HOUR, 0.9))
        if rng.random() < FORM_RETURN_SHARE:
            self.at(reviewed, self.feedback_form_review, form, False)
            saved = self.work(reviewed, lognormal(rng, 3 * HOUR, 0.9))
            self.at(saved, self.feedback_form_save, form, True)
            submitted = saved + datetime.timedelta(minutes=rng.uniform(1, 10))
            self.at(submitted, self.feedback_form_submit, form)
            reviewed = self.work(submitted, lognormal(rng, 2 * HOUR, 0.8))
        self.at(reviewed, self.feedback_form_review, form, True)

    def _form_values(self, form: Rec) -> dict[str, Any]:
        """What the handler fills in: result, demand, measures (the solution's, as prefilled), the
        root cause from the Pareto list and a suggestion, the key-action timeline as prefilled."""
        rng, ctx, task = self.rng, self.ctx, form.task
        texts = ctx.texts
        result = FORM_RESULT(rng)
        demand_met = rng.random() < 0.88
        family = self.planned.family
        cause = (ctx.causes.get((self.planned.ctype.code, family)) or ctx.causes[("other", family)])(rng)
        solution = next((s for s in reversed(self.solutions) if s.task_id is task), None)
        values: dict[str, Any] = {
            "result": result,
            "result_reason": rng.choice(texts["result_reasons"][result]) if result != FeedbackResult.RESOLVED else "",
            "demand_met": demand_met,
            "demand_reason": "" if demand_met else rng.choice(texts["demand_reasons"]),
            "measures": self._measures_text(solution) or task.reply,
            "compensation": self._compensation_text(solution),
            "satisfaction_seen": SATISFACTION_SEEN(rng),
            "root_cause": cause["cause"],
            "cause_category_id": ctx.cause_categories.get(cause["category"]),
            "improvement_suggestion": rng.choice(cause["suggestions"]) if rng.random() < 0.85 else "",
            "key_actions": self._key_actions(task, form),
        }
        return values

    def _measures_text(self, solution: Rec | None) -> str:
        if solution is None:
            return ""
        labels = "、".join(str(Measure(m).label) for m in solution.measures if m in Measure.values)
        return f"{labels}\n{solution.description}".strip() if labels else solution.description

    def _compensation_text(self, solution: Rec | None) -> str:
        if solution is None or (solution.compensation_amount is None and not solution.compensation_form):
            return ""
        parts = []
        if solution.compensation_amount is not None:
            parts.append(f"{solution.compensation_amount.quantize(Decimal('0.01'))} CNY")
        if solution.compensation_form in CompensationForm.values:
            parts.append(str(CompensationForm(solution.compensation_form).label))
        return " · ".join(parts)[:200]

    def _key_actions(self, task: Rec, form: Rec) -> list[dict[str, str]]:
        """`key_actions_assemble`: this task's and customer service's contacts, and the key events."""
        rows: list[tuple[datetime.datetime, int, dict[str, str]]] = []
        staff = self.ctx.staff
        for contact in self.contacts:
            if contact.task_id is not None and contact.task_id is not task:
                continue
            channel, outcome = _contact_words(contact.channel, contact.outcome)
            text = _("%(channel)s contact (%(outcome)s) by %(by)s: %(summary)s") % {
                "channel": channel,
                "outcome": outcome,
                "by": staff.name(contact.by),
                "summary": contact.summary,
            }
            rows.append((contact.at, 1, {"at": self.ctx.local(contact.at), "text": _short(text)}))
        for event in self.events:
            if event.action not in KEY_EVENT_ACTIONS and not event.action.startswith(KEY_EVENT_PREFIXES):
                continue
            other = event.after.get("task")
            if other is not None and other is not task:
                continue
            text = _label(event.action)
            if event.note:
                text = f"{text}: {event.note}"
            rows.append((event.at, 0, {"at": self.ctx.local(event.at), "text": _short(text)}))
        rows.sort(key=lambda row: (row[0], row[1]))
        return [row[2] for row in rows]

    def feedback_form_save(self, moment: datetime.datetime, form: Rec, supplement: bool) -> None:
        """`feedback_form_save`: the fields that changed, in the event (the timeline only named)."""
        if form.status not in (FeedbackStatus.DRAFT, FeedbackStatus.RETURNED):
            raise Stop
        if supplement:
            # What the supervisor asked for, added; the root cause stays one of the list (the Pareto counts it).
            values = {
                "measures": form.measures + "\n已与客户确认处理结果，客户认可。",
                "improvement_suggestion": (form.improvement_suggestion + "；" if form.improvement_suggestion else "")
                + self.rng.choice(["相关人员已完成培训", "已纳入月度质量例会跟踪"]),
            }
        else:
            values = self._form_values(form)
        changed = sorted(k for k, v in values.items() if getattr(form, k) != v)
        if not changed:
            return
        before = {k: getattr(form, k) for k in changed if k != "key_actions"}
        for key in changed:
            setattr(form, key, values[key])
        self.event(
            "feedback_form_saved",
            moment,
            form.handler_id,
            Via.DESK,
            before=before,
            after={"feedback_form": form, "fields": changed, **{k: values[k] for k in changed if k != "key_actions"}},
        )

    def feedback_form_submit(self, moment: datetime.datetime, form: Rec) -> None:
        if form.status not in (FeedbackStatus.DRAFT, FeedbackStatus.RETURNED) or not form.root_cause:
            raise Stop
        before = form.status
        FEEDBACK_FORM.move(form, "submit", None, checked=True)
        form.submitted_at = moment
        self.close([Milestone.FEEDBACK_FORM], moment, task=form.task)
        self.event(
            "feedback_form_submitted",
            moment,
            form.handler_id,
            Via.DESK,
            before={"status": before},
            after={"feedback_form": form, "status": form.status, "revision": form.revision},
        )

    def feedback_form_review(self, moment: datetime.datetime, form: Rec, approve: bool) -> None:
        """`feedback_form_review` by a CS supervisor: approved for archive, or returned with a note."""
        if form.status != FeedbackStatus.SUBMITTED:
            raise Stop
        actor = self.supervisor()
        note = "" if approve else self.rng.choice(self.ctx.texts["return_notes"])
        form.reviewed_by_id, form.reviewed_at, form.review_note = actor, moment, note
        if approve:
            FEEDBACK_FORM.move(form, "approve", actor, checked=True)
            action = "feedback_form_approved"
        else:
            FEEDBACK_FORM.move(form, "return", actor, checked=True)
            action = "feedback_form_returned"
            form.revision += 1
            self.start([Milestone.FEEDBACK_FORM], moment, assignee=form.handler_id, task=form.task)
        self.event(
            action,
            moment,
            actor,
            Via.DESK,
            before={"status": FeedbackStatus.SUBMITTED.value},
            after={"feedback_form": form, "status": form.status, "revision": form.revision},
            note=note,
        )
        if approve:
            self.maybe_close(moment)

    # --- follow-up, reopen, close, archive (followup.services) -----------------------------------------

    def followup_create(self, moment: datetime.datetime, actor: Any, via: str) -> None:
        """`followup_create`, run by the resolve transition: the next round, due in 2 working days."""
        if any(f.outcome == "" for f in self.followups):
            return
        followup = Rec(
            complaint_id=self.c,
            round=len(self.followups) + 1,
            created_at=moment,
            assigned_to_id=None,
            method="",
            outcome="",
            solved=None,
            satisfaction_id=None,
            comments="",
            suggestions="",
            completed_at=None,
            completed_by_id=None,
        )
        followup.failed_days = set()
        self.followups.append(followup)
        self.start([Milestone.FOLLOWUP], moment)
        self.event("followup_created", moment, actor, via, after={"followup": followup, "round": followup.round})
        first = self.work(moment, lognormal(self.rng, 3 * HOUR, 0.8))
        self.at(first, self.followup_try, followup, 1)

    def followup_try(self, moment: datetime.datetime, followup: Rec, attempt: int) -> None:
        """`followup_attempt` (not reached) or `followup_record` (the customer's answer)."""
        if followup.outcome:
            raise Stop
        rng = self.rng
        agent = self.desk()
        chance = FOLLOWUP_REACHED[0] if attempt == 1 else FOLLOWUP_REACHED[1]
        method = FOLLOWUP_METHOD(rng)
        if rng.random() < chance:
            self.followup_record(moment, followup, agent, method)
            return
        result = FAILED_ATTEMPT(rng)
        note = rng.choice(self.ctx.texts["attempt_notes"])
        attempt_row = Rec(followup_id=followup, at=moment, by_id=agent, method=method, result=result, note=note)
        self.attempts.append(attempt_row)
        self.event(
            "followup_attempt",
            moment,
            agent,
            Via.DESK,
            note=note,
            after={"followup": followup, "attempt": attempt_row, "method": method, "result": result},
        )
        followup.failed_days.add(moment.astimezone(self.ctx.zone).date())
        if len(followup.failed_days) >= settings.FOLLOWUP_MAX_ATTEMPTS:
            FOLLOWUP.move(followup, "unreachable", agent, checked=True)
            followup.method, followup.completed_at, followup.completed_by_id = method, moment, agent
            self.close([Milestone.FOLLOWUP], moment)
            self.event(
                "followup_unreachable",
                moment,
                agent,
                Via.DESK,
                after={"followup": followup, "outcome": followup.outcome, "days": len(followup.failed_days)},
            )
            self.maybe_close(moment)
            return
        later = self.work(self.clock.next_working_day(moment) if self.clock else moment, rng.uniform(0, 2) * HOUR)
        self.at(later, self.followup_try, followup, attempt + 1)

    def followup_record(self, moment: datetime.datetime, followup: Rec, agent: Any, method: str) -> None:
        rng, ctx = self.rng, self.ctx
        again = self.c.reopen_count > 0
        level = (ctx.levels_again if again else ctx.levels)(rng)
        solved = not level.reopens or rng.random() < 0.3
        satisfied = solved and not level.reopens
        kind = "satisfied" if level.counts_as_satisfied else ("unsatisfied" if not satisfied else "neutral")
        comments = rng.choice(ctx.texts["followup_comments"][kind])
        suggestions = rng.choice(ctx.texts["followup_suggestions"]) if rng.random() < FOLLOWUP_SUGGESTION_SHARE else ""
        attempt_row = Rec(
            followup_id=followup, at=moment, by_id=agent, method=method, result=AttemptResult.REACHED.value
        )
        self.attempts.append(attempt_row)
        self.event(
            "followup_attempt",
            moment,
            agent,
            Via.DESK,
            after={"followup": followup, "attempt": attempt_row, "method": method, "result": attempt_row.result},
        )
        followup.method, followup.solved, followup.satisfaction_id = method, solved, level.pk
        followup.comments, followup.suggestions = comments, suggestions
        FOLLOWUP.move(followup, "record_satisfied" if satisfied else "record_unsatisfied", agent, checked=True)
        followup.completed_at, followup.completed_by_id = moment, agent
        self.close([Milestone.FOLLOWUP], moment)
        self.event(
            "followup_recorded",
            moment,
            agent,
            Via.DESK,
            note=comments,
            after={
                "followup": followup,
                "method": method,
                "outcome": followup.outcome,
                "level": level.code,
                "level_label": level.label_zh,
                "scale": ctx.scale.code,
                "solved": solved,
                "suggestions": suggestions,
            },
        )
        if satisfied:
            self.maybe_close(moment)
            return
        from closeloop.followup.services.followups import reopen_reason

        self.complaint_reopen(moment, comments or reopen_reason(solved=solved, level=level), agent)

    def complaint_reopen(self, moment: datetime.datetime, reason: str, actor: Any) -> None:
        """`complaint_reopen`: reopened, the 3wd second-result clock, the escalation, and a new task for
        every department that had replied."""
        count = self.c.reopen_count + 1
        self.transition("reopen", moment, actor, values={"reopen_count": count}, note=reason)
        self.start([Milestone.SECOND_RESULT], moment)
        self.event(
            "escalated",
            moment,
            actor,
            Via.DESK,
            after={"role": "cs_supervisor", "to": self.ctx.supervisor_names, "reopen": count},
            note=reason,
        )
        latest: dict[int, Rec] = {}
        for task in self.tasks:
            if task.status == TaskStatus.REPLIED:
                latest[task.department_id] = task  # tasks are in dispatch order: the last one wins
        returning = sorted(latest.values(), key=lambda t: t.dispatched_at)
        for old in returning:
            self.task_create(moment, old.department, actor, handler=old.handler, instruction=reason, second_round=True)
        if not returning:
            delay = lognormal(self.rng, WORKING_DAY, 0.6)
            self.at(self.work(moment, delay), self.resolve, self.rng.choice(self.planned.texts["resolutions"]))

    def maybe_close(self, moment: datetime.datetime) -> None:
        """Close once the follow-up has an outcome and every feedback form is approved (the guards)."""
        if self._closing or self.c.status != Status.RESOLVED or not self.followups:
            return
        if self.followups[-1].outcome not in (FollowUpOutcome.SATISFIED, FollowUpOutcome.UNREACHABLE):
            return
        if any(f.status != FeedbackStatus.APPROVED for f in self.forms):
            return
        self._closing = True
        self.at(self.work(moment, lognormal(self.rng, HOUR, 0.8)), self.close_complaint)

    def close_complaint(self, moment: datetime.datetime) -> None:
        self._closing = False
        self.transition("close", moment, self.desk(), values={"closed_at": moment})
        due = moment + datetime.timedelta(days=settings.ARCHIVE_AFTER_DAYS)
        # The archive job runs hourly at minute 7.
        run = due.replace(minute=7, second=0, microsecond=0)
        if run < due:
            run += datetime.timedelta(hours=1)
        self.at(run, self.archive)

    def archive(self, moment: datetime.datetime) -> None:
        """`complaint_archive` by the hourly job: every clock still running is cancelled first."""
        self.close(None, moment, cancelled=True, include_tasks=True)
        self.transition("archive", moment, None, Via.SYSTEM, values={"archived_at": moment})

    # --- the SLA sweep and the mirrors ------------------------------------------------------------------

    def sweep(self) -> None:
        """What the minutely sweep recorded on each clock until it was met (or until now). A clock that
        was already past its warning point or deadline when it was written (a letter registered days
        after it arrived) is warned and escalated by the first sweep after that."""
        now = self.ctx.now
        for deadline in self.deadlines:
            until = deadline.met_at if deadline.met_at is not None else now
            if deadline.warn_at > until:
                continue
            due, created = deadline.due_at, deadline.created
            deadline.warned_at = max(deadline.warn_at, created)
            self._sweep_event("deadline_warned", deadline.warned_at, deadline, 0)
            if due > until:
                continue
            deadline.breached_at = deadline.escalated_at = max(due, created)
            deadline.escalation_level = 1
            self._sweep_event("deadline_breached", deadline.breached_at, deadline, 1)
            if self.clock is None:
                continue
            for level, moment in self.clock.escalations(due):
                if moment > until:
                    break
                deadline.escalation_level, deadline.escalated_at = level, max(moment, created)
                self._sweep_event("deadline_escalated", deadline.escalated_at, deadline, level)

    def _sweep_event(self, action: str, moment: datetime.datetime, deadline: Rec, level: int) -> None:
        after = {"milestone": deadline.milestone, "due_at": deadline.due_at.isoformat(), "level": level}
        self.event(action, moment, None, Via.SYSTEM, after=after)

    def mirror(self) -> None:
        """`next_due_at`/`next_warn_at` of the complaint and of each task: the nearest open clock."""
        for key, scope in [(None, self.open.get(None, {})), *((t, self.open.get(t, {})) for t in self.tasks)]:
            nearest = min(scope.values(), key=lambda d: d.due_at, default=None)
            target = self.c if key is None else key
            target.next_due_at = nearest.due_at if nearest else None
            target.next_warn_at = nearest.warn_at if nearest else None


def _attname(key: str) -> str:
    return {"duplicate_of": "duplicate_of_id"}.get(key, key)
