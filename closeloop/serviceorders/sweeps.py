"""What the one SLA sweep (sla.sweeps, run by complaints.sweeps.sla_sweep) means for a service order:
a `deadline_warned` / `deadline_breached` / `deadline_escalated` event on the order's timeline and the
same people told as for a complaint — the assignee (or the CS supervisors) at the warning point, the
policy's escalation ladder at and after the deadline (the order's department's managers for
`dept_manager`) — in the claim's transaction, once per claim.
"""

from __future__ import annotations

import datetime

from django.urls import reverse
from django.utils.translation import gettext_lazy

from closeloop.complaints.models import Via
from closeloop.complaints.sweeps import DeadlineRecorder, deadline_message
from closeloop.notifications.services import Message
from closeloop.serviceorders.models import ServiceEvent
from closeloop.sla.sweeps import ClaimedDeadline


class ServiceDeadlineRecorder(DeadlineRecorder):
    """sla.sweeps.Recorder for service orders (registered in ServiceOrdersConfig.ready)."""

    def events_write(self, deadlines: list[ClaimedDeadline], kind: str, now: datetime.datetime, level: int) -> None:
        ServiceEvent.objects.bulk_create(
            ServiceEvent(
                order_id=deadline.service_order_id or 0,  # always set: the sweep hands this recorder only orders
                at=now,
                via=Via.SYSTEM,
                action=kind,
                after={"milestone": deadline.milestone, "due_at": deadline.due_at.isoformat(), "level": level},
            )
            for deadline in deadlines
        )

    def message(self, deadline: ClaimedDeadline, kind: str, level: int) -> Message:
        return deadline_message(deadline, kind, level, link=reverse("serviceorders:detail", args=[deadline.number]))

    def digest(self, kind: str, level: int, deadlines: list[ClaimedDeadline], now: datetime.datetime) -> Message:
        numbers = [d.number for d in deadlines]
        if kind == "deadline_warned":
            subject = gettext_lazy("%(count)s service orders reach their warning point")
        elif kind == "deadline_breached":
            subject = gettext_lazy("%(count)s service orders are overdue")
        else:
            subject = gettext_lazy("%(count)s overdue service orders escalated (level %(level)s)")
        return Message.words(
            kind=kind,
            subject=subject,
            body=", ".join(numbers),
            params={"count": len(numbers), "level": level},
            link=reverse("serviceorders:queue"),
            dedup=f"{kind}:service-digest:{level}:{now.isoformat()}",
        )
