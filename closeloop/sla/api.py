"""The working calendar (read) and the SLA policies, targets and selection rules (read by staff, changed
by administrators through closeloop/sla/policies.py)."""

from __future__ import annotations

import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Status
from pydantic import field_validator

from closeloop import authz
from closeloop.calendar.durations import Duration, InvalidDuration
from closeloop.calendar.working import FIRST_YEAR, LAST_YEAR, add
from closeloop.core.api_responses import ONE_ERRORS, ONE_WRITE_ERRORS, READ_ERRORS, WRITE_ERRORS
from closeloop.core.api_since import UpdatedSince, updated_since
from closeloop.core.errors import DomainError
from closeloop.core.schema import Schema
from closeloop.sla import policies as services
from closeloop.sla.loader import calendar_for_row
from closeloop.sla.models import Calendar, Policy, PolicyChange, PolicyRule
from closeloop.sla.presentation import describe_day

router = Router(tags=["calendar and SLA"])


class CalendarOut(Schema):
    code: str
    name: str
    time_zone: str
    windows: list[list[str]]
    six_day_week: bool
    missing_years: list[int] = Field(description="this year and the next without a holiday schedule (fallback used)")
    updated_at: datetime.datetime


class DayOut(Schema):
    date: datetime.date
    is_working: bool
    reason: str
    source: str
    description: str


def _in_calendar_years(value: datetime.date) -> datetime.date:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"must be between {FIRST_YEAR} and {LAST_YEAR}")
    return value


class DaysQuery(Schema):
    start: datetime.date
    end: datetime.date

    _years = field_validator("start", "end")(_in_calendar_years)


class DeadlineQuery(Schema):
    start: datetime.datetime = Field(description="ISO 8601 with offset, e.g. 2026-09-30T16:00+08:00; 2000 to 2100")
    duration: str = Field(max_length=12, description="30min, 24h, 2d, 4wh, 90wmin or 2wd")

    _years = field_validator("start")(_in_calendar_years)


class DeadlineComputed(Schema):
    start: datetime.datetime
    duration: str
    deadline: datetime.datetime


class TargetOut(Schema):
    milestone: str
    label: str
    urgent: str
    important: str
    normal: str


class PolicyRuleOut(Schema):
    id: int
    policy: str = Field(description="the policy's code")
    order: int = Field(description="rules are tried by order (then id); the first that matches wins")
    customer_kind: str = Field(description="end_user, deposit, dealer, store; empty = any")
    product_line: str | None = Field(description="product line code; null = any")
    service_kind: str = Field(
        description="a service order's kind (repair, return, exchange, installation, inspection, support, "
        "consultation): the rule selects only for service orders of that kind; empty = complaints and any kind"
    )
    is_active: bool
    updated_at: datetime.datetime


class PolicyOut(Schema):
    code: str
    name: str
    name_en: str
    calendar: str
    level_names: dict[str, list[str]]
    warning_fraction: float
    escalation: list[dict[str, Any]]
    is_default: bool
    is_active: bool
    targets: list[TargetOut]
    rules: list[PolicyRuleOut]
    updated_at: datetime.datetime = Field(description="the policy's own fields; its targets and rules have their own")


class PolicyEscalationStep(Schema):
    level: int = Field(ge=1)
    after: str = Field(max_length=12, description="time after the due instant, e.g. 0min, 4h")
    roles: list[str]


class PolicyTargetIn(Schema):
    urgent: str = Field(max_length=12, description="level 1, e.g. 30min, 2h, 4wh, 1wd")
    important: str = Field(max_length=12)
    normal: str = Field(max_length=12)


class PolicyIn(Schema):
    code: str = Field(max_length=40, pattern=r"^[-a-zA-Z0-9_]+$")
    name: str = Field(max_length=100)
    name_en: str = Field("", max_length=100)
    calendar: str = Field(max_length=40, description="a calendar's code")
    level_names: dict[str, list[str]] | None = None
    warning_fraction: float = Field(0.8, gt=0, lt=1)
    escalation: list[PolicyEscalationStep] | None = None
    is_default: bool = False
    targets: dict[str, PolicyTargetIn] | None = Field(
        None, description="by milestone; omitted = a copy of the default policy's targets"
    )


class PolicyPatch(Schema):
    name: str | None = Field(None, max_length=100)
    name_en: str | None = Field(None, max_length=100)
    calendar: str | None = Field(None, max_length=40)
    level_names: dict[str, list[str]] | None = None
    warning_fraction: float | None = Field(None, gt=0, lt=1)
    escalation: list[PolicyEscalationStep] | None = None
    is_default: bool | None = None
    is_active: bool | None = None


class PolicyRuleIn(Schema):
    policy: str = Field(max_length=40)
    order: int = Field(0, ge=0, le=32767)
    customer_kind: str = Field("", max_length=12)
    product_line: str = Field("", max_length=40)
    service_kind: str = Field("", max_length=14, description="a service order's kind; empty = any")


class PolicyRulePatch(Schema):
    policy: str | None = Field(None, max_length=40)
    order: int | None = Field(None, ge=0, le=32767)
    customer_kind: str | None = Field(None, max_length=12)
    product_line: str | None = Field(None, max_length=40)
    service_kind: str | None = Field(None, max_length=14)
    is_active: bool | None = None


class PolicyChangeOut(Schema):
    id: int
    at: datetime.datetime
    actor: str | None
    action: str = Field(description="created, changed, deactivated, target_set, target_removed, rule_added, …")
    before: dict[str, Any]
    after: dict[str, Any]
    updated_at: datetime.datetime = Field(description="a change is never changed: the time it was written")


def _calendar_out(row: Calendar) -> dict[str, Any]:
    today = datetime.date.today()
    calendar = calendar_for_row(row)
    return {
        "code": row.code,
        "name": row.label,
        "time_zone": row.time_zone,
        "windows": row.windows,
        "six_day_week": row.six_day_week,
        "missing_years": calendar.missing_years(today, datetime.date(today.year + 1, 12, 31)),
        "updated_at": row.updated_at,
    }


@router.get("/calendars", response={200: list[CalendarOut], **READ_ERRORS})
def calendar_list(request: HttpRequest, since: Query[UpdatedSince]) -> list[dict[str, Any]]:
    """The working calendars (time zone, working-hour windows, six-day week) and the years that still lack a
    holiday schedule. Any authenticated caller may read them."""
    return [_calendar_out(row) for row in updated_since(Calendar.objects.all(), since)]


@router.get("/calendars/{code}", response={200: CalendarOut, **ONE_ERRORS})
def calendar_detail(request: HttpRequest, code: str) -> dict[str, Any]:
    """One working calendar by its code, as in the list. An unknown code is a 404."""
    return _calendar_out(Calendar.objects.get(code=code))


@router.get("/calendars/{code}/days", response={200: list[DayOut], **ONE_ERRORS}, summary="Each day's status and why")
def calendar_days(request: HttpRequest, code: str, query: Query[DaysQuery]) -> list[dict[str, Any]]:
    """Whether each day between `start` and `end` (at most 366 days) is a working day, and why (weekend, public
    holiday, working weekend). An end before the start or a range too long is a 422 on `end`; an unknown
    calendar a 404."""
    if query.end < query.start or (query.end - query.start).days > 366:
        raise DomainError("end must be on or after start, at most 366 days later", field="end")
    calendar = calendar_for_row(Calendar.objects.get(code=code))
    days = []
    day = query.start
    while day <= query.end:
        status = calendar.day_status(day)
        days.append(
            {
                "date": day,
                "is_working": status.is_working,
                "reason": status.reason_code,
                "source": status.source,
                "description": describe_day(status),
            }
        )
        day += datetime.timedelta(days=1)
    return days


@router.get("/calendars/{code}/deadline", response={200: DeadlineComputed, **ONE_ERRORS}, summary="Compute a deadline")
def calendar_deadline(request: HttpRequest, code: str, query: Query[DeadlineQuery]) -> dict[str, Any]:
    """Computes the deadline `duration` (e.g. 2wd, 24h) after `start` on this calendar, as the SLA clocks would.
    A duration that does not parse is a 422 on `duration`; an unknown calendar a 404."""
    calendar = calendar_for_row(Calendar.objects.get(code=code))
    try:
        duration = Duration.parse(query.duration)
    except InvalidDuration as exc:
        raise DomainError(str(exc), field="duration") from None
    start = query.start if query.start.tzinfo else query.start.replace(tzinfo=calendar.tz)
    return {"start": start, "duration": query.duration, "deadline": add(calendar, start, duration)}


def _rule_out(rule: PolicyRule) -> dict[str, Any]:
    return {**services.rule_state(rule), "updated_at": rule.updated_at}


def _policy_out(policy: Policy) -> dict[str, Any]:
    return {
        "code": policy.code,
        "name": policy.label,
        "name_en": policy.name_en,
        "calendar": policy.calendar.code,
        "level_names": policy.level_names,
        "warning_fraction": float(policy.warning_fraction),
        "escalation": policy.escalation,
        "is_default": policy.is_default,
        "is_active": policy.is_active,
        "targets": [
            {
                "milestone": t.milestone,
                "label": str(t.get_milestone_display()),
                "urgent": t.urgent,
                "important": t.important,
                "normal": t.normal,
            }
            for t in policy.targets.all()
        ],
        "rules": [_rule_out(r) for r in policy.rules.all()],
        "updated_at": policy.updated_at,
    }


def _policies() -> Any:
    return Policy.objects.select_related("calendar").prefetch_related("targets", "rules__product_line", "rules__policy")


def _policy(code: str) -> Policy:
    return _policies().get(code=code)


@router.get("/policies", response={200: list[PolicyOut], **READ_ERRORS})
def policy_list(request: HttpRequest, since: Query[UpdatedSince]) -> list[dict[str, Any]]:
    """The SLA policies with their targets per milestone and priority and the rules that select them; needs
    sla.view_policies (403 otherwise)."""
    authz.require(request.user, "sla.view_policies")
    return [_policy_out(p) for p in updated_since(_policies(), since)]


@router.get("/policies/{code}", response={200: PolicyOut, **ONE_ERRORS})
def policy_detail(request: HttpRequest, code: str) -> dict[str, Any]:
    """One SLA policy by its code, with targets and rules; needs sla.view_policies. An unknown code is a 404."""
    authz.require(request.user, "sla.view_policies")
    return _policy_out(_policy(code))


@router.post("/policies", response={201: PolicyOut, **WRITE_ERRORS}, summary="Create a policy (administrators)")
def policy_create(request: HttpRequest, payload: PolicyIn) -> Status:
    """Creates an SLA policy with its targets; administrators only (sla.edit_policies, 403 otherwise). A code
    already in use is a 422; a bad duration or calendar a 422 naming the field."""
    values = payload.dict(exclude_none=True)
    targets = values.pop("targets", None)
    policy = services.policy_create(actor=request.user, targets=targets, **values)
    return Status(201, _policy_out(_policy(policy.code)))


@router.patch(
    "/policies/{code}",
    response={200: PolicyOut, **ONE_WRITE_ERRORS},
    summary="Change a policy (administrators); applies to complaints registered from now on",
)
def policy_update(request: HttpRequest, code: str, payload: PolicyPatch) -> dict[str, Any]:
    """Changes a policy's names, calendar, warning fraction or escalation; administrators only
    (sla.edit_policies). Applies to complaints registered from now on (running deadlines keep theirs); the
    change is logged (GET /policies/{code}/changes)."""
    services.policy_update(actor=request.user, policy=_policy(code), changes=payload.dict(exclude_unset=True))
    return _policy_out(_policy(code))


@router.delete(
    "/policies/{code}",
    response={200: PolicyOut, **ONE_WRITE_ERRORS},
    summary="Deactivate a policy (administrators): kept for the deadlines that use it, selected by no rule",
)
def policy_deactivate(request: HttpRequest, code: str) -> dict[str, Any]:
    """Deactivates a policy (administrators, sla.edit_policies): it is kept for the deadlines that use it and no
    rule selects it any more. The default policy cannot be deactivated (422)."""
    services.policy_deactivate(actor=request.user, policy=_policy(code))
    return _policy_out(_policy(code))


@router.put(
    "/policies/{code}/targets/{milestone}",
    response={200: PolicyOut, **ONE_WRITE_ERRORS},
    summary="Set a milestone's target durations (administrators)",
)
def policy_target_set(request: HttpRequest, code: str, milestone: str, payload: PolicyTargetIn) -> dict[str, Any]:
    """Sets the target durations of one milestone of a policy, per priority (administrators, sla.edit_policies).
    A duration that does not parse is a 422 on the field; an unknown policy or milestone a 404."""
    services.policy_target_set(actor=request.user, policy=_policy(code), milestone=milestone, durations=payload.dict())
    return _policy_out(_policy(code))


@router.delete(
    "/policies/{code}/targets/{milestone}",
    response={200: PolicyOut, **ONE_WRITE_ERRORS},
    summary="Remove a milestone's target (administrators); running deadlines keep theirs",
)
def policy_target_remove(request: HttpRequest, code: str, milestone: str) -> dict[str, Any]:
    """Removes a milestone's target from a policy (administrators, sla.edit_policies); running deadlines keep
    theirs. An unknown policy or milestone is a 404."""
    services.policy_target_remove(actor=request.user, policy=_policy(code), milestone=milestone)
    return _policy_out(_policy(code))


@router.get("/policies/{code}/changes", response={200: list[PolicyChangeOut], **ONE_ERRORS})
def policy_changes(request: HttpRequest, code: str, since: Query[UpdatedSince]) -> list[dict[str, Any]]:
    """The audit log of a policy: who created or changed it, its targets and rules, with the values before and
    after. Needs sla.view_policies; an unknown code is a 404."""
    authz.require(request.user, "sla.view_policies")
    policy = Policy.objects.get(code=code)
    return [
        {
            "id": change.pk,
            "at": change.at,
            "actor": change.actor.get_username() if change.actor else None,
            "action": change.action,
            "before": change.before,
            "after": change.after,
            "updated_at": change.at,
        }
        for change in updated_since(PolicyChange.objects.filter(policy=policy), since, field="at").select_related(
            "actor"
        )
    ]


def _rules() -> Any:
    return PolicyRule.objects.select_related("policy", "product_line").order_by("order", "id")


@router.get(
    "/policy-rules", response={200: list[PolicyRuleOut], **READ_ERRORS}, summary="The rules that select a policy"
)
def policy_rule_list(request: HttpRequest, since: Query[UpdatedSince]) -> list[dict[str, Any]]:
    """The rules that select a policy for a new complaint or service order (by customer kind, product line and
    service-order kind), in the order they are tried. Needs sla.view_policies."""
    authz.require(request.user, "sla.view_policies")
    return [_rule_out(rule) for rule in updated_since(_rules(), since)]


@router.post("/policy-rules", response={201: PolicyRuleOut, **WRITE_ERRORS}, summary="Add a rule (administrators)")
def policy_rule_add(request: HttpRequest, payload: PolicyRuleIn) -> Status:
    """Adds a rule selecting a policy (administrators, sla.edit_policies). An unknown policy, product line or
    service-order kind is a 422 naming the field."""
    rule = services.policy_rule_add(actor=request.user, **payload.dict())
    return Status(201, _rule_out(_rules().get(pk=rule.pk)))


@router.patch("/policy-rules/{rule_id}", response={200: PolicyRuleOut, **ONE_WRITE_ERRORS}, summary="Change a rule")
def policy_rule_update(request: HttpRequest, rule_id: int, payload: PolicyRulePatch) -> dict[str, Any]:
    """Changes a selection rule's order, conditions or policy (administrators, sla.edit_policies); logged on the
    policy. An unknown rule is a 404."""
    rule = services.policy_rule_update(
        actor=request.user, rule=_rules().get(pk=rule_id), changes=payload.dict(exclude_unset=True)
    )
    return _rule_out(_rules().get(pk=rule.pk))


@router.delete(
    "/policy-rules/{rule_id}",
    response={200: PolicyRuleOut, **ONE_WRITE_ERRORS},
    summary="Deactivate a rule (administrators)",
)
def policy_rule_deactivate(request: HttpRequest, rule_id: int) -> dict[str, Any]:
    """Deactivates a selection rule (administrators, sla.edit_policies); logged on the policy. An unknown rule is
    a 404."""
    rule = services.policy_rule_deactivate(actor=request.user, rule=_rules().get(pk=rule_id))
    return _rule_out(_rules().get(pk=rule.pk))
