"""A small October 2026 for the dashboard tests, built through the services, with every cut telling
the complaints apart:

| key | received | type | department | product (line) | province | channel | kind | priority | story |
|---|---|---|---|---|---|---|---|---|---|
| q1 | 10-12 10:00 | quality | 质量部 | XD-100 (ceiling) | 浙江 | hotline | end user | normal | see below |
| q2 | 10-13 10:00 | quality | 质量部 | XD-100 (ceiling) | 浙江 | web | dealer | urgent | registered only |
| q3 | 10-14 10:00 | quality | 质量部 | SF-1 (sofa) | 江苏 | hotline | end user | normal | resolved 10-16 (late ack) |
| l1 | 10-15 10:00 | logistics | 仓储物流部 | SF-1 (sofa) | 广东 | hotline | end user | normal | dispatched to h2 |
| l2 | 10-20 10:00 | logistics | 仓储物流部 | SF-1 (sofa) | 广东 | e-mail | end user | normal | repeat of l1 |
| x1 | 10-21 10:00 | quality | 质量部 | XD-100 | 浙江 | hotline | end user | normal | invalid: in no figure |
| s1 | 09-20 10:00 | quality | 质量部 | XD-100 | 浙江 | hotline | end user | normal | September: outside the period |

q1 is acknowledged on time, dispatched to h1, and h1's feedback form names a root cause. l1 is dispatched
straight from registered (10-15 12:00), which acknowledges it then, on time (docs/decisions.md, issue 17,
"dispatch from 已登记"). So for October: the cohort is 5; repeat rate 1/5; acknowledged on time 2/5 (q1, l1);
communication 0/2.
`extra` adds more October complaints of the same kinds (for the query counts at a second size).
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User

from closeloop.complaints.models import Complaint
from closeloop.complaints.services import IntakeData, complaint_register, complaint_transition
from closeloop.core.roles import Role
from closeloop.directory.models import CauseCategory, Department, Product, ProductLine
from closeloop.followup.services.repeats import complaint_link_repeat
from closeloop.handling.services.feedback import feedback_form_open, feedback_form_save
from closeloop.handling.services.tasks import Assignment, complaint_dispatch

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONTH = "2026-10"
_phones = itertools.count(13700000000)


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


@dataclass
class SmallMonth:
    people: dict[str, User]
    complaints: dict[str, Complaint]
    departments: dict[str, Department]


def _catalogue() -> None:
    ceiling, _ = ProductLine.objects.get_or_create(code="ceiling", defaults={"name": "吸顶灯", "name_en": "Ceiling"})
    sofa, _ = ProductLine.objects.get_or_create(code="sofa", defaults={"name": "沙发", "name_en": "Sofas"})
    Product.objects.get_or_create(model="XD-100", defaults={"line": ceiling, "name": "LED吸顶灯", "name_en": "LED"})
    Product.objects.get_or_create(model="SF-1", defaults={"line": sofa, "name": "布艺沙发", "name_en": "Sofa"})


def build_people(make_user: Callable[..., User]) -> dict[str, User]:
    quality = Department.objects.get(code="quality")
    warehouse = Department.objects.get(code="warehouse")
    return {
        "agent": make_user(Role.AGENT, username="d_agent"),
        "supervisor": make_user(Role.CS_SUPERVISOR, username="d_supervisor"),
        "h1": make_user(Role.HANDLER, departments=[quality], username="d_h1"),
        "h2": make_user(Role.HANDLER, departments=[warehouse], username="d_h2"),
        "qm": make_user(Role.DEPT_MANAGER, departments=[quality], manager=True, username="d_qm"),
        "quality": make_user(Role.QUALITY, username="d_quality"),
        "auditor": make_user(Role.AUDITOR, username="d_auditor"),
        "gm": make_user(Role.MANAGEMENT, username="d_gm"),
        "admin": make_user(Role.ADMIN, username="d_admin"),
    }


def register(agent: User, received: datetime.datetime, **fields: Any) -> Complaint:
    data: dict[str, Any] = {
        "channel": "hotline",
        "customer_name": "王芳",
        "phone": str(next(_phones)),
        "description": "灯不亮",
        "type_code": "quality",
        "province": "浙江",
        "product_model": "XD-100",
        "received_at": received,
    }
    data.update(fields)
    return complaint_register(
        data=IntakeData(**data), actor=agent, via="desk", now=received + datetime.timedelta(minutes=5)
    )


def build_small_month(make_user: Callable[..., User], *, extra: int = 0) -> SmallMonth:
    _catalogue()
    people = build_people(make_user)
    agent = people["agent"]
    c: dict[str, Complaint] = {}
    c["q1"] = register(agent, at(10, 12))
    c["q2"] = register(agent, at(10, 13), channel="web", customer_kind="dealer", priority=1)
    c["q3"] = register(agent, at(10, 14), product_model="SF-1", province="江苏")
    c["l1"] = register(agent, at(10, 15), type_code="logistics", product_model="SF-1", province="广东")
    c["l2"] = register(agent, at(10, 20), type_code="logistics", product_model="SF-1", province="广东", channel="email")
    c["x1"] = register(agent, at(10, 21))
    c["s1"] = register(agent, at(9, 20))

    complaint_transition(complaint=c["q1"], action="acknowledge", actor=agent, via="desk", now=at(10, 12, 11))
    quality = Department.objects.get(code="quality")
    warehouse = Department.objects.get(code="warehouse")
    (task,) = complaint_dispatch(
        complaint=c["q1"], assignments=[Assignment(quality, people["h1"])], actor=agent, via="desk", now=at(10, 12, 12)
    )
    complaint_dispatch(
        complaint=c["l1"],
        assignments=[Assignment(warehouse, people["h2"])],
        actor=agent,
        via="desk",
        now=at(10, 15, 12),
    )
    form = feedback_form_open(task=task, now=at(10, 13, 9))
    supplier = CauseCategory.objects.get(code="material-supplier")
    feedback_form_save(
        form=form,
        data={"root_cause": "驱动电源批次不良", "cause_category_id": supplier.pk},
        actor=people["h1"],
        now=at(10, 13, 10),
    )
    complaint_link_repeat(
        complaint=c["l2"], earlier=c["l1"], reason="同一客户再次投诉", actor=agent, via="desk", now=at(10, 20, 11)
    )
    complaint_transition(
        complaint=c["q3"], action="resolve", actor=agent, via="desk", data={"resolution": "更换"}, now=at(10, 16)
    )
    complaint_transition(
        complaint=c["x1"], action="invalidate", actor=agent, via="desk", data={"reason": "测试"}, now=at(10, 21, 11)
    )
    for complaint in c.values():
        complaint.refresh_from_db()
    month = SmallMonth(people=people, complaints=c, departments={"quality": quality, "warehouse": warehouse})
    add_complaints(month, extra)
    return month


def add_complaints(month: SmallMonth, count: int) -> None:
    """More October complaints of the same kinds: registered, a third of them dispatched to h1, a
    repeat every fifth."""
    agent, quality = month.people["agent"], month.departments["quality"]
    previous = None
    for index in range(count):
        day = 1 + index % 28
        more = register(agent, at(10, day, 15), province=("四川", "浙江", "广东")[index % 3])
        if index % 3 == 0:
            complaint_dispatch(
                complaint=more,
                assignments=[Assignment(quality, month.people["h1"])],
                actor=agent,
                via="desk",
                now=at(10, day, 16),
            )
        if index % 5 == 4 and previous is not None and previous.received_at < more.received_at:
            complaint_link_repeat(
                complaint=more, earlier=previous, reason="再次投诉", actor=agent, via="desk", now=at(10, day, 17)
            )
        previous = more
