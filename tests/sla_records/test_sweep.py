"""The periodic sweep: warning at 80 %, breach at the deadline, escalation up the ladder — once each."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.db import connection

from closeloop.complaints.models import Event
from closeloop.complaints.sweeps import sla_sweep
from closeloop.core.roles import Role
from closeloop.notifications.models import Method, Notification
from closeloop.sla.models import Deadline
from tests.conftest import aware

MON_10 = aware(2026, 11, 23, 10, 0)


@pytest.fixture
def people(make_user, department):
    return {
        "supervisor": make_user(Role.CS_SUPERVISOR),
        "manager": make_user(Role.DEPT_MANAGER, departments=[department], manager=True),
        "other_manager": make_user(Role.DEPT_MANAGER, departments=[]),
        "gm": make_user(Role.MANAGEMENT),
    }


def actions(complaint) -> list[tuple[str, str, int]]:
    return [
        (e.action, e.after["milestone"], e.after["level"])
        for e in Event.objects.filter(complaint=complaint, action__startswith="deadline_").order_by("id")
    ]


@pytest.mark.django_db
def test_warning_then_breach_then_escalation_each_once(make_complaint, agent, people):
    # 紧急 acknowledge: 30min → warn at 10:24, due 10:30; level 2 after 4h → 14:30.
    complaint = make_complaint(priority=1, received_at=MON_10, now=MON_10)

    assert sla_sweep(now=aware(2026, 11, 23, 10, 23)).warned == 0
    result = sla_sweep(now=aware(2026, 11, 23, 10, 25))
    assert result.warned == 1
    assert sla_sweep(now=aware(2026, 11, 23, 10, 26)).warned == 0  # not twice

    result = sla_sweep(now=aware(2026, 11, 23, 10, 31))
    assert (result.breached, result.escalated) == (1, 0)
    result = sla_sweep(now=aware(2026, 11, 23, 14, 31))
    assert result.escalated == 1
    assert sla_sweep(now=aware(2026, 11, 23, 14, 32)).escalated == 0

    assert [a for a in actions(complaint) if a[1] == "acknowledge"] == [
        ("deadline_warned", "acknowledge", 0),
        ("deadline_breached", "acknowledge", 1),
        ("deadline_escalated", "acknowledge", 2),
    ]
    in_app = Notification.objects.filter(method=Method.IN_APP, complaint=complaint)
    # Warning to the assignee (the agent who registered it); breach to the department's manager and the
    # CS supervisor, not to another department's manager; escalation to management.
    assert set(in_app.filter(kind="deadline_warned").values_list("recipient", flat=True)) == {agent.pk}
    breach_to = set(
        in_app.filter(kind="deadline_breached", subject__contains="10:30").values_list("recipient", flat=True)
    )
    assert breach_to == {people["manager"].pk, people["supervisor"].pk}
    assert set(in_app.filter(kind="deadline_escalated").values_list("recipient", flat=True)) == {people["gm"].pk}
    # No personal data in staff notifications.
    assert not in_app.filter(body__contains=complaint.customer.phone).exists()


@pytest.mark.django_db
def test_met_and_paused_deadlines_are_not_swept(make_complaint, agent):
    from closeloop.complaints.services import complaint_transition, complaint_wait_for_customer

    met = make_complaint(priority=1, received_at=MON_10, now=MON_10)
    complaint_transition(
        complaint=met, action="resolve", actor=agent, via="desk", data={"resolution": "ok"}, now=MON_10
    )
    paused = make_complaint(priority=1, received_at=MON_10, now=MON_10)
    complaint_wait_for_customer(complaint=paused, reason="等回电", actor=agent, via="desk", now=MON_10)

    sla_sweep(now=aware(2026, 11, 30, 10, 0))

    swept = Event.objects.filter(action__startswith="deadline_")
    # The met clocks are never swept (only the follow-up clock that resolution started is); paused ones neither.
    assert {e.after["milestone"] for e in swept.filter(complaint=met)} <= {"followup"}
    assert not swept.filter(complaint=paused).exists()


@pytest.mark.django_db(transaction=True)
def test_two_workers_sweeping_at_once_record_each_warning_and_escalation_once(make_complaint, people):
    """Run on both databases; on PostgreSQL the two sweeps really overlap on separate connections."""
    complaints = [make_complaint(priority=1, received_at=MON_10, now=MON_10) for _ in range(30)]
    later = aware(2026, 11, 23, 15, 0)  # past warning, deadline and the 4 h escalation of acknowledge
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            sla_sweep(now=later)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    deadlines = Deadline.objects.filter(complaint__in=complaints, milestone="acknowledge")
    assert deadlines.count() == 30
    for complaint in complaints:
        events = actions(complaint)
        assert events.count(("deadline_warned", "acknowledge", 0)) == 1
        assert events.count(("deadline_breached", "acknowledge", 1)) == 1
        assert events.count(("deadline_escalated", "acknowledge", 2)) == 1
    # One management user, told once: a digest of the 30 escalated complaints rather than 30 messages
    # (acknowledge only: first_response is not 4 h late yet).
    digest = Notification.objects.get(kind="deadline_escalated", method=Method.IN_APP)
    assert digest.recipient == people["gm"] and "30" in digest.subject
    assert all(c.number in digest.body for c in complaints)


@pytest.mark.django_db
def test_sweep_with_nothing_due_writes_nothing(make_complaint, count_queries):
    make_complaint(priority=3, received_at=MON_10, now=MON_10)
    with count_queries() as ctx:
        result = sla_sweep(now=MON_10 + datetime.timedelta(minutes=1))
    assert (result.warned, result.breached, result.escalated) == (0, 0, 0)
    assert not any(q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE")) for q in ctx.captured_queries)
