"""The soak's audit of the database after the run (also runnable alone: `python audit.py var/soak`).

Checks:
- no 5xx in either web process's access log (and none seen by the load generator);
- complaint numbers unique and gap-free per day, and each day's sequence row equal to its count;
- every write the load journaled left its event; every complaint has exactly one `registered` event;
- every deadline warning, breach and escalation recorded exactly once (one event per marker set, no
  marker without its event, no event twice);
- every outbox message delivered exactly once: none left pending/sending/failed, and each e-mail's
  Message-ID seen once in the mail sink.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()


def _child(env: dict[str, str], *args: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, str(HERE), *args], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"audit child failed: {out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def drain(env: dict[str, str], timeout: float) -> bool:
    """Wait until the outbox and the Huey queue are empty (workers still running)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = _child(env, "--state")
        if state["outbox_open"] == 0 and state["huey_pending"] == 0:
            return True
        time.sleep(3)
    return False


def baseline(env: dict[str, str], work: Path) -> dict[str, Any]:
    return _child(env, "--baseline", str(work))


def audit(env: dict[str, str], work: Path) -> dict[str, Any]:
    return _child(env, "--audit", str(work))


# --- in the child (Django configured from the environment) -----------------------------------------


def _setup() -> None:
    sys.path.insert(0, str(HERE.parents[2]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "closeloop.settings")
    import django

    django.setup()


def _baseline(work: Path) -> dict[str, Any]:
    from django.db.models import Sum
    from django.utils import timezone

    from closeloop.sla.models import Deadline

    data = {
        "started_at": timezone.now().isoformat(),
        "escalation_levels": Deadline.objects.aggregate(s=Sum("escalation_level"))["s"] or 0,
    }
    (work / "baseline.json").write_text(json.dumps(data))
    return data


def _state() -> dict[str, Any]:
    from huey.contrib.djhuey import HUEY

    from closeloop.notifications.models import Notification, State

    open_count = Notification.objects.filter(state__in=[State.PENDING, State.SENDING]).count()
    return {"outbox_open": open_count, "huey_pending": HUEY.pending_count()}


NUMBER = re.compile(r"^TS(\d{8})-(\d{4})$")


def _audit(work: Path) -> dict[str, Any]:
    from django.db.models import Count

    from closeloop.complaints.models import Complaint, DailySequence, Event
    from closeloop.notifications.models import Method, Notification, State
    from closeloop.serviceorders.models import ServiceEvent
    from closeloop.sla.models import Deadline

    problems: list[str] = []
    lines: list[str] = []

    # 1. No 5xx.
    statuses: Counter[str] = Counter()
    for log in work.glob("access-*.log"):
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            statuses[line.split(" ", 1)[0]] += 1
    server_5xx = sum(n for code, n in statuses.items() if code.startswith("5"))
    requests = sum(statuses.values())
    lines.append(f"requests served: {requests} ({dict(sorted(statuses.items()))})")
    if server_5xx:
        problems.append(f"{server_5xx} responses with a 5xx status")
    failures = work / "locust_failures.csv"
    if failures.exists():
        rows = failures.read_text(encoding="utf-8").splitlines()[1:]
        if rows:
            problems.append(f"the load generator saw failures: {rows[:5]}")
    if requests == 0:
        problems.append("no request was served")

    # 2. Numbering.
    numbers = list(Complaint.objects.values_list("number", flat=True))
    if len(numbers) != len(set(numbers)):
        problems.append("duplicate complaint numbers")
    per_day: dict[str, list[int]] = {}
    malformed: list[str] = []
    for number in numbers:
        match = NUMBER.match(number)
        if not match:
            malformed.append(number)
            continue
        per_day.setdefault(match.group(1), []).append(int(match.group(2)))
    if malformed:
        problems.append(f"{len(malformed)} malformed numbers, e.g. {malformed[:3]}")
    sequences = {f"{d:%Y%m%d}": last for d, last in DailySequence.objects.values_list("day", "last")}
    for day, seq in per_day.items():
        if sorted(seq) != list(range(1, len(seq) + 1)):
            problems.append(f"numbers of {day} are not 1..{len(seq)} without gaps")
        if sequences.get(day) != len(seq):
            problems.append(f"sequence of {day} is {sequences.get(day)}, {len(seq)} complaints")
    lines.append(f"complaints: {len(numbers)} over {len(per_day)} days, numbering checked")

    # 3. Every journaled write left its event; one birth event per complaint: `registered` at intake, or
    # `imported` for the history the demo loads through the import (closeloop/demo/triage_history.py).
    registered = Counter(
        dict(
            Event.objects.filter(action__in=["registered", "imported"])
            .values_list("complaint_id")
            .annotate(n=Count("id"))
        )
    )
    if any(n != 1 for n in registered.values()) or len(registered) != len(numbers):
        problems.append("a complaint without exactly one 'registered' or 'imported' event")
    journal = work / "journal.jsonl"
    writes = [json.loads(line) for line in journal.read_text(encoding="utf-8").splitlines()] if journal.exists() else []
    by_number = dict(Complaint.objects.filter(number__in={w["number"] for w in writes}).values_list("number", "id"))
    actions = {
        (cid, action)
        for cid, action in Event.objects.filter(complaint_id__in=by_number.values()).values_list(
            "complaint_id", "action"
        )
    }
    lost = [w for w in writes if (by_number.get(w["number"]), w["action"]) not in actions]
    lines.append(f"journaled writes: {len(writes)} ({dict(Counter(w['action'] for w in writes))}); lost: {len(lost)}")
    if lost:
        problems.append(f"{len(lost)} journaled writes have no event, e.g. {lost[:3]}")
    if not writes:
        problems.append("the load journaled no write")

    # 4. Warnings, breaches and escalations exactly once — those the sweeps made during the run (the
    # demo history was written with its markers already set).
    baseline = json.loads((work / "baseline.json").read_text())
    start = baseline["started_at"]
    # The one sweep marks the deadlines of both subjects; each subject's events are on its own timeline.
    timelines = (
        ("complaint", Event, "complaint_id"),
        ("service_order", ServiceEvent, "order_id"),
    )
    for kind, marker in (("deadline_warned", "warned_at"), ("deadline_breached", "breached_at")):
        for subject, events_of, _owner in timelines:
            marked = Deadline.objects.filter(**{f"{subject}__isnull": False, f"{marker}__gte": start}).count()
            events = events_of.objects.filter(action=kind, at__gte=start).count()
            lines.append(f"{kind} ({subject}): {marked} deadlines marked during the run, {events} events")
            if marked != events:
                problems.append(f"{kind} ({subject}): {marked} deadlines marked but {events} events")
    breached = 0
    key: Counter[tuple[str, Any, Any, Any, Any]] = Counter()
    for subject, events_of, owner in timelines:
        for event in events_of.objects.filter(action="deadline_escalated", at__gte=start).only(owner, "after"):
            after = event.after
            key[(subject, getattr(event, owner), after.get("milestone"), after.get("due_at"), after.get("level"))] += 1
        breached += events_of.objects.filter(action="deadline_breached", at__gte=start).count()
    escalated = sum(key.values())
    doubled = [k for k, n in key.items() if n > 1]
    levels = sum(Deadline.objects.values_list("escalation_level", flat=True)) - baseline["escalation_levels"]
    lines.append(f"escalations during the run: {escalated} events, {levels} levels climbed")
    if doubled:
        problems.append(f"{len(doubled)} escalations recorded twice")
    # A breach puts the deadline on level 1; each further level is one escalation.
    if breached + escalated != levels:
        problems.append(f"breaches {breached} + escalations {escalated} != levels climbed {levels}")

    # 5. Outbox exactly once.
    states = dict(Notification.objects.values_list("state").annotate(n=Count("id")))
    lines.append(f"outbox: {states}")
    stuck = sum(n for s, n in states.items() if s != State.SENT)
    if stuck:
        problems.append(f"{stuck} outbox messages not sent: {states}")
    emails_sent = Notification.objects.filter(method=Method.EMAIL, state=State.SENT).count()
    ids: Counter[str] = Counter()
    for path in (work / "mail").glob("*"):
        for match in re.finditer(r"^Message-ID: <notification-(\d+)@", path.read_text(errors="replace"), re.M):
            ids[match.group(1)] += 1
    lines.append(f"e-mails: {emails_sent} sent by the outbox, {len(ids)} distinct in the mail sink")
    if len(ids) != emails_sent:
        problems.append(f"{emails_sent} e-mails marked sent but {len(ids)} distinct delivered")
    twice = [i for i, n in ids.items() if n > 1]
    if twice:
        problems.append(f"{len(twice)} e-mails delivered more than once")
    return {"problems": problems, "lines": lines, "statuses": dict(statuses)}


if __name__ == "__main__":
    _setup()
    if sys.argv[1] == "--state":
        print(json.dumps(_state()))
    elif sys.argv[1] == "--baseline":
        print(json.dumps(_baseline(Path(sys.argv[2]))))
    else:
        print(json.dumps(_audit(Path(sys.argv[2])), ensure_ascii=False, default=str))
