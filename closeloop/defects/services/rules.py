"""The early-warning rules: the default (3 complaints within 7 days, kpis.md) and one per product line.
A line's own rule wins over the default; an inactive own rule switches early warning off for the line.
Alerts already raised keep the threshold and window they were raised with."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from closeloop.core.errors import DomainError, PermissionDeniedError, ValidationFailed
from closeloop.core.types import User
from closeloop.defects.models import SpikeRule
from closeloop.defects.services.common import defect_event, may_edit_rules
from closeloop.directory.models import ProductLine

THRESHOLD_RANGE = (1, 999)
WINDOW_RANGE = (1, 365)
DEFAULT_CODE = "default"  # names the default rule in URLs and the API


@dataclass(frozen=True)
class RuleRow:
    """What applies to one product line (or, with `line` None, the default)."""

    line: ProductLine | None
    rule: SpikeRule | None  # the line's own rule, or the default row
    own: bool

    @property
    def code(self) -> str:
        return self.line.code if self.line is not None else DEFAULT_CODE


def rules_overview() -> list[RuleRow]:
    """The default first, then every product line with the rule that applies to it. Two queries."""
    rules = {r.product_line_id: r for r in SpikeRule.objects.all()}
    default = rules.get(None)
    rows = [RuleRow(line=None, rule=default, own=True)]
    for line in ProductLine.objects.order_by("code"):
        own = rules.get(line.pk)
        rows.append(RuleRow(line=line, rule=own or default, own=own is not None))
    return rows


def _check(actor: User | None) -> None:
    if not may_edit_rules(actor):
        raise PermissionDeniedError(_("Only quality may change the early-warning rules."))


def _snapshot(rule: SpikeRule | None) -> dict[str, object]:
    if rule is None:
        return {}
    return {"threshold": rule.threshold, "window_days": rule.window_days, "is_active": rule.is_active}


def spike_rule_set(
    *,
    product_line: ProductLine | None,
    threshold: int,
    window_days: int,
    is_active: bool,
    actor: User,
    via: str,
) -> SpikeRule:
    """Create or change the rule of a product line (None: the default rule)."""
    _check(actor)
    errors: dict[str, list[str]] = {}
    for name, value, (low, high) in (
        ("threshold", threshold, THRESHOLD_RANGE),
        ("window_days", window_days, WINDOW_RANGE),
    ):
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            errors[name] = [_("Enter a whole number from %(low)s to %(high)s.") % {"low": low, "high": high}]
    if errors:
        raise ValidationFailed(errors)
    now = timezone.now()
    with transaction.atomic():
        rule = SpikeRule.objects.select_for_update(no_key=True).filter(product_line=product_line).first()
        before = _snapshot(rule)
        if rule is None:
            rule = SpikeRule(product_line=product_line)
        rule.threshold, rule.window_days, rule.is_active = threshold, window_days, bool(is_active)
        after = _snapshot(rule)
        if before == after:
            return rule
        rule.save()
        defect_event(
            kind="rule_changed",
            at=now,
            actor=actor,
            data={
                "product_line": product_line.code if product_line else DEFAULT_CODE,
                "before": before,
                "after": after,
            },
            via=via,
        )
    return rule


def spike_rule_remove(*, product_line: ProductLine | None, actor: User, via: str) -> None:
    """The line goes back to the default rule."""
    _check(actor)
    if product_line is None:
        raise DomainError(_("The default rule cannot be removed; switch it off instead."), field="product_line")
    with transaction.atomic():
        rule = SpikeRule.objects.select_for_update(no_key=True).filter(product_line=product_line).first()
        if rule is None:
            raise DomainError(_("This product line has no rule of its own."), field="product_line")
        before = _snapshot(rule)
        rule.delete()
        defect_event(
            kind="rule_removed",
            at=timezone.now(),
            actor=actor,
            data={"product_line": product_line.code, "before": before},
            via=via,
        )
