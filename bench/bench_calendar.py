"""Micro-benchmark of the deadline arithmetic: computations per second for working days and working hours.

Run: .venv/bin/python bench/bench_calendar.py   (target: at least 50,000/s each)
"""

from __future__ import annotations

import datetime
import random
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from closeloop.calendar import WorkingCalendar, add, parse_duration, warning_at, working_time_between

TZ = ZoneInfo("Asia/Shanghai")
N = 100_000


def starts(count: int) -> list[datetime.datetime]:
    rng = random.Random(42)
    base = datetime.datetime(2026, 1, 1, tzinfo=TZ)
    return [base + datetime.timedelta(minutes=rng.randrange(0, 60 * 24 * 400)) for _ in range(count)]


def rate(label: str, func: object, moments: list[datetime.datetime]) -> float:
    begin = time.perf_counter()
    for moment in moments:
        func(moment)  # type: ignore[operator]
    per_second = len(moments) / (time.perf_counter() - begin)
    print(f"{label:<32} {per_second:>12,.0f} /s")
    return per_second


def main() -> None:
    calendar = WorkingCalendar()
    moments = starts(N)
    two_wd, four_wh, one_wh, day = (parse_duration(t) for t in ("2wd", "4wh", "1wh", "24h"))
    for moment in moments:  # warm the per-date cache, as a long-running worker would have it
        add(calendar, moment, two_wd)
    results = {
        "working days (2wd)": rate("working days (2wd)", lambda s: add(calendar, s, two_wd), moments),
        "working hours (4wh)": rate("working hours (4wh)", lambda s: add(calendar, s, four_wh), moments),
        "working hours (1wh)": rate("working hours (1wh)", lambda s: add(calendar, s, one_wh), moments),
        "calendar time (24h)": rate("calendar time (24h)", lambda s: add(calendar, s, day), moments),
    }
    rate("warning point (2wd)", lambda s: warning_at(calendar, s, two_wd), moments[: N // 4])
    later = [m + datetime.timedelta(days=3) for m in moments]
    pairs = iter(later)
    rate("working time between (3 days)", lambda s: working_time_between(calendar, s, next(pairs)), moments)
    slow = [label for label, value in results.items() if value < 50_000]
    print("target 50,000/s:", "met" if not slow else f"NOT met for {', '.join(slow)}")


if __name__ == "__main__":
    main()
