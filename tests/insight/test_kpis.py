"""The KPI engine on small scenarios: rates, periods, a fixed number of queries whatever the data size,
breaches per department (through the SLA sweep), clocks met while paused, follow-ups not yet due, the
type tree, and who may see what."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User

from closeloop.complaints.models import Complaint
from closeloop.complaints.services import complaint_resume, complaint_transition, complaint_wait_for_customer
from closeloop.complaints.sweeps import sla_sweep
from closeloop.core.roles import Role
from closeloop.directory.models import ComplaintType, Department
from closeloop.handling.services.tasks import (
    Assignment,
    complaint_dispatch,
)
from closeloop.insight import kpis
from closeloop.insight.kpis import Cuts, Figure, Kpi, Period
from closeloop.sla.models import Deadline
from tests.insight.kpi_fixtures import make_staff
from tests.insight.month import at
from tests.insight.scenarios import handled

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(make_user: Callable[..., User]) -> dict[str, User]:
    return make_staff(make_user)


OCTOBER = Period.month(2026, 10)


# --- rates and periods ---------------------------------------------------------------------------


def test_rates_have_one_decimal_half_up() -> None:
    assert kpis.rate(5, 6) == Decimal("83.3")
    assert kpis.rate(4, 5) == Decimal("80.0")
    assert kpis.rate(1, 16) == Decimal("6.3")  # 6.25
    assert kpis.rate(2, 3) == Decimal("66.7")
    assert kpis.rate(0, 7) == Decimal("0.0")
    assert kpis.rate(0, 0) is None


def test_targets_of_lower_is_better_kpis_are_ceilings() -> None:
    assert Figure(Kpi.REPEAT, 1, 16, Decimal("5.0")).meets_target is False  # 6.3 % > 5 %
    assert Figure(Kpi.REPEAT, 1, 25, Decimal("5.0")).meets_target is True  # 4.0 %
    assert Figure(Kpi.TIMELY_REPLY, 5, 6, Decimal("83.3")).meets_target is True
    assert Figure(Kpi.TIMELY_REPLY, 5, 6, Decimal("90.0")).meets_target is False
    assert Figure(Kpi.TIMELY_REPLY, 0, 0, Decimal("90.0")).meets_target is None
    out = Figure(Kpi.COMMUNICATION, 4, 5, Decimal("95.0")).as_dict()
    assert out["numerator"] == 4 and out["denominator"] == 5 and out["rate"] == 80.0 and out["meets_target"] is False


def test_periods() -> None:
    february = Period.month(2026, 2)
    assert (february.start, february.end, february.label, february.is_month) == (
        datetime.date(2026, 2, 1),
        datetime.date(2026, 2, 28),
        "2026-02",
        True,
    )
    assert Period.month(2026, 1).previous() == Period.month(2025, 12)
    week = Period(datetime.date(2026, 10, 12), datetime.date(2026, 10, 18))
    assert not week.is_month
    assert week.previous() == Period(datetime.date(2026, 10, 5), datetime.date(2026, 10, 11))
    assert week.label == "2026-10-12–2026-10-18"
    assert [p.label for p in OCTOBER.previous_months(2)] == ["2026-08", "2026-09", "2026-10"]
    start, end = week.bounds
    assert start.isoformat() == "2026-10-12T00:00:00+08:00" and end.isoformat() == "2026-10-19T00:00:00+08:00"


# --- a fixed number of queries -------------------------------------------------------------------


def test_every_reading_costs_a_fixed_number_of_queries(
    make_complaint: Callable[..., Complaint], staff: dict[str, User], count_queries: Callable[[], Any]
) -> None:
    now = at(11, 2, 10)
    cuts = Cuts(handler=staff["h1"].pk, product_line=None)

    def measure() -> dict[str, int]:
        measured = {}
        readings: dict[str, Callable[[], Any]] = {
            "figures": lambda: kpis.kpi_figures(OCTOBER, now=now),
            "figures_cut": lambda: kpis.kpi_figures(OCTOBER, cuts, now=now),
            "by_department": lambda: kpis.kpi_table(OCTOBER, "department", now=now),
            "by_handler": lambda: kpis.kpi_table(OCTOBER, "handler", now=now),
            "drill": lambda: list(kpis.kpi_complaints(Kpi.TIMELY_REPLY, "denominator", OCTOBER, now=now)),
            "times": lambda: kpis.response_times(OCTOBER),
            "backlog": lambda: kpis.backlog(now=now),
            "breaches": lambda: kpis.breaches_by_department(OCTOBER),
        }
        for name, read in readings.items():
            with count_queries() as counter:
                result = read()
            assert result is not None
            measured[name] = counter.count
        return measured

    for day in (12, 13):
        handled(make_complaint, staff, day)
    small = measure()
    assert kpis.kpi_figures(OCTOBER, now=now, with_targets={})[Kpi.TIMELY_REPLY].denominator == 4
    for day in (14, 15, 16, 19, 20, 21):
        handled(make_complaint, staff, day)
    large = measure()
    assert kpis.kpi_figures(OCTOBER, now=now, with_targets={})[Kpi.TIMELY_REPLY].denominator == 16
    assert small == large
    # Four bases and the targets; a list is one query; the times two milestones × (count, median, p90).
    assert large["figures"] == large["figures_cut"] == 5
    assert large["by_department"] == large["by_handler"] == 5
    assert large["drill"] == 1
    assert large["times"] == 6
    assert large["backlog"] == large["breaches"] == 1


# --- breaches ------------------------------------------------------------------------------------


def test_breaches_by_the_department_that_owed_the_clock(
    make_complaint: Callable[..., Complaint], staff: dict[str, User]
) -> None:
    agent = staff["agent"]
    quality, production = Department.objects.get(code="quality"), Department.objects.get(code="production")
    # Quality's complaint, acknowledged at once, dispatched at 09:30 to quality (h1) and production (hp):
    # nobody verifies within the working hour (due 10:30).
    complaint = make_complaint(actor=agent, received_at=at(10, 12, 9), now=at(10, 12, 9))
    complaint_transition(complaint=complaint, action="acknowledge", actor=agent, via="desk", now=at(10, 12, 9, 10))
    complaint_dispatch(
        complaint=complaint,
        assignments=[Assignment(quality, staff["h1"]), Assignment(production, staff["hp"])],
        actor=agent,
        via="desk",
        now=at(10, 12, 9, 30),
    )
    # An urgent complaint (ack due 08:30, first response 10:00) breached, then found invalid: not counted.
    invalid = make_complaint(actor=agent, received_at=at(10, 12, 8), now=at(10, 12, 8), priority=1)
    sla_sweep(now=at(10, 12, 10, 45))
    complaint_transition(
        complaint=invalid, action="invalidate", actor=agent, via="desk", data={"reason": "广告"}, now=at(10, 12, 11)
    )
    assert Deadline.objects.filter(complaint=invalid, breached_at__isnull=False).count() == 2
    # The two verifications, one per department (rows in department order).
    assert kpis.breaches_by_department(OCTOBER) == sorted(
        [{"department": quality.pk, "breaches": 1}, {"department": production.pk, "breaches": 1}],
        key=lambda row: row["department"],
    )
    assert kpis.breaches_by_department(OCTOBER, Cuts(department=production.pk)) == [
        {"department": production.pk, "breaches": 1}
    ]
    # A sweep on 11-02: the complaint's first response (due 10-14 09:00) and resolution (10-15 09:00) are
    # quality's; each task's reply and progress clock (10-14 09:30) its department's. November, not October.
    sla_sweep(now=at(11, 2, 10))
    november = {row["department"]: row["breaches"] for row in kpis.breaches_by_department(Period.month(2026, 11))}
    assert november == {quality.pk: 4, production.pk: 2}
    assert len(kpis.breaches_by_department(OCTOBER)) == 2
    # By handler: h1's task clocks and the complaint's own clocks (h1 handles it); not hp's.
    mine = kpis.breaches_by_department(Period.month(2026, 11), Cuts(handler=staff["h1"].pk))
    assert mine == [{"department": quality.pk, "breaches": 4}]


# --- paused clocks, follow-ups not yet due, the type tree ----------------------------------------


def test_a_clock_met_while_paused_counts_as_met_when_the_pause_began(
    make_complaint: Callable[..., Complaint], staff: dict[str, User]
) -> None:
    agent = staff["agent"]
    # Received Mon 10-19 09:00: resolution due 3wd → 10-22 09:00. Waiting for the customer from 10-21 09:00
    # and resolved on 10-26 10:00 while still waiting: the clock stopped before its deadline → on time.
    complaint = make_complaint(actor=agent, received_at=at(10, 19, 9), now=at(10, 19, 9))
    complaint_transition(complaint=complaint, action="acknowledge", actor=agent, via="desk", now=at(10, 19, 9, 5))
    complaint_wait_for_customer(complaint=complaint, reason="等照片", actor=agent, via="desk", now=at(10, 21, 9))
    complaint_transition(
        complaint=complaint,
        action="resolve",
        actor=agent,
        via="desk",
        data={"resolution": "已处理"},
        now=at(10, 26, 10),
    )
    # Another complaint, received 10-26 09:00 and answered on the spot at 10:00 (on time).
    other = make_complaint(actor=agent, received_at=at(10, 26, 9), now=at(10, 26, 9))
    complaint_transition(
        complaint=other, action="resolve", actor=agent, via="desk", data={"resolution": "已处理"}, now=at(10, 26, 10)
    )
    figure = kpis.kpi_figures(OCTOBER, now=at(11, 2, 10), with_targets={})[Kpi.TIMELY_PROCESSING]
    assert (figure.numerator, figure.denominator) == (2, 2)
    # Follow-ups: the first complaint's was started while it still waits for the customer, so its clock is
    # paused (before its deadline): left out. The other's is due 2wd after 10-26 10:00 → 10-28 10:00: not
    # yet due on 10-27 (left out), overdue on 10-29.
    on_27th = kpis.kpi_figures(OCTOBER, now=at(10, 27, 12), with_targets={})[Kpi.FOLLOWUP_ON_TIME]
    assert (on_27th.numerator, on_27th.denominator) == (0, 0)
    on_29th = kpis.kpi_figures(OCTOBER, now=at(10, 29, 12), with_targets={})[Kpi.FOLLOWUP_ON_TIME]
    assert (on_29th.numerator, on_29th.denominator) == (0, 1)
    assert set(kpis.kpi_complaints(Kpi.FOLLOWUP_ON_TIME, "denominator", OCTOBER, now=at(10, 29, 12))) == {other}


def test_working_time_taken_leaves_out_the_pause(
    make_complaint: Callable[..., Complaint], staff: dict[str, User]
) -> None:
    agent = staff["agent"]
    # Mon 10-19 09:00 → Wed 10-21 13:00 is 8 + 8 + 3 = 19 working hours; waiting Tue 10-20 09:00 → Wed
    # 10-21 09:00 took 8 of them: 11 h of handling.
    complaint = make_complaint(actor=agent, received_at=at(10, 19, 9), now=at(10, 19, 9))
    complaint_wait_for_customer(complaint=complaint, reason="等照片", actor=agent, via="desk", now=at(10, 20, 9))
    complaint_resume(complaint=complaint, actor=agent, via="desk", now=at(10, 21, 9))
    complaint_transition(
        complaint=complaint,
        action="resolve",
        actor=agent,
        via="desk",
        data={"resolution": "已处理"},
        now=at(10, 21, 13),
    )
    times = {t.milestone: t for t in kpis.response_times(OCTOBER)}
    assert times["resolution"].median_hours == 11.0


def test_a_parent_type_includes_children_and_grandchildren(
    make_complaint: Callable[..., Complaint], staff: dict[str, User]
) -> None:
    quality = ComplaintType.objects.get(code="quality")
    child = ComplaintType.objects.create(code="lamp", name="灯具", name_en="Lamps", parent=quality)
    ComplaintType.objects.create(code="lamp-led", name="LED灯", name_en="LED lamps", parent=child)
    agent = staff["agent"]
    for code in ("quality", "lamp", "lamp-led", "service"):
        make_complaint(actor=agent, type_code=code, received_at=at(10, 12, 9), now=at(10, 12, 9))
    assert kpis.cohort(OCTOBER, Cuts(type=quality.pk)).count() == 3
    assert kpis.cohort(OCTOBER, Cuts(type=child.pk)).count() == 2


# --- who sees what -------------------------------------------------------------------------------


def test_who_may_read_kpis_and_their_scope(make_user: Callable[..., User]) -> None:
    quality, tech = Department.objects.get(code="quality"), Department.objects.get(code="tech")
    for role in (Role.MANAGEMENT, Role.CS_SUPERVISOR, Role.QUALITY, Role.AUDITOR, Role.ADMIN):
        user = make_user(role)
        assert kpis.can_view_kpis(user), role
        assert kpis.department_scope(user) is None, role
    manager = make_user(Role.DEPT_MANAGER, departments=[quality, tech], manager=True)
    assert kpis.can_view_kpis(manager)
    assert set(kpis.department_scope(manager) or ()) == {quality.pk, tech.pk}
    assert kpis.scoped(Cuts(department=tech.pk), manager).departments is not None
    for role in (Role.AGENT, Role.HANDLER):
        assert not kpis.can_view_kpis(make_user(role, departments=[quality])), role
