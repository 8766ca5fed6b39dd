"""Demo data for cross-department handling, made through the real services so that every record
has its events, deadlines and notifications: roster lines, and — on a fresh demo, next to the bulk
generator's history — a few dispatched complaints with contacts and progress, a solution waiting for
approval, and a feedback form waiting for review, all for the demo handler. Idempotent."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from closeloop.complaints.lifecycle import Status
from closeloop.complaints.models import Complaint, Via
from closeloop.directory.models import CauseCategory, ComplaintType, Department, RosterEntry
from closeloop.handling.models import Task
from closeloop.handling.services.feedback import feedback_form_save, feedback_form_submit
from closeloop.handling.services.roster import roster_entry_create
from closeloop.handling.services.solutions import solution_propose
from closeloop.handling.services.tasks import (
    Assignment,
    complaint_dispatch,
    contact_log_add,
    progress_add,
    task_reply,
    task_verify,
)


def demo_handling_ensure(*, fresh: bool = True) -> int:
    """The roster lines (once), and when `fresh` (the demo's complaints were just generated) up to six
    recent complaints dispatched through the services. Returns how many were dispatched."""
    users = {u.username: u for u in get_user_model().objects.filter(username__in=["agent", "handler", "admin"])}
    if len(users) < 3:
        return 0
    if not RosterEntry.objects.exists():
        today = timezone.localdate()
        for ctype in ComplaintType.objects.filter(default_department__isnull=False).select_related(
            "default_department"
        ):
            # filtered to types with a default department
            handler = users["handler"] if ctype.default_department.code in ("quality", "tech") else None  # type: ignore[union-attr]
            roster_entry_create(
                department=ctype.default_department,
                handler=handler,
                complaint_type=ctype,
                valid_from=today - datetime.timedelta(days=365),
                note="demo",
                actor=users["admin"],
            )
    if not fresh:
        return 0
    candidates = list(
        Complaint.objects.filter(
            status__in=[Status.REGISTERED, Status.ACKNOWLEDGED], department__code__in=["quality", "tech"]
        ).order_by("-received_at")[:6]
    )
    agent, handler = users["agent"], users["handler"]
    for index, complaint in enumerate(candidates):
        department = Department.objects.get(pk=complaint.department_id)  # type: ignore[misc]  # filtered by department
        complaint_dispatch(
            complaint=complaint,
            assignments=[Assignment(department=department, handler=handler)],
            actor=agent,
            via=Via.DESK,
        )
        task = Task.objects.filter(complaint=complaint).latest("id")
        if index == 0:
            continue  # one waits for verification
        task_verify(task=task, actor=handler, via=Via.DESK)
        contact_log_add(
            complaint=complaint,
            task=task,
            at=timezone.now(),
            channel="phone",
            outcome="reached",
            summary="已电话联系客户，确认问题现象并约定上门时间。",
            actor=handler,
            via=Via.DESK,
        )
        progress_add(task=task, text="已安排技术人员分析故障原因。", actor=handler, via=Via.DESK)
        if index == 2:
            solution_propose(
                complaint=Complaint.objects.get(pk=complaint.pk),
                task=task,
                measures=["replacement", "compensation"],
                description="更换同型号新品，并补偿客户运费与误工费。",
                compensation_amount=Decimal("800"),
                compensation_form="cash",
                actor=handler,
                via=Via.DESK,
            )
        if index == 3:
            task_reply(task=task, reply="已为客户更换灯具驱动，问题解决。", actor=handler, via=Via.DESK)
            form = task.feedback_form
            feedback_form_save(
                form=form,
                actor=handler,
                data={
                    "result": "resolved",
                    "demand_met": True,
                    "measures": "更换驱动电源",
                    "root_cause": "驱动电源批次质量问题",
                    "cause_category_id": CauseCategory.objects.filter(code="material-incoming")
                    .values_list("pk", flat=True)
                    .first(),
                    "improvement_suggestion": "加强来料检验",
                },
            )
            feedback_form_submit(form=form, actor=handler)
    return len(candidates)
