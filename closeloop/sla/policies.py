"""Changing the SLA configuration: policies, their targets and the rules that select them.

Only administrators (authz `sla.edit_policies`). Each change locks the policy row, writes a
`PolicyChange` with the values before and after, and applies to complaints registered from then on:
deadlines already running keep the due instant they were given. Nothing that a deadline or a complaint
points at is ever deleted — a policy is deactivated (its rules stop selecting it), a rule too; the
default policy cannot be deactivated, and making another policy the default takes the flag from the
old one in the same transaction. A target holds no history of its own, so removing one deletes the row.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from closeloop import authz
from closeloop.calendar.durations import Duration, InvalidDuration
from closeloop.core.errors import DomainError, ValidationFailed
from closeloop.core.roles import Role
from closeloop.core.types import AnyUser
from closeloop.directory.models import CustomerKind, ProductLine, ServiceKind
from closeloop.sla.milestones import Milestone
from closeloop.sla.models import Calendar, Policy, PolicyChange, PolicyRule, PolicyTarget

LEVELS = ("urgent", "important", "normal")
POLICY_FIELDS = (
    "name",
    "name_en",
    "calendar",
    "level_names",
    "warning_fraction",
    "escalation",
    "is_default",
    "is_active",
)


def policy_state(policy: Policy) -> dict[str, Any]:
    return {
        "code": policy.code,
        "name": policy.name,
        "name_en": policy.name_en,
        "calendar": policy.calendar.code,
        "level_names": policy.level_names,
        "warning_fraction": str(policy.warning_fraction),
        "escalation": policy.escalation,
        "is_default": policy.is_default,
        "is_active": policy.is_active,
    }


def rule_state(rule: PolicyRule) -> dict[str, Any]:
    return {
        "id": rule.pk,
        "policy": rule.policy.code,
        "order": rule.order,
        "customer_kind": rule.customer_kind,
        "product_line": rule.product_line.code if rule.product_line else None,
        "service_kind": rule.service_kind,
        "is_active": rule.is_active,
    }


def _record(policy: Policy, actor: AnyUser | None, action: str, before: dict[str, Any], after: dict[str, Any]) -> None:
    PolicyChange.objects.create(
        policy=policy,
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        before=before,
        after=after,
    )


def _duration(value: str, field: str) -> str:
    try:
        Duration.parse(value)
    except InvalidDuration as exc:
        raise DomainError(str(exc), field=field) from None
    return value


def _check_values(values: dict[str, Any]) -> dict[str, Any]:
    """Validate and convert the policy fields given; every error at once."""
    errors: dict[str, list[str]] = {}
    clean = dict(values)
    for name, value in values.items():  # a JSON null for a field the policy always has
        if value is None:
            errors[name] = [_("This field cannot be empty.")]
    if "calendar" in values:
        calendar = Calendar.objects.filter(code=values["calendar"]).first()
        if calendar is None:
            errors["calendar"] = [_("Unknown calendar %(code)s.") % {"code": values["calendar"]}]
        clean["calendar"] = calendar
    if "warning_fraction" in values:
        try:
            fraction = Decimal(str(values["warning_fraction"])).quantize(Decimal("0.01"))
        except InvalidOperation:
            fraction = Decimal(0)
        if not Decimal(0) < fraction < Decimal(1):
            errors["warning_fraction"] = [_("The warning point is a share of the allowed time, above 0 and below 1.")]
        clean["warning_fraction"] = fraction
    if "level_names" in values:
        names = values["level_names"]
        if not isinstance(names, dict) or set(names) != {"1", "2", "3"}:
            errors["level_names"] = [_("Name the three levels 1, 2 and 3.")]
    if "escalation" in values:
        ladder = values["escalation"]
        roles = {role.value for role in Role}
        for step in ladder if isinstance(ladder, list) else [None]:
            if not isinstance(step, dict) or not isinstance(step.get("level"), int):
                errors["escalation"] = [_("Each rung of the ladder has a level, an after and roles.")]
                break
            try:
                Duration.parse(str(step.get("after", "")))
            except InvalidDuration as exc:
                errors["escalation"] = [str(exc)]
                break
            if not step.get("roles") or not set(step["roles"]) <= roles:
                errors["escalation"] = [_("Unknown role in the escalation ladder.")]
                break
    if errors:
        raise ValidationFailed(errors)
    return clean


def _locked(policy: Policy) -> Policy:
    return Policy.objects.select_for_update().select_related("calendar").get(pk=policy.pk)


def _take_default(policy: Policy, actor: AnyUser | None) -> None:
    for old in Policy.objects.select_for_update().filter(is_default=True).exclude(pk=policy.pk):
        before = policy_state(old)
        old.is_default = False
        old.save(update_fields=["is_default"])
        _record(old, actor, "changed", before, policy_state(old))


def policy_create(
    *,
    actor: AnyUser | None,
    code: str,
    name: str,
    calendar: str,
    name_en: str = "",
    targets: dict[str, dict[str, str]] | None = None,
    **values: Any,
) -> Policy:
    """A new policy; without `targets` it starts with a copy of the default policy's."""
    authz.require(actor, "sla.edit_policies")
    clean = _check_values({"calendar": calendar, **values})
    if Policy.objects.filter(code=code).exists():
        raise DomainError(_("A policy %(code)s exists already.") % {"code": code}, field="code")
    with transaction.atomic():
        policy = Policy.objects.create(code=code, name=name, name_en=name_en, **clean)
        if policy.is_default:
            _take_default(policy, actor)
        if targets is None:
            default = Policy.objects.filter(is_default=True).exclude(pk=policy.pk).first()
            source = default.targets.all() if default else []
            targets = {t.milestone: {level: getattr(t, level) for level in LEVELS} for t in source}
        rows = [_target_row(policy, milestone, durations) for milestone, durations in targets.items()]
        PolicyTarget.objects.bulk_create(rows)
        _record(policy, actor, "created", {}, {**policy_state(policy), "targets": targets})
    return policy


def policy_update(*, actor: AnyUser | None, policy: Policy, changes: dict[str, Any]) -> Policy:
    authz.require(actor, "sla.edit_policies")
    unknown = set(changes) - set(POLICY_FIELDS)
    if unknown:
        raise DomainError(_("These fields cannot be changed: %(names)s") % {"names": ", ".join(sorted(unknown))})
    clean = _check_values(changes)
    with transaction.atomic():
        policy = _locked(policy)
        if clean.get("is_default") is False and policy.is_default:
            raise DomainError(_("Make another policy the default instead."), field="is_default")
        if clean.get("is_active") is False and (policy.is_default or clean.get("is_default")):
            raise DomainError(_("The default policy cannot be deactivated."), field="is_active")
        if clean.get("is_default") and not clean.get("is_active", policy.is_active):
            raise DomainError(_("An inactive policy cannot be the default."), field="is_default")
        before = policy_state(policy)
        for name, value in clean.items():
            setattr(policy, name, value)
        after = policy_state(policy)
        if after == before:
            return policy
        policy.save()
        if policy.is_default and not before["is_default"]:
            _take_default(policy, actor)
        action = "deactivated" if before["is_active"] and not policy.is_active else "changed"
        _record(policy, actor, action, before, after)
    return policy


def policy_deactivate(*, actor: AnyUser | None, policy: Policy) -> Policy:
    """What DELETE does: the policy stays (deadlines and complaints point at it), no rule selects it."""
    return policy_update(actor=actor, policy=policy, changes={"is_active": False})


def _target_row(policy: Policy, milestone: str, durations: dict[str, str]) -> PolicyTarget:
    if milestone not in Milestone.values:
        raise DomainError(_("Unknown milestone %(value)s.") % {"value": milestone}, field="milestone")
    missing = [level for level in LEVELS if not durations.get(level)]
    if missing:
        raise DomainError(_("Give a duration for each level."), field=missing[0])
    return PolicyTarget(
        policy=policy,
        milestone=milestone,
        **{level: _duration(str(durations[level]), level) for level in LEVELS},
    )


def policy_target_set(
    *, actor: AnyUser | None, policy: Policy, milestone: str, durations: dict[str, str]
) -> PolicyTarget:
    authz.require(actor, "sla.edit_policies")
    row = _target_row(policy, milestone, durations)
    with transaction.atomic():
        policy = _locked(policy)
        target = PolicyTarget.objects.filter(policy=policy, milestone=milestone).first()
        before = {level: getattr(target, level) for level in LEVELS} if target else {}
        after = {level: getattr(row, level) for level in LEVELS}
        if before == after:
            return target  # type: ignore[return-value]  # equal values: the row exists
        if target is None:
            target = row
            target.save()
        else:
            PolicyTarget.objects.filter(pk=target.pk).update(**after)
            target.refresh_from_db()
        _record(policy, actor, "target_set", {"milestone": milestone, **before}, {"milestone": milestone, **after})
    return target


def policy_target_remove(*, actor: AnyUser | None, policy: Policy, milestone: str) -> None:
    """New complaints get no clock for this milestone under this policy; running deadlines keep theirs."""
    authz.require(actor, "sla.edit_policies")
    with transaction.atomic():
        policy = _locked(policy)
        target = PolicyTarget.objects.get(policy=policy, milestone=milestone)
        before = {"milestone": milestone, **{level: getattr(target, level) for level in LEVELS}}
        target.delete()
        _record(policy, actor, "target_removed", before, {})


def _rule_values(values: dict[str, Any]) -> dict[str, Any]:
    clean = dict(values)
    errors: dict[str, list[str]] = {}
    if "customer_kind" in values and values["customer_kind"] not in ("", *CustomerKind.values):
        errors["customer_kind"] = [_("Choose a complainant type from the list.")]
    if "service_kind" in values and values["service_kind"] not in ("", *ServiceKind.values):
        errors["service_kind"] = [_("Choose a service order kind from the list.")]
    if "product_line" in values:
        code = values["product_line"]
        clean["product_line"] = ProductLine.objects.filter(code=code).first() if code else None
        if code and clean["product_line"] is None:
            errors["product_line"] = [_("Unknown product line %(code)s.") % {"code": code}]
    if "policy" in values:
        clean["policy"] = Policy.objects.filter(code=values["policy"]).first()
        if clean["policy"] is None:
            errors["policy"] = [_("Unknown policy %(code)s.") % {"code": values["policy"]}]
    if errors:
        raise ValidationFailed(errors)
    return clean


NO_CONDITION = _lazy("A rule names a complainant type, a product line, a service order kind or several.")


def policy_rule_add(
    *,
    actor: AnyUser | None,
    policy: str,
    order: int = 0,
    customer_kind: str = "",
    product_line: str = "",
    service_kind: str = "",
) -> PolicyRule:
    """A rule selecting `policy` for a complainant type, a product line and/or a service order kind (first
    match by order wins; a rule naming a service order kind never selects for a complaint)."""
    authz.require(actor, "sla.edit_policies")
    clean = _rule_values(
        {"policy": policy, "customer_kind": customer_kind, "product_line": product_line, "service_kind": service_kind}
    )
    if not clean["customer_kind"] and clean["product_line"] is None and not clean["service_kind"]:
        raise DomainError(str(NO_CONDITION), field="customer_kind")
    if not clean["policy"].is_active:
        raise DomainError(_("The policy is not active."), field="policy")
    with transaction.atomic():
        _locked(clean["policy"])
        rule = PolicyRule.objects.create(order=order, **clean)
        _record(rule.policy, actor, "rule_added", {}, rule_state(rule))
    return rule


def policy_rule_update(*, actor: AnyUser | None, rule: PolicyRule, changes: dict[str, Any]) -> PolicyRule:
    authz.require(actor, "sla.edit_policies")
    unknown = set(changes) - {"policy", "order", "customer_kind", "product_line", "service_kind", "is_active"}
    if unknown:
        raise DomainError(_("These fields cannot be changed: %(names)s") % {"names": ", ".join(sorted(unknown))})
    for name in ("policy", "order", "is_active"):  # a JSON null for what every rule has
        if name in changes and changes[name] is None:
            raise DomainError(_("This field cannot be empty."), field=name)
    if "service_kind" in changes and changes["service_kind"] is None:  # null = any kind, as the empty string
        changes = {**changes, "service_kind": ""}
    clean = _rule_values(changes)
    with transaction.atomic():
        rule = (
            PolicyRule.objects.select_for_update(of=("self",)).select_related("policy", "product_line").get(pk=rule.pk)
        )
        before = rule_state(rule)
        for name, value in clean.items():
            setattr(rule, name, value)
        if not rule.customer_kind and rule.product_line_id is None and not rule.service_kind:
            raise DomainError(str(NO_CONDITION), field="customer_kind")
        if rule.is_active and not rule.policy.is_active:
            raise DomainError(_("The policy is not active."), field="policy")
        after = rule_state(rule)
        if after == before:
            return rule
        rule.save()
        action = "rule_deactivated" if before["is_active"] and not rule.is_active else "rule_changed"
        _record(rule.policy, actor, action, before, after)
    return rule


def policy_rule_deactivate(*, actor: AnyUser | None, rule: PolicyRule) -> PolicyRule:
    return policy_rule_update(actor=actor, rule=rule, changes={"is_active": False})
