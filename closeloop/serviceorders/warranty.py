"""Warranty status and the return policy check: pure rules, shown to the desk with the rule applied.

Warranty: a product's term is N whole months from the purchase date; the last day covered is the same
day of the month N months later (the month's last day when it has no such day: bought 31 January, 1
month → 28/29 February), inclusive. Judged on the day the order was received.
Return / exchange: within the product line's N days after purchase (the purchase day is day 0, the
N-th day after it still counts), in the policy's condition.
"""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass

from django.utils.translation import gettext as _


def add_months(day: datetime.date, months: int) -> datetime.date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class WarrantyStatus:
    # None: unknown (no purchase date, or the product has no warranty term).
    in_warranty: bool | None
    until: datetime.date | None
    rule: str


def warranty_status(*, purchase_date: datetime.date | None, months: int | None, on: datetime.date) -> WarrantyStatus:
    if purchase_date is None:
        return WarrantyStatus(None, None, _("No purchase date: the warranty cannot be judged."))
    if months is None:
        return WarrantyStatus(None, None, _("The product has no warranty term: the warranty cannot be judged."))
    until = add_months(purchase_date, months)
    inside = on <= until
    rule = _(
        "Bought %(bought)s + %(months)s months' warranty = covered until %(until)s inclusive; "
        "received %(on)s: %(verdict)s."
    ) % {
        "bought": purchase_date.isoformat(),
        "months": months,
        "until": until.isoformat(),
        "on": on.isoformat(),
        "verdict": _("in warranty") if inside else _("out of warranty"),
    }
    return WarrantyStatus(inside, until, rule)


@dataclass(frozen=True)
class PolicyCheck:
    ok: bool | None
    rule: str


def return_policy_check(
    *, purchase_date: datetime.date | None, days: int | None, condition: str, on: datetime.date
) -> PolicyCheck:
    if days is None:
        return PolicyCheck(None, _("The product line has no return policy: authorise by hand, with a reason."))
    if purchase_date is None:
        return PolicyCheck(None, _("No purchase date: the return policy cannot be checked."))
    last = purchase_date + datetime.timedelta(days=days)
    ok = on <= last
    rule = _("Within %(days)s days of purchase (%(bought)s, last day %(last)s); received %(on)s: %(verdict)s.") % {
        "days": days,
        "bought": purchase_date.isoformat(),
        "last": last.isoformat(),
        "on": on.isoformat(),
        "verdict": _("within the policy") if ok else _("outside the policy"),
    }
    if condition:
        rule += " " + _("Condition: %(condition)s.") % {"condition": condition}
    return PolicyCheck(ok, rule[:300])
