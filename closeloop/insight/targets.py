"""Changing the KPI targets (one form for all KPIs; management and admins)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from closeloop.core.errors import PermissionDeniedError, ValidationFailed
from closeloop.core.types import User
from closeloop.insight.models import Kpi, KpiTarget

TARGET_PERMISSION = "insight.change_kpitarget"
ONE_DECIMAL = Decimal("0.1")


def _checked(value: Any) -> tuple[Decimal | None, str]:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None, _("Enter a number.")
    if not number.is_finite():
        return None, _("Enter a number.")
    if not Decimal(0) <= number <= Decimal(100):
        return None, _("A target is a percentage from 0 to 100.")
    if number != number.quantize(ONE_DECIMAL):
        return None, _("Use at most one decimal.")
    return number.quantize(ONE_DECIMAL), ""


def kpi_targets_update(*, targets: dict[str, Any], actor: User) -> list[KpiTarget]:
    """Set the targets given (KPI code → percent, 0–100, one decimal); returns the rows that changed.
    All or nothing: one invalid value refuses the whole change."""
    if not actor.has_perm(TARGET_PERMISSION):
        raise PermissionDeniedError(_("You may not change the KPI targets."))
    errors: dict[str, list[str]] = {}
    values: dict[str, Decimal] = {}
    for kpi, value in targets.items():
        if kpi not in Kpi.values:
            errors.setdefault(kpi, []).append(_("Unknown KPI."))
            continue
        number, problem = _checked(value)
        if number is None:
            errors.setdefault(kpi, []).append(problem)
        else:
            values[kpi] = number
    if errors:
        raise ValidationFailed(errors)
    changed: list[KpiTarget] = []
    with transaction.atomic():
        rows = {t.kpi: t for t in KpiTarget.objects.select_for_update(no_key=True).filter(kpi__in=list(values))}
        now = timezone.now()
        for kpi, number in values.items():
            row = rows.get(kpi)
            if row is None:
                changed.append(KpiTarget.objects.create(kpi=kpi, target=number, updated_by=actor))
            elif row.target != number:
                row.target, row.updated_by, row.updated_at = number, actor, now
                row.save(update_fields=["target", "updated_by", "updated_at"])
                changed.append(row)
    return changed
