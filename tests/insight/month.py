"""The fixture month: October 2026 in Asia/Shanghai, built only through the services (intake, the
lifecycle, dispatch, verification, contacts, replies, withdrawal, information requests, waiting for the
customer, follow-ups, unreachable rounds, reopen, repeat detection, merge, invalidation), each step at
an explicit `now`.

The working calendar of that month (chinese-calendar): 1–7 October is the National Day holiday,
Saturday 10 October is a make-up working day (调休), 11/17/18/24/25/31 October and 1 November are days
off. Working hours 09:00–12:00 and 13:00–18:00. Default SLA policy, priority 一般 (3) unless said:
acknowledge 24h, first response 48h, resolution 3wd (重要: 2h/24h/2wd, 紧急: 30min/2h/1wd); task: verify
1wh, reply 2wd, progress 48h; feedback form 24h after the reply; follow-up 2wd after resolution; second
result 3wd after a reopen.

Every complaint's story is written next to it with the deadlines worked out by hand; the tests read
the KPIs "now" = Monday 2 November 2026 10:00 (the first working day of November).

People: agent (customer service), h1 and h2 handlers of quality (质量部), hp handler of production
(生产部), qm / pm their managers. Product lines F1 (F1-A, F1-B) and CL (XD-100, XD-200).

| key | received | product | other attributes | story |
|---|---|---|---|---|
| s1  | 09-28 10:00 | XD-100 | (September) | resolved on the spot; follow-up done 10-08 满意 |
| e0  | 09-30 23:59 | F1-A   | (September) | registered only |
| c01 | 10-08 09:30 | F1-A   | | T1 h1 on time, contacted, resolved on time over the make-up Saturday, 非常满意 |
| xdp | 10-08 12:00 | F1-A   | c01's phone | merged into c01 (duplicate) |
| c02 | 10-12 09:00 | F1-A   | web, 浙江, dealer, 重要 | T2 (acks) h1 on time, h1 contact (no task), late, 一般 late |
| c03 | 10-13 14:00 | F1-A   | type quality-light (child of quality) | T3 h1 replied at its deadline, unreachable |
| c04 | 10-14 09:00 | F1-B   | 江苏, store | T4 h1 + V1 hp on time, hp contacted, follow-up never done |
| c05 | 10-14 09:30 | F1-A   | | T6 h1 late; h1 no answer, agent reached (not handler side) |
| c06 | 10-19 09:00 | XD-100 | | T5 h1 on time, contacted, follow-up done late on 11-02 |
| c07 | 10-20 10:00 | XD-100 | e-mail | U1 h2 on time, contacted; 不满意 → reopened, new task U4 (not yet due) |
| c08 | 10-26 09:00 | XD-200 | 浙江, production responsible | U2 h2 never verified, V2 hp waiting for information |
| c09 | 10-30 09:00 | XD-100 | | T7 h1 open, reply due 11-03 |
| c10 | 10-21 09:00 | XD-100 | | T8 h1 withdrawn; left dispatched |
| c11 | 10-16 10:00 | F1-B   | type service (cs responsible) | answered on the spot, 满意 |
| c12 | 10-15 10:00 | XD-100 | s1's phone | repeat of s1; resolved; follow-up never done |
| xin | 10-20 14:00 | F1-A   | | invalid |
| c13 | 10-26 09:00 | XD-100 | | waiting for the customer since 10-27 10:00 (before its deadlines) |
| c14 | 10-12 09:00 | F1-A   | 紧急 | waiting for the customer since 10-14 10:00 (after its deadlines) |
| c15 | 10-01 00:00 | F1-A   | | acknowledged late, resolved on time (holiday week), 非常满意 |
| c16 | 10-31 23:59 | F1-A   | letter, registered 11-02 09:00 | registered only |
| e3  | 11-01 00:00 | F1-A   | (November) | registered only |
"""

from __future__ import annotations

import datetime
import itertools
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User

from closeloop.complaints.models import Complaint
from closeloop.complaints.services import (
    IntakeData,
    complaint_register,
    complaint_transition,
    complaint_wait_for_customer,
)
from closeloop.core.roles import Role
from closeloop.directory.models import ComplaintType, Department, Product, ProductLine
from closeloop.followup.models import FollowUp
from closeloop.followup.services.followups import followup_attempt, followup_record
from closeloop.followup.services.repeats import complaint_merge
from closeloop.handling.models import Task
from closeloop.handling.services.tasks import (
    Assignment,
    complaint_dispatch,
    contact_log_add,
    task_reply,
    task_request_info,
    task_verify,
    task_withdraw,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
VIA = "desk"
# When the tests read the KPIs: the first working day of November, 10:00.
NOW = datetime.datetime(2026, 11, 2, 10, 0, tzinfo=SHANGHAI)


def at(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime.datetime:
    """A local instant in 2026."""
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


_phones = itertools.count(1)


@dataclass
class Month:
    people: dict[str, User]
    departments: dict[str, Department]
    lines: dict[str, ProductLine]
    products: dict[str, Product]
    types: dict[str, ComplaintType]
    complaints: dict[str, Complaint] = field(default_factory=dict)
    tasks: dict[str, Task] = field(default_factory=dict)

    def numbers(self, *keys: str) -> set[str]:
        return {self.complaints[k].number for k in keys}

    def key_of(self, number: str) -> str:
        return next(k for k, c in self.complaints.items() if c.number == number)


class _Builder:
    def __init__(self, month: Month) -> None:
        self.m = month
        self.agent = month.people["agent"]

    # --- steps ------------------------------------------------------------------------------------

    def register(
        self,
        key: str,
        received: datetime.datetime,
        *,
        registered: datetime.datetime | None = None,
        product: str = "F1-A",
        phone: str | None = None,
        **fields: Any,
    ) -> Complaint:
        data = {
            "channel": "hotline",
            "customer_name": "张伟",
            "phone": phone or f"1390000{next(_phones):04d}",
            "description": "灯具通电后闪烁",
            "type_code": "quality",
            "province": "广东",
            "product_model": product,
            "received_at": received,
            **fields,
        }
        complaint = complaint_register(data=IntakeData(**data), actor=self.agent, via=VIA, now=registered or received)
        self.m.complaints[key] = complaint
        return complaint

    def transition(self, key: str, action: str, when: datetime.datetime, **data: Any) -> None:
        complaint_transition(
            complaint=self.m.complaints[key], action=action, actor=self.agent, via=VIA, data=data, now=when
        )

    def ack(self, key: str, when: datetime.datetime) -> None:
        self.transition(key, "acknowledge", when)

    def resolve(self, key: str, when: datetime.datetime) -> FollowUp:
        self.transition(key, "resolve", when, resolution="已更换驱动电源")
        return FollowUp.objects.filter(complaint=self.m.complaints[key]).order_by("-round").first()  # type: ignore[return-value]

    def dispatch(self, key: str, when: datetime.datetime, **tasks: tuple[str, str]) -> None:
        """tasks: task key → (department code, handler key)."""
        assignments = [
            Assignment(department=self.m.departments[dept], handler=self.m.people[person])
            for dept, person in tasks.values()
        ]
        created = complaint_dispatch(
            complaint=self.m.complaints[key], assignments=assignments, actor=self.agent, via=VIA, now=when
        )
        for task_key, task in zip(tasks, created, strict=True):
            self.m.tasks[task_key] = task

    def verify(self, task: str, who: str, when: datetime.datetime) -> None:
        task_verify(task=self.m.tasks[task], actor=self.m.people[who], via=VIA, now=when)

    def reply(self, task: str, who: str, when: datetime.datetime) -> None:
        task_reply(task=self.m.tasks[task], reply="已上门检测，更换灯具", actor=self.m.people[who], via=VIA, now=when)

    def contact(
        self, key: str, who: str, when: datetime.datetime, *, task: str | None = None, outcome: str = "reached"
    ) -> None:
        contact_log_add(
            complaint=self.m.complaints[key],
            task=self.m.tasks[task] if task else None,
            at=when,
            channel="phone",
            outcome=outcome,
            summary="电话联系客户",
            actor=self.m.people[who],
            via=VIA,
            now=when,
        )

    def answer(self, followup: FollowUp, when: datetime.datetime, level: str, *, solved: bool = True) -> None:
        followup_record(
            followup=followup,
            method="phone",
            solved=solved,
            level=level,
            comments="" if solved else "灯还是闪",
            actor=self.agent,
            via=VIA,
            now=when,
        )

    def attempt(self, followup: FollowUp, when: datetime.datetime, result: str) -> None:
        followup_attempt(followup=followup, method="phone", result=result, actor=self.agent, via=VIA, now=when)


def build_month(make_user: Any) -> Month:
    quality = Department.objects.get(code="quality")
    production = Department.objects.get(code="production")
    people = {
        "agent": make_user(Role.AGENT, username="m_agent"),
        "supervisor": make_user(Role.CS_SUPERVISOR, username="m_supervisor"),
        "h1": make_user(Role.HANDLER, departments=[quality], username="m_h1"),
        "h2": make_user(Role.HANDLER, departments=[quality], username="m_h2"),
        "hp": make_user(Role.HANDLER, departments=[production], username="m_hp"),
        "qm": make_user(Role.DEPT_MANAGER, departments=[quality], manager=True, username="m_qm"),
        "pm": make_user(Role.DEPT_MANAGER, departments=[production], manager=True, username="m_pm"),
    }
    lines = {
        "F1": ProductLine.objects.create(code="f1", name="F1线", name_en="F1 line"),
        "CL": ProductLine.objects.create(code="cl", name="吸顶灯", name_en="Ceiling lights"),
    }
    products = {
        model: Product.objects.create(model=model, line=lines[line], name=model, name_en=model)
        for model, line in (("F1-A", "F1"), ("F1-B", "F1"), ("XD-100", "CL"), ("XD-200", "CL"))
    }
    parent = ComplaintType.objects.get(code="quality")
    types = {
        "quality": parent,
        "quality-light": ComplaintType.objects.create(
            code="quality-light", name="灯具质量", name_en="Lamp quality", parent=parent, default_department=quality
        ),
        "service": ComplaintType.objects.get(code="service"),
    }
    month = Month(
        people=people,
        departments={"quality": quality, "production": production, "cs": Department.objects.get(code="cs")},
        lines=lines,
        products=products,
        types=types,
    )
    b = _Builder(month)

    # --- September (outside the cohort) -----------------------------------------------------------
    # s1: resolved on the spot 09-28 10:30; follow-up due 2wd → 09-30 10:30, answered late on 10-08 (满意).
    b.register("s1", at(9, 28, 10), product="XD-100", phone="13900009999")
    s1_followup = b.resolve("s1", at(9, 28, 10, 30))
    b.register("e0", at(9, 30, 23, 59))

    # --- October ----------------------------------------------------------------------------------
    # c15: received 10-01 00:00 (holiday). ack due 24h → 10-02 00:00, acknowledged 10-02 10:00: late.
    # Resolution 3wd: 10-01 is a holiday → start 10-08 09:00 → 10-09, 10-10 (make-up Sat), 10-12 → 10-12 09:00;
    # resolved 10-08 10:00: on time, 1 working hour. Follow-up due 2wd → 10-10 10:00, answered 10-09 11:00.
    b.register("c15", at(10, 1, 0, 0))
    b.ack("c15", at(10, 2, 10))
    c15_followup = b.resolve("c15", at(10, 8, 10))
    b.answer(c15_followup, at(10, 9, 11), "very_satisfied")

    # c01: received 10-08 09:30. ack due 10-09 09:30 (acked 09:40). Resolution 3wd → 10-09, 10-10, 10-12 → 10-12 09:30.
    # T1 dispatched 10-08 10:00, reply due 2wd → 10-09, 10-10 → 10-10 10:00; replied 10-09 15:00 (on time).
    # Resolved 10-12 09:00 (on time): 7.5 h (10-08) + 8 h (10-09) + 8 h (make-up Saturday 10-10) + 0 = 23.5 h.
    # Follow-up due 2wd → 10-14 09:00, answered 10-12 10:00 非常满意.
    b.register("c01", at(10, 8, 9, 30), phone="13900001111")
    b.ack("c01", at(10, 8, 9, 40))
    b.dispatch("c01", at(10, 8, 10), T1=("quality", "h1"))
    b.verify("T1", "h1", at(10, 8, 10, 30))
    b.contact("c01", "h1", at(10, 8, 11), task="T1")
    # xdp: the same call registered twice (c01's phone; c01 not resolved yet, so not a repeat); merged.
    b.register("xdp", at(10, 8, 12), phone="13900001111")
    complaint_merge(
        duplicate=month.complaints["xdp"],
        into=month.complaints["c01"],
        reason="同一来电重复登记",
        actor=b.agent,
        via=VIA,
        now=at(10, 8, 12, 30),
    )
    b.answer(s1_followup, at(10, 8, 10), "satisfied")
    b.reply("T1", "h1", at(10, 9, 15))
    c01_followup = b.resolve("c01", at(10, 12, 9))
    b.answer(c01_followup, at(10, 12, 10), "very_satisfied")

    # c02 (重要, web, 浙江, dealer): ack 2h → 10-12 11:00; resolution 2wd → 10-14 09:00. Dispatched straight
    # from registered 10-12 09:30 (T2 due 10-14 09:30): dispatching acknowledges it first, so its
    # acknowledgement is met at 09:30, on time (docs/decisions.md, issue 17, "dispatch from 已登记"; before
    # that rule it stayed open until the late resolution and breached). h1 contacts the customer from the
    # complaint page (no task), replies 10-13 14:00 (on time). Resolved 10-15 10:00: late.
    # 8 + 8 + 8 + 1 = 25 h. Follow-up due 10-15 10:00 + 2wd → 10-19 10:00, answered 10-20 09:00 一般.
    b.register("c02", at(10, 12, 9), priority=2, channel="web", province="浙江", customer_kind="dealer")
    b.dispatch("c02", at(10, 12, 9, 30), T2=("quality", "h1"))
    b.verify("T2", "h1", at(10, 12, 10))
    b.contact("c02", "h1", at(10, 12, 10, 30))
    b.reply("T2", "h1", at(10, 13, 14))
    c02_followup = b.resolve("c02", at(10, 15, 10))
    b.answer(c02_followup, at(10, 20, 9), "neutral")

    # c14 (紧急): ack 30min → 09:30 (acked 09:20); first response 2h → 11:00; resolution 1wd → 10-13 09:00.
    # Waiting for the customer since 10-14 10:00: after both deadlines, so it stays overdue.
    b.register("c14", at(10, 12, 9), priority=1)
    b.ack("c14", at(10, 12, 9, 20))
    complaint_wait_for_customer(
        complaint=month.complaints["c14"], reason="等客户提供购买凭证", actor=b.agent, via=VIA, now=at(10, 14, 10)
    )

    # c03 (type quality-light): ack due 10-14 14:00 (acked 14:10); resolution → 10-16 14:00.
    # T3 dispatched 10-13 14:30, due 10-15 14:30, replied exactly then (on time: the deadline itself counts).
    # Resolved 10-16 09:00: 4 + 8 + 8 + 0 = 20 h. Follow-up due 10-20 09:00; three failed attempts on three
    # days → unreachable at 10-20 08:30 (done on time, no rating).
    b.register("c03", at(10, 13, 14), type_code="quality-light")
    b.ack("c03", at(10, 13, 14, 10))
    b.dispatch("c03", at(10, 13, 14, 30), T3=("quality", "h1"))
    b.verify("T3", "h1", at(10, 13, 15))
    b.contact("c03", "h1", at(10, 13, 15, 30), task="T3")
    b.reply("T3", "h1", at(10, 15, 14, 30))
    c03_followup = b.resolve("c03", at(10, 16, 9))
    b.attempt(c03_followup, at(10, 16, 15), "no_answer")
    b.attempt(c03_followup, at(10, 19, 10), "busy")
    b.attempt(c03_followup, at(10, 20, 8, 30), "no_answer")

    # c04 (F1-B, 江苏, store): ack due 10-15 09:00 (acked 09:05); resolution → 10-19 09:00. T4 (h1) and V1 (hp)
    # dispatched 10-14 09:30, due 10-16 09:30; replied 10-15 10:00 and 10-16 09:00. hp reached the customer.
    # Resolved 10-16 10:00: 8 + 8 + 1 = 17 h. Follow-up due 10-20 10:00: never done.
    b.register("c04", at(10, 14, 9), product="F1-B", province="江苏", customer_kind="store")
    b.ack("c04", at(10, 14, 9, 5))
    b.dispatch("c04", at(10, 14, 9, 30), T4=("quality", "h1"), V1=("production", "hp"))
    b.verify("T4", "h1", at(10, 14, 10))
    b.verify("V1", "hp", at(10, 14, 10, 30))
    b.contact("c04", "hp", at(10, 14, 11), task="V1")
    b.reply("T4", "h1", at(10, 15, 10))
    b.reply("V1", "hp", at(10, 16, 9))
    b.resolve("c04", at(10, 16, 10))

    # c05: ack due 10-15 09:30 (acked 09:35); resolution → 10-19 09:30. T6 dispatched 10-14 10:00, due 10-16 10:00;
    # h1's call is not answered, the agent reaches the customer on the task; T6 replied 10-19 11:00 (late).
    # Resolved 10-19 14:00 (late): 7.5 + 8 + 8 + 4 = 27.5 h. Follow-up due 10-21 14:00, answered 10-21 10:00 满意.
    b.register("c05", at(10, 14, 9, 30))
    b.ack("c05", at(10, 14, 9, 35))
    b.dispatch("c05", at(10, 14, 10), T6=("quality", "h1"))
    b.verify("T6", "h1", at(10, 14, 10, 30))
    b.contact("c05", "h1", at(10, 14, 11), task="T6", outcome="no_answer")
    b.contact("c05", "agent", at(10, 14, 14), task="T6")
    b.reply("T6", "h1", at(10, 19, 11))
    c05_followup = b.resolve("c05", at(10, 19, 14))
    b.answer(c05_followup, at(10, 21, 10), "satisfied")

    # c12: s1's customer and model, 17 days after s1 was resolved → a repeat. Acked 10:10; resolved 11:00
    # (1 h; due 10-20 10:00). Follow-up due 10-15 11:00 + 2wd → 10-19 11:00: never done.
    b.register("c12", at(10, 15, 10), product="XD-100", phone="13900009999")
    b.ack("c12", at(10, 15, 10, 10))
    b.resolve("c12", at(10, 15, 11))

    # c11 (type service → customer service responsible): answered on the spot after 20 minutes.
    # Follow-up due 10-16 10:20 + 2wd → 10-20 10:20, answered 10-19 10:00 满意.
    b.register("c11", at(10, 16, 10), product="F1-B", type_code="service")
    c11_followup = b.resolve("c11", at(10, 16, 10, 20))
    b.answer(c11_followup, at(10, 19, 10), "satisfied")

    # c06: ack 09:10; resolution → 10-22 09:00. T5 dispatched 10-19 09:30, due 10-21 09:30, replied 10-20 16:00.
    # Resolved 10-21 09:00: 8 + 8 = 16 h. Follow-up due 10-23 09:00, answered late on 11-02 09:00.
    b.register("c06", at(10, 19, 9), product="XD-100")
    b.ack("c06", at(10, 19, 9, 10))
    b.dispatch("c06", at(10, 19, 9, 30), T5=("quality", "h1"))
    b.verify("T5", "h1", at(10, 19, 10))
    b.contact("c06", "h1", at(10, 19, 10, 30), task="T5")
    b.reply("T5", "h1", at(10, 20, 16))
    c06_followup = b.resolve("c06", at(10, 21, 9))

    # c07 (e-mail): ack 10:05; resolution → 10-23 10:00. U1 (h2) dispatched 10:30, due 10-22 10:30, replied
    # 10-21 17:00. Resolved 10-22 10:00: 7 + 8 + 1 = 16 h. Follow-up due 10-23, 10-26 → 10-26 10:00, answered
    # 10-29 15:00 不满意 / not solved → reopened: second result due 10-30, 11-02, 11-03 → 11-03 15:00, and a new
    # task U4 for h2 dispatched 10-29 15:00 (verify due 16:00, reply due 10-30, 11-02 → 11-02 15:00).
    b.register("c07", at(10, 20, 10), product="XD-100", channel="email")
    b.ack("c07", at(10, 20, 10, 5))
    b.dispatch("c07", at(10, 20, 10, 30), U1=("quality", "h2"))
    b.verify("U1", "h2", at(10, 20, 11))
    b.contact("c07", "h2", at(10, 20, 11, 30), task="U1")
    b.reply("U1", "h2", at(10, 21, 17))
    c07_followup = b.resolve("c07", at(10, 22, 10))

    # xin: not a complaint at all.
    b.register("xin", at(10, 20, 14))
    b.transition("xin", "invalidate", at(10, 20, 14, 30), reason="广告推销")

    # c10: T8 (h1) dispatched 10-21 09:30 and withdrawn at 11:00; nothing else happens (resolution due
    # 10-22, 10-23, 10-26 → 10-26 09:00: overdue).
    b.register("c10", at(10, 21, 9), product="XD-100")
    b.ack("c10", at(10, 21, 9, 5))
    b.dispatch("c10", at(10, 21, 9, 30), T8=("quality", "h1"))
    task_withdraw(task=month.tasks["T8"], reason="派错部门", actor=b.agent, via=VIA, now=at(10, 21, 11))

    # c08 (XD-200, 浙江, production responsible): ack 09:10; first response due 10-28 09:00; resolution →
    # 10-29 09:00. U2 (h2) and V2 (hp) dispatched 10:00 (verify due 11:00, reply due 10-28 10:00). hp verifies
    # V2 and asks for information at 11:00 (V2 paused before its deadlines); U2 is never verified.
    b.register("c08", at(10, 26, 9), product="XD-200", province="浙江", department_code="production")
    b.ack("c08", at(10, 26, 9, 10))
    b.dispatch("c08", at(10, 26, 10), U2=("quality", "h2"), V2=("production", "hp"))
    b.verify("V2", "hp", at(10, 26, 10, 30))
    task_request_info(task=month.tasks["V2"], reason="请提供安装照片", actor=people["hp"], via=VIA, now=at(10, 26, 11))

    # c13: ack 09:20; first response due 10-28 09:00, resolution 10-29 09:00; waiting for the customer since
    # 10-27 10:00 (before both): not yet due.
    b.register("c13", at(10, 26, 9), product="XD-100")
    b.ack("c13", at(10, 26, 9, 20))
    complaint_wait_for_customer(
        complaint=month.complaints["c13"], reason="等客户约定上门时间", actor=b.agent, via=VIA, now=at(10, 27, 10)
    )

    b.answer(c07_followup, at(10, 29, 15), "unsatisfied", solved=False)
    month.tasks["U4"] = Task.objects.get(complaint=month.complaints["c07"], status="dispatched")

    # c09: ack 09:30 (due 10-31 09:00); first response due 11-01 09:00; resolution 11-02, 11-03, 11-04 →
    # 11-04 09:00. T7 (h1) dispatched 10:00, reply due 11-02, 11-03 → 11-03 10:00; verified 10:30.
    b.register("c09", at(10, 30, 9), product="XD-100")
    b.ack("c09", at(10, 30, 9, 30))
    b.dispatch("c09", at(10, 30, 10), T7=("quality", "h1"))
    b.verify("T7", "h1", at(10, 30, 10, 30))

    # --- the edges of the month, and after it ------------------------------------------------------
    # e3: received on the first instant of November.
    b.register("e3", at(11, 1, 0, 0))
    # c06's follow-up, done late in November.
    b.answer(c06_followup, at(11, 2, 9), "very_satisfied")
    # c16: a letter received on the last minute of October, registered on 11-02 09:00. ack due 11-01 23:59,
    # first response 11-02 23:59; resolution: 10-31 is a Saturday off → 11-02 09:00 + 3wd → 11-05 09:00.
    b.register("c16", at(10, 31, 23, 59), registered=at(11, 2, 9), channel="letter")

    for complaint in month.complaints.values():
        complaint.refresh_from_db()
    for task in month.tasks.values():
        task.refresh_from_db()
    return month
