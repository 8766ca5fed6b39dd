"""Every KPI of kpis.md on the fixture month (tests/insight/month.py: October 2026, built through the
services), each numerator and denominator counted by hand from the stories written there.

KPIs are read at NOW = Monday 2026-11-02 10:00 (local). Notation below: `c01` … are the complaints of
month.py; `T1`… `V2` `U4` their department tasks.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from closeloop.complaints.models import Complaint
from closeloop.insight import kpis
from closeloop.insight.kpis import Cuts, Kpi, Period
from closeloop.sla.models import Deadline
from tests.insight.kpi_fixtures import make_month
from tests.insight.month import NOW, SHANGHAI, Month, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def month(make_user: Callable[..., Any], settings: Any) -> Month:
    return make_month(make_user, settings)


OCTOBER = Period.month(2026, 10)

TP, TR, COM, RR, SAT, REP, ACK, FOT, REO = (
    Kpi.TIMELY_PROCESSING,
    Kpi.TIMELY_REPLY,
    Kpi.COMMUNICATION,
    Kpi.RESULT_REPLY,
    Kpi.SATISFACTION,
    Kpi.REPEAT,
    Kpi.ACK_ON_TIME,
    Kpi.FOLLOWUP_ON_TIME,
    Kpi.REOPEN,
)

# The cohort: complaints received in October, without the invalid (xin) and the duplicate (xdp) ones.
COHORT = ("c01", "c02", "c03", "c04", "c05", "c06", "c07", "c08", "c09", "c10")
COHORT += ("c11", "c12", "c13", "c14", "c15", "c16")


def counts(cuts: Cuts = kpis.NO_CUTS, period: Period = OCTOBER) -> dict[Kpi, tuple[int, int]]:
    figures = kpis.kpi_figures(period, cuts, now=NOW, with_targets={})
    assert list(figures) == list(Kpi)
    return {kpi: (f.numerator, f.denominator) for kpi, f in figures.items()}


def numbers(qs: object) -> set[str]:
    return set(qs.values_list("number", flat=True))  # type: ignore[attr-defined]


# The whole company in October, counted by hand:
EVERY = {
    # Resolved: c01 c02 c03 c04 c05 c06 c07 c11 c12 c15 (10), on time all but c02 (late 10-15 > 10-14 09:00)
    # and c05 (late 10-19 14:00 > 09:30) → 8. Unresolved and past the deadline: c08 (10-29), c10 (10-26),
    # c14 (paused on 10-14, after its deadline of 10-13) → 3. Left out: c09 (due 11-04) and c16 (due 11-05)
    # are not yet due, c13 was paused before its deadline. 8 / (10 + 3) = 8/13.
    TP: (8, 13),
    # Tasks dispatched in October: h1 T1 T2 T3 T4 T5 on time, T6 late; T7 open and due 11-03 (left out),
    # T8 withdrawn (left out). h2: U1 on time, U2 never answered (due 10-28: counted, not on time), U4 due
    # 11-02 15:00 (left out). hp: V1 on time, V2 waiting for information since before its deadline (left
    # out). (5 + 1 + 1) / (6 + 2 + 1) = 7/9.
    TR: (7, 9),
    # Dispatched cohort complaints: c01–c10 (10). The handler side reached the customer on c01 (h1, task),
    # c02 (h1, from the complaint page), c03 (h1), c04 (hp), c06 (h1), c07 (h2) → 6. Not c05: h1's call had
    # no answer and the agent who reached the customer is customer service.
    COM: (6, 10),
    # Final result reported, no task open: c01–c06 → 6; c07 has the reopen's task U4 open, c08 U2/V2 open,
    # c09 T7 open, c10 nothing replied.
    RR: (6, 10),
    # Follow-ups completed in October with a rating: s1 (September's complaint, 满意 on 10-08), c15 非常满意,
    # c01 非常满意, c11 满意, c02 一般, c05 满意, c07 不满意 → satisfied 5 of 7. c03 was unreachable (no
    # rating), c06's came on 11-02, c04 and c12 were never done.
    SAT: (5, 7),
    # c12 (s1's customer and model, 17 days after s1 was resolved) of the 16 in the cohort.
    REP: (1, 16),
    # Acknowledged by the deadline: all but c15 (10-02 10:00 > 00:00) and c16 (not yet) → 14 of 16. c02 was
    # dispatched straight from registered at 09:30, which acknowledges it then, before its 11:00 deadline
    # (docs/decisions.md, issue 17, "dispatch from 已登记").
    ACK: (14, 16),
    # Follow-up clocks due in October: c15 (due 10-10, done 10-09), c01 (10-14 / 10-12), c12 (10-19, never),
    # c02 (10-19 / 10-20 late), c03 (10-20 09:00 / unreachable 08:30), c04 (10-20, never), c11 (10-20 /
    # 10-19), c05 (10-21 / 10-21 10:00), c06 (10-23 / 11-02 late), c07 (10-26 / 10-29 late) → 10, on time
    # c15 c01 c03 c11 c05 = 5. s1's was due on 09-30.
    FOT: (5, 10),
    # c07 was reopened; resolved in the cohort: the 10 of TP.
    REO: (1, 10),
}


def test_every_kpi_counted_by_hand(month: Month) -> None:
    assert counts() == EVERY
    figures = kpis.kpi_figures(OCTOBER, now=NOW, with_targets={})
    assert figures[TP].rate == Decimal("61.5")  # 8/13 = 61.538…
    assert figures[REP].rate == Decimal("6.3")  # 1/16 = 6.25, half up
    assert figures[ACK].rate == Decimal("87.5")  # 14/16


def test_the_sources_worked_examples(month: Month) -> None:
    # A handler with 6 tasks, 5 replied within 2 working days: h1 (T1–T5 on time, T6 late; T7 not yet due
    # and the withdrawn T8 left out).
    h1 = kpis.kpi_figures(OCTOBER, Cuts(handler=month.people["h1"].pk), now=NOW, with_targets={})[TR]
    assert (h1.numerator, h1.denominator, h1.rate) == (5, 6, Decimal("83.3"))
    # A product line with 5 dispatched complaints, the handlers in touch with the customer in 4: F1
    # (c01 c02 c03 c04 contacted, c05 not).
    f1 = kpis.kpi_figures(OCTOBER, Cuts(product_line=month.lines["F1"].pk), now=NOW, with_targets={})[COM]
    assert (f1.numerator, f1.denominator, f1.rate) == (4, 5, Decimal("80.0"))


def test_the_deadlines_the_hand_counts_rely_on(month: Month) -> None:
    """The instants the comments of month.py worked out, as the SLA engine stored them."""

    def due(key: str, milestone: str, task: str | None = None) -> datetime.datetime:
        row = Deadline.objects.get(
            complaint=month.complaints[key], milestone=milestone, task=month.tasks[task] if task else None
        )
        return row.due_at.astimezone(SHANGHAI)

    assert due("c01", "reply", "T1") == at(10, 10, 10)  # the make-up Saturday is the 2nd working day
    assert due("c01", "resolution") == at(10, 12, 9, 30)
    assert due("c15", "resolution") == at(10, 12, 9)  # received in the holiday: counted from 10-08 09:00
    assert due("c16", "resolution") == at(11, 5, 9)  # received on Saturday 10-31: counted from 11-02 09:00
    assert due("c07", "reply", "U4") == at(11, 2, 15)
    assert due("c14", "resolution") == at(10, 13, 9)
    assert due("c13", "resolution") == at(10, 29, 9)


def test_cohort_edges(month: Month) -> None:
    # 10-01 00:00 and 10-31 23:59 (a letter registered on 11-02) are October; 09-30 23:59 and 11-01 00:00 not.
    october = kpis.cohort(OCTOBER)
    assert numbers(october) == month.numbers(*COHORT)
    assert numbers(kpis.cohort(Period.month(2026, 9))) == month.numbers("s1", "e0")
    assert numbers(kpis.cohort(Period.month(2026, 11))) == month.numbers("e3")
    # The invalid complaint and the duplicate are in no cohort at all.
    assert Complaint.objects.get(pk=month.complaints["xin"].pk).status == "invalid"
    assert Complaint.objects.get(pk=month.complaints["xdp"].pk).status == "duplicate"
    # One day: 10-31 alone holds c16, 11-01 alone e3.
    assert numbers(kpis.cohort(Period(datetime.date(2026, 10, 31), datetime.date(2026, 10, 31)))) == month.numbers(
        "c16"
    )
    assert numbers(kpis.cohort(Period(datetime.date(2026, 11, 1), datetime.date(2026, 11, 1)))) == month.numbers("e3")
    start, end = OCTOBER.bounds
    assert start.astimezone(datetime.UTC) == datetime.datetime(2026, 9, 30, 16, tzinfo=datetime.UTC)
    assert end.astimezone(datetime.UTC) == datetime.datetime(2026, 10, 31, 16, tzinfo=datetime.UTC)


def test_not_yet_due_and_paused(month: Month) -> None:
    den = numbers(kpis.kpi_complaints(TP, "denominator", OCTOBER, now=NOW))
    # Open and not yet due (c09, c16), paused before the deadline (c13): left out; paused after it (c14): in.
    assert month.numbers("c14") <= den
    assert not month.numbers("c09", "c13", "c16") & den
    # Later, once their deadlines have passed (11-04 09:00 and 11-05 09:00), c09 and c16 count, unresolved;
    # c13 is still paused before its deadline. 8 / (13 + 2).
    later = kpis.kpi_figures(OCTOBER, now=at(11, 5, 9, 1), kpis=[TP], with_targets={})[TP]
    assert (later.numerator, later.denominator) == (8, 15)
    # And T7 (due 11-03 10:00) and U4 (due 11-02 15:00) join the timely reply rate, not answered: 7 / (9 + 2).
    later = kpis.kpi_figures(OCTOBER, now=at(11, 5, 9, 1), kpis=[TR], with_targets={})[TR]
    assert (later.numerator, later.denominator) == (7, 11)


def test_cuts(month: Month) -> None:
    ids = {k: p.pk for k, p in month.people.items()}
    lines, products, types = month.lines, month.products, month.types
    dept = month.departments

    # Product line F1 — c01 c02 c03 c04 c05 c11 c14 c15 c16 (9).
    # TP: resolved c01 c02 c03 c04 c05 c11 c15, on time all but c02 c05 → 5; c14 overdue; c16 not due → 5/8.
    # TR: T1 T2 T3 T4 V1 on time, T6 late → 5/6. COM 4/5 (the worked example). RR: c01–c05 all final → 5/5.
    # SAT: c15 ✓ c01 ✓ c11 ✓ c02 ✗ c05 ✓ → 4/5. REP 0/9. ACK: not c15 c16 → 7/9 (c02: acknowledged by its dispatch).
    # FOT: c15 ✓ c01 ✓ c02 ✗ c03 ✓ c04 ✗ c11 ✓ c05 ✓ → 5/7. REO: 0 of the 7 resolved.
    f1 = {TP: (5, 8), TR: (5, 6), COM: (4, 5), RR: (5, 5), SAT: (4, 5), REP: (0, 9), ACK: (7, 9), FOT: (5, 7)}
    assert counts(Cuts(product_line=lines["F1"].pk)) == {**f1, REO: (0, 7)}

    # Product line CL — c06 c07 c08 c09 c10 c12 c13 (7), and s1's follow-up (September's complaint).
    # TP: c06 c07 c12 on time; c08 c10 overdue; c09 not due; c13 paused → 3/5. TR: T5 ✓ U1 ✓ U2 ✗ → 2/3.
    # COM: c06 c07 of c06–c10 → 2/5. RR: c06 → 1/5. SAT: s1 ✓, c07 ✗ → 1/2. REP: c12 → 1/7. ACK 7/7.
    # FOT: c12 ✗ c06 ✗ c07 ✗ → 0/3. REO: c07 of c06 c07 c12 → 1/3. (F1 + CL add up to the whole company.)
    cl = {TP: (3, 5), TR: (2, 3), COM: (2, 5), RR: (1, 5), SAT: (1, 2), REP: (1, 7), ACK: (7, 7), FOT: (0, 3)}
    assert counts(Cuts(product_line=lines["CL"].pk)) == {**cl, REO: (1, 3)}

    # Product F1-B — c04 (T4, V1; follow-up never done) and c11 (answered on the spot, 满意).
    assert counts(Cuts(product=products["F1-B"].pk)) == {
        TP: (2, 2),
        TR: (2, 2),
        COM: (1, 1),
        RR: (1, 1),
        SAT: (1, 1),
        REP: (0, 2),
        ACK: (2, 2),
        FOT: (1, 2),
        REO: (0, 2),
    }

    # Province 浙江 — c02 (resolved late, T2 on time, contacted, 一般 late, acknowledged on time by its dispatch)
    # and c08 (overdue, U2 overdue, V2 paused, not contacted).
    assert counts(Cuts(province="浙江")) == {
        TP: (0, 2),
        TR: (1, 2),
        COM: (1, 2),
        RR: (1, 2),
        SAT: (0, 1),
        REP: (0, 2),
        ACK: (2, 2),
        FOT: (0, 1),
        REO: (0, 1),
    }

    # Channel e-mail — c07 alone: resolved on time, U1 on time (U4 not yet due), contacted, not final
    # (U4 open), 不满意 (follow-up late), reopened.
    c07 = {TP: (1, 1), TR: (1, 1), COM: (1, 1), RR: (0, 1), SAT: (0, 1), REP: (0, 1), ACK: (1, 1), FOT: (0, 1)}
    assert counts(Cuts(channel="email")) == {**c07, REO: (1, 1)}

    # c02 alone, whichever of its attributes cuts: 重要, web, dealer. Resolved late, T2 on time, contacted,
    # final, 一般, acknowledged on time (by its dispatch from registered, 09:30 < 11:00), follow-up late.
    c02 = {TP: (0, 1), TR: (1, 1), COM: (1, 1), RR: (1, 1), SAT: (0, 1), REP: (0, 1), ACK: (1, 1), FOT: (0, 1)}
    for cut in (Cuts(priority=2), Cuts(channel="web"), Cuts(customer_kind="dealer")):
        assert counts(cut) == {**c02, REO: (0, 1)}, cut

    # 紧急 — c14 alone: overdue and waiting; acknowledged in time; nothing else to count.
    empty = dict.fromkeys(Kpi, (0, 0))
    assert counts(Cuts(priority=1)) == {**empty, TP: (0, 1), REP: (0, 1), ACK: (1, 1)}

    # Store — c04: on time, T4 and V1 on time, hp contacted, final, follow-up never done.
    c04 = {TP: (1, 1), TR: (2, 2), COM: (1, 1), RR: (1, 1), SAT: (0, 0), REP: (0, 1), ACK: (1, 1), FOT: (0, 1)}
    assert counts(Cuts(customer_kind="store")) == {**c04, REO: (0, 1)}

    # Type quality (the parent) includes its child quality-light (c03): everything but c11 (service).
    # TP 8-1 / 13-1; SAT: 5-1 / 7-1 (c11 was 满意); ACK 14-1 / 16-1; FOT 5-1 / 10-1; REO 1 / 10-1.
    quality = {TP: (7, 12), TR: (7, 9), COM: (6, 10), RR: (6, 10), SAT: (4, 6), REP: (1, 15), ACK: (13, 15)}
    assert counts(Cuts(type=types["quality"].pk)) == {**quality, FOT: (4, 9), REO: (1, 9)}
    # The child alone: c03 (on time, T3 on time, contacted, final, unreachable but on time).
    c03 = {TP: (1, 1), TR: (1, 1), COM: (1, 1), RR: (1, 1), SAT: (0, 0), REP: (0, 1), ACK: (1, 1), FOT: (1, 1)}
    assert counts(Cuts(type=types["quality-light"].pk)) == {**c03, REO: (0, 1)}
    # Service: c11, answered on the spot.
    c11 = {TP: (1, 1), TR: (0, 0), COM: (0, 0), RR: (0, 0), SAT: (1, 1), REP: (0, 1), ACK: (1, 1), FOT: (1, 1)}
    assert counts(Cuts(type=types["service"].pk)) == {**c11, REO: (0, 1)}

    # Department, for complaints the responsible one, for tasks their own:
    # quality — every cohort complaint but c08 (production) and c11 (customer service): 14.
    # TP: resolved 9 (c01 c02 c03 c04 c05 c06 c07 c12 c15), on time 7; overdue c10 c14 → 7/11.
    # TR: quality's tasks T1–T6, U1, U2 (on c08, a production complaint) → 6/8.
    # COM: c01–c07 c09 c10 dispatched, contacted c01 c02 c03 c04 c06 c07 → 6/9. RR: c01–c06 → 6/9.
    # SAT: s1 ✓ c15 ✓ c01 ✓ c02 ✗ c05 ✓ c07 ✗ → 4/6. REP 1/14. ACK: 14 minus c08 and c11 → 12/14.
    # FOT: c15 ✓ c01 ✓ c12 ✗ c02 ✗ c03 ✓ c04 ✗ c05 ✓ c06 ✗ c07 ✗ → 4/9. REO 1/9.
    q = {TP: (7, 11), TR: (6, 8), COM: (6, 9), RR: (6, 9), SAT: (4, 6), REP: (1, 14), ACK: (12, 14), FOT: (4, 9)}
    assert counts(Cuts(department=dept["quality"].pk)) == {**q, REO: (1, 9)}
    # production — c08 (overdue, not contacted, not final, acknowledged); its tasks V1 (on time) and V2
    # (paused, left out).
    p = {TP: (0, 1), TR: (1, 1), COM: (0, 1), RR: (0, 1), SAT: (0, 0), REP: (0, 1), ACK: (1, 1), FOT: (0, 0)}
    assert counts(Cuts(department=dept["production"].pk)) == {**p, REO: (0, 0)}
    # customer service — c11.
    assert counts(Cuts(department=dept["cs"].pk)) == {**c11, REO: (0, 1)}
    # A manager's scope (several departments): quality + production = everything but c11.
    both = counts(Cuts(departments=(dept["quality"].pk, dept["production"].pk)))
    assert both[TP] == (7, 12) and both[TR] == (7, 9) and both[ACK] == (13, 15)

    # Handler — the complaints they have a (not withdrawn) task on, and their own tasks:
    # h1: c01 c02 c03 c04 c05 c06 c09 (not c10: T8 was withdrawn).
    # TP: resolved c01–c06, late c02 c05; c09 not due → 4/6. TR 5/6. COM: c01 c02 c03 c04 c06 → 5/7.
    # RR: c01–c06 → 6/7. SAT: c01 ✓ c02 ✗ c05 ✓ → 2/3. ACK: all, c02 by its dispatch → 7/7.
    # FOT: c01 ✓ c02 ✗ c03 ✓ c04 ✗ c05 ✓ c06 ✗ → 3/6. REO 0/6.
    h1 = {TP: (4, 6), TR: (5, 6), COM: (5, 7), RR: (6, 7), SAT: (2, 3), REP: (0, 7), ACK: (7, 7), FOT: (3, 6)}
    assert counts(Cuts(handler=ids["h1"])) == {**h1, REO: (0, 6)}
    # h2: c07 (U1, U4) and c08 (U2). TP c07 ✓ c08 overdue; TR U1 ✓ U2 ✗; COM c07; RR none; SAT c07 ✗;
    # FOT c07 late; REO c07 of c07.
    h2 = {TP: (1, 2), TR: (1, 2), COM: (1, 2), RR: (0, 2), SAT: (0, 1), REP: (0, 2), ACK: (2, 2), FOT: (0, 1)}
    assert counts(Cuts(handler=ids["h2"])) == {**h2, REO: (1, 1)}
    # hp: c04 (V1) and c08 (V2).
    hp = {TP: (1, 2), TR: (1, 1), COM: (1, 2), RR: (1, 2), SAT: (0, 0), REP: (0, 2), ACK: (2, 2), FOT: (0, 1)}
    assert counts(Cuts(handler=ids["hp"])) == {**hp, REO: (0, 1)}

    # Two cuts at once: h1's F1 complaints are c01–c05 (TP: c01 c03 c04 on time, c02 c05 late).
    both_cuts = counts(Cuts(handler=ids["h1"], product_line=lines["F1"].pk))
    assert both_cuts[TP] == (3, 5) and both_cuts[TR] == (4, 5) and both_cuts[COM] == (4, 5)


def test_drill_down(month: Month) -> None:
    def drill(kpi: Kpi, side: str, cuts: Cuts = kpis.NO_CUTS) -> set[str]:
        return numbers(kpis.kpi_complaints(kpi, side, OCTOBER, cuts, now=NOW))

    resolved = ("c01", "c02", "c03", "c04", "c05", "c06", "c07", "c11", "c12", "c15")
    on_time = ("c01", "c03", "c04", "c06", "c07", "c11", "c12", "c15")
    assert drill(TP, "numerator") == month.numbers(*on_time)
    assert drill(TP, "denominator") == month.numbers(*resolved, "c08", "c10", "c14")
    # Through their tasks: T1–T5, U1, V1 on time; T6 (c05) and U2 (c08) not.
    assert drill(TR, "numerator") == month.numbers("c01", "c02", "c03", "c04", "c06", "c07")
    assert drill(TR, "denominator") == month.numbers("c01", "c02", "c03", "c04", "c05", "c06", "c07", "c08")
    assert drill(COM, "numerator") == month.numbers("c01", "c02", "c03", "c04", "c06", "c07")
    assert drill(COM, "denominator") == month.numbers(*[f"c{n:02d}" for n in range(1, 11)])
    assert drill(RR, "numerator") == month.numbers("c01", "c02", "c03", "c04", "c05", "c06")
    # Through their follow-ups, September's s1 included.
    assert drill(SAT, "numerator") == month.numbers("s1", "c15", "c01", "c11", "c05")
    assert drill(SAT, "denominator") == month.numbers("s1", "c15", "c01", "c11", "c05", "c02", "c07")
    assert drill(REP, "numerator") == month.numbers("c12")
    assert drill(REP, "denominator") == month.numbers(*COHORT)
    # c02 is in: its dispatch from registered acknowledged it on time.
    assert drill(ACK, "numerator") == month.numbers(*COHORT) - month.numbers("c15", "c16")
    assert drill(FOT, "numerator") == month.numbers("c15", "c01", "c03", "c11", "c05")
    assert drill(FOT, "denominator") == month.numbers(*resolved)
    assert drill(REO, "numerator") == month.numbers("c07")
    assert drill(REO, "denominator") == month.numbers(*resolved)
    # The worked examples' lists.
    h1 = Cuts(handler=month.people["h1"].pk)
    assert drill(TR, "numerator", h1) == month.numbers("c01", "c02", "c03", "c04", "c06")
    assert drill(TR, "denominator", h1) == month.numbers("c01", "c02", "c03", "c04", "c05", "c06")
    f1 = Cuts(product_line=month.lines["F1"].pk)
    assert drill(COM, "denominator", f1) == month.numbers("c01", "c02", "c03", "c04", "c05")
    assert drill(COM, "numerator", f1) == month.numbers("c01", "c02", "c03", "c04")
    # Every list agrees with its count where one complaint is one row, and no list ever holds the invalid
    # or the duplicate complaint.
    excluded = month.numbers("xin", "xdp")
    for kpi in Kpi:
        for side in ("numerator", "denominator"):
            assert not drill(kpi, side) & excluded, (kpi, side)
    for kpi in (TP, COM, RR, REP, ACK, REO):
        assert len(drill(kpi, "numerator")) == EVERY[kpi][0]
        assert len(drill(kpi, "denominator")) == EVERY[kpi][1]
    with pytest.raises(ValueError):
        kpis.kpi_complaints(TP, "sideways", OCTOBER, now=NOW)


def test_tables_by_department_and_by_handler(month: Month) -> None:
    def as_counts(row: dict[Kpi, kpis.Figure]) -> dict[Kpi, tuple[int, int]]:
        assert list(row) == list(Kpi)
        return {kpi: (f.numerator, f.denominator) for kpi, f in row.items()}

    dept = month.departments
    table = kpis.kpi_table(OCTOBER, "department", now=NOW)
    assert set(table) == {dept["quality"].pk, dept["production"].pk, dept["cs"].pk}
    # The same hand counts as the cuts (test_cuts): quality, production, customer service.
    q = {TP: (7, 11), TR: (6, 8), COM: (6, 9), RR: (6, 9), SAT: (4, 6), REP: (1, 14), ACK: (12, 14), FOT: (4, 9)}
    assert as_counts(table[dept["quality"].pk]) == {**q, REO: (1, 9)}
    p = {TP: (0, 1), TR: (1, 1), COM: (0, 1), RR: (0, 1), SAT: (0, 0), REP: (0, 1), ACK: (1, 1), FOT: (0, 0)}
    assert as_counts(table[dept["production"].pk]) == {**p, REO: (0, 0)}
    c11 = {TP: (1, 1), TR: (0, 0), COM: (0, 0), RR: (0, 0), SAT: (1, 1), REP: (0, 1), ACK: (1, 1), FOT: (1, 1)}
    assert as_counts(table[dept["cs"].pk]) == {**c11, REO: (0, 1)}
    # Departments partition the company: the rows add up to the whole.
    for kpi in Kpi:
        assert sum(row[kpi].numerator for row in table.values()) == EVERY[kpi][0]
        assert sum(row[kpi].denominator for row in table.values()) == EVERY[kpi][1]

    people = month.people
    table = kpis.kpi_table(OCTOBER, "handler", now=NOW)
    assert set(table) == {people["h1"].pk, people["h2"].pk, people["hp"].pk}
    h1 = {TP: (4, 6), TR: (5, 6), COM: (5, 7), RR: (6, 7), SAT: (2, 3), REP: (0, 7), ACK: (7, 7), FOT: (3, 6)}
    assert as_counts(table[people["h1"].pk]) == {**h1, REO: (0, 6)}
    h2 = {TP: (1, 2), TR: (1, 2), COM: (1, 2), RR: (0, 2), SAT: (0, 1), REP: (0, 2), ACK: (2, 2), FOT: (0, 1)}
    assert as_counts(table[people["h2"].pk]) == {**h2, REO: (1, 1)}
    hp = {TP: (1, 2), TR: (1, 1), COM: (1, 2), RR: (1, 2), SAT: (0, 0), REP: (0, 2), ACK: (2, 2), FOT: (0, 1)}
    assert as_counts(table[people["hp"].pk]) == {**hp, REO: (0, 1)}
    assert table[people["h1"].pk][TR].rate == Decimal("83.3")
    # Cut and grouped at once: quality's handlers only.
    quality_only = kpis.kpi_table(OCTOBER, "handler", Cuts(department=dept["quality"].pk), now=NOW)
    assert quality_only[people["h1"].pk][TR].denominator == 6
    # hp has a task on c04, a quality complaint (its on-time resolution counts for hp), but none of
    # quality's tasks.
    assert quality_only[people["hp"].pk][TP].numerator == quality_only[people["hp"].pk][TP].denominator == 1
    assert quality_only[people["hp"].pk][TR].denominator == 0


def test_response_times_backlog_and_scope(month: Month) -> None:
    # Working time from receipt to resolution, stored when the clocks were met (first response and
    # resolution are met together, at resolution): c11 20 min, c12 1 h, c15 1 h (across the National Day
    # holiday: only 10-08 09:00–10:00 counts), c06 16 h, c07 16 h, c04 17 h, c03 20 h, c01 23.5 h (the
    # make-up Saturday 10-10 counts, Sunday 10-11 does not), c02 25 h, c05 27.5 h (across a weekend).
    worked = dict(
        Deadline.objects.filter(
            milestone="resolution", complaint__in=kpis.cohort(OCTOBER), worked_seconds__isnull=False
        ).values_list("complaint__number", "worked_seconds")
    )
    hours = {month.key_of(number): seconds / 3600 for number, seconds in worked.items()}
    assert hours == {
        "c11": 1 / 3,
        "c12": 1,
        "c15": 1,
        "c06": 16,
        "c07": 16,
        "c04": 17,
        "c03": 20,
        "c01": 23.5,
        "c02": 25,
        "c05": 27.5,
    }
    # Nearest rank over the 10 sorted values: median = the ceil(0.5 × 10) = 5th = 16 h; p90 = the 9th = 25 h.
    times = {t.milestone: t for t in kpis.response_times(OCTOBER)}
    resolution = times["resolution"]
    assert (resolution.count, resolution.median_hours, resolution.p90_hours) == (10, 16.0, 25.0)
    # The first reached contact meets the first-response clock, so it is never later than the resolution.
    first = dict(
        Deadline.objects.filter(
            milestone="first_response", complaint__in=kpis.cohort(OCTOBER), worked_seconds__isnull=False
        ).values_list("complaint__number", "worked_seconds")
    )
    assert set(worked) <= set(first)
    assert all(first[number] <= worked[number] for number in worked)
    ranked = sorted(first.values())
    expected = (len(ranked), round(ranked[math.ceil(0.5 * len(ranked)) - 1] / 3600, 1))
    assert (times["first_response"].count, times["first_response"].median_hours) == expected
    # F1 only: c11 0.33, c15 1, c04 17, c03 20, c01 23.5, c02 25, c05 27.5 → median the 4th (20), p90 the 7th.
    f1 = {t.milestone: t for t in kpis.response_times(OCTOBER, Cuts(product_line=month.lines["F1"].pk))}
    assert (f1["resolution"].count, f1["resolution"].median_hours, f1["resolution"].p90_hours) == (7, 20.0, 27.5)

    # Open clocks at NOW, per milestone (every complaint, not only October's; invalid/duplicate left out):
    # acknowledge: e0 (due 10-01 23:59), e3 (11-02 00:00), c16 (11-01 23:59) — all overdue.
    # first response: e0 ✗, e3 (11-03), c08 ✗, c09 ✗ (11-01 09:00), c10 ✗, c13 (paused before), c14 ✗ (paused
    #   after), c16 (11-02 23:59) → 8 open, 5 overdue.
    # resolution: e0 ✗, e3, c08 ✗, c09, c10 ✗, c13, c14 ✗, c16 → 8 / 4.
    # verify: U2 ✗, U4 ✗ (10-29 16:00). reply: U2 ✗, V2 (paused), T7 (11-03), U4 (11-02 15:00) → 4 / 1.
    # progress: U2 ✗, V2 (paused), T7 ✗ (11-01 10:00), U4 ✗ (10-31 15:00) → 4 / 3.
    # feedback form (24 h after each reply, none filled): T1 T2 T3 T4 V1 T6 T5 U1 → 8 / 8.
    # follow-up: c04 ✗, c12 ✗. second result: c07 (11-03 15:00).
    assert kpis.backlog(now=NOW) == [
        {"milestone": "acknowledge", "open": 3, "overdue": 3},
        {"milestone": "feedback_form", "open": 8, "overdue": 8},
        {"milestone": "first_response", "open": 8, "overdue": 5},
        {"milestone": "followup", "open": 2, "overdue": 2},
        {"milestone": "progress", "open": 4, "overdue": 3},
        {"milestone": "reply", "open": 4, "overdue": 1},
        {"milestone": "resolution", "open": 8, "overdue": 4},
        {"milestone": "second_result", "open": 1, "overdue": 0},
        {"milestone": "verify", "open": 2, "overdue": 2},
    ]
    # Production owes c08's own clocks (first response, resolution: overdue) and its tasks' (V1's feedback
    # form, overdue; V2's reply and progress, paused); U2 on c08 is quality's.
    assert kpis.backlog(Cuts(department=month.departments["production"].pk), now=NOW) == [
        {"milestone": "feedback_form", "open": 1, "overdue": 1},
        {"milestone": "first_response", "open": 1, "overdue": 1},
        {"milestone": "progress", "open": 1, "overdue": 0},
        {"milestone": "reply", "open": 1, "overdue": 0},
        {"milestone": "resolution", "open": 1, "overdue": 1},
    ]

    # A department manager sees their departments; the supervisor the whole company.
    qm = kpis.scoped(kpis.NO_CUTS, month.people["qm"])
    assert qm.departments == (month.departments["quality"].pk,)
    assert counts(qm)[TR] == (6, 8)
    assert kpis.scoped(kpis.NO_CUTS, month.people["supervisor"]) == kpis.NO_CUTS
    # Asking for a department outside the scope shows nothing.
    outside = kpis.scoped(Cuts(department=month.departments["production"].pk), month.people["qm"])
    assert counts(outside) == dict.fromkeys(Kpi, (0, 0))
