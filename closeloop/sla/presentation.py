"""Words for calendar days and deadline states, in the active language."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _

from closeloop.calendar.durations import Duration, InvalidDuration
from closeloop.calendar.working import DayReason, DaySource, DayStatus

SOURCE_LABELS = {
    DaySource.OVERRIDE: gettext_lazy("admin override"),
    DaySource.STATUTORY: gettext_lazy("statutory schedule"),
    DaySource.IMPORTED: gettext_lazy("imported schedule"),
    DaySource.FALLBACK: gettext_lazy("no schedule for this year: Monday to Friday assumed"),
}
REASON_LABELS = {
    DayReason.WORKDAY: gettext_lazy("working day"),
    DayReason.WEEKEND: gettext_lazy("weekend"),
    DayReason.HOLIDAY: gettext_lazy("holiday"),
    DayReason.MAKEUP_WORKDAY: gettext_lazy("make-up working day (调休)"),
}


def describe_day(status: DayStatus) -> str:
    """E.g. "holiday: National Day (statutory schedule)"."""
    name = status.holiday_name_zh if (get_language() or "").startswith("zh") and status.holiday_name_zh else ""
    detail = name or status.reason_text
    text = str(REASON_LABELS[status.reason_code])
    if (detail and status.reason_code in (DayReason.HOLIDAY, DayReason.MAKEUP_WORKDAY)) or (
        detail and status.source == DaySource.OVERRIDE
    ):
        text = f"{text}: {detail}"
    return f"{text} ({SOURCE_LABELS[status.source]})"


_DURATION_WORDS = {
    "min": lambda n: ngettext("%(n)s minute", "%(n)s minutes", n),
    "h": lambda n: ngettext("%(n)s hour", "%(n)s hours", n),
    "d": lambda n: ngettext("%(n)s day", "%(n)s days", n),
    "wmin": lambda n: ngettext("%(n)s working minute", "%(n)s working minutes", n),
    "wh": lambda n: ngettext("%(n)s working hour", "%(n)s working hours", n),
    "wd": lambda n: ngettext("%(n)s working day", "%(n)s working days", n),
}


def describe_duration(text: str) -> str:
    """A policy duration in words, in the unit it was written in: "2wd" → "2 working days" / "2 个工作日",
    "24h" → "24 hours" / "24 小时". The compact form stays what administrators type; readers see words.
    Text that is not a duration is shown as it is."""
    try:
        Duration.parse(text)
    except InvalidDuration:
        return text
    number, unit = re.fullmatch(r"\s*(\d+)\s*([a-z]+)\s*", text.lower()).groups()  # type: ignore[union-attr]  # parsed above
    n = int(number)
    return str(_DURATION_WORDS[unit](n) % {"n": n})


@dataclass(frozen=True)
class TimeLeft:
    """A badge: green while time is left, amber from the warning point, red once breached."""

    state: str  # ok | warning | breached | paused | none
    text: str
    due_at: datetime.datetime | None


def _span(delta: datetime.timedelta) -> str:
    minutes = int(abs(delta.total_seconds()) // 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return _("%(d)sd %(h)sh") % {"d": days, "h": hours}
    if hours:
        return _("%(h)sh %(m)smin") % {"h": hours, "m": mins}
    return _("%(m)smin") % {"m": mins}


def time_left(
    *,
    due_at: datetime.datetime | None,
    warn_at: datetime.datetime | None,
    paused: bool = False,
    now: datetime.datetime | None = None,
) -> TimeLeft:
    if paused:
        return TimeLeft("paused", _("paused: waiting for the customer"), None)
    if due_at is None:
        return TimeLeft("none", "", None)
    now = now or timezone.now()
    if now >= due_at:
        return TimeLeft("breached", _("overdue by %(span)s") % {"span": _span(now - due_at)}, due_at)
    state = "warning" if warn_at is not None and now >= warn_at else "ok"
    return TimeLeft(state, _("%(span)s left") % {"span": _span(due_at - now)}, due_at)


def deadline_state(
    *,
    due_at: datetime.datetime,
    warn_at: datetime.datetime | None,
    met_at: datetime.datetime | None,
    cancelled: bool,
    paused: bool = False,
    now: datetime.datetime | None = None,
) -> str:
    """ok | warning | breached | paused | met | cancelled: a deadline's state as the API states it."""
    if met_at is not None:
        return "cancelled" if cancelled else "met"
    return time_left(due_at=due_at, warn_at=warn_at, paused=paused, now=now).state
