"""Percentages as every figure shows them (kpis.md): one decimal, rounded half up."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def rate(numerator: int, denominator: int) -> Decimal | None:
    """Percent with one decimal, half up (5/6 → 83.3); None when there is nothing to count."""
    if not denominator:
        return None
    return (Decimal(numerator) * 100 / Decimal(denominator)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
