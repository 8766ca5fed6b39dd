"""The customer panel beside a complaint: the customer's other complaints (open ones first, with their
clocks), and how satisfied they were at the follow-ups so far. Only complaints the user may see are
named or counted; nothing in it is contact data, so masked roles see it as everyone else."""

from __future__ import annotations

from django.db.models import Count, Q
from django.http import HttpRequest

from closeloop.complaints.lifecycle import OPEN_STATUSES
from closeloop.complaints.models import Complaint
from closeloop.complaints.panels import Panel
from closeloop.complaints.selectors import complaints_visible_to
from closeloop.followup.models import FollowUp, FollowUpOutcome

# Past complaints named in the panel; the count says how many more there are.
HISTORY_SHOWN = 8
LISTED = ("number", "received_at", "status", "priority", "next_due_at", "next_warn_at", "waiting_since", "product_text")


def panel(request: HttpRequest, complaint: Complaint) -> Panel | None:
    """Four queries, whatever the customer's number of complaints."""
    visible = complaints_visible_to(request.user)
    others = visible.filter(customer_id=complaint.customer_id).exclude(pk=complaint.pk)
    open_ones = list(
        others.filter(status__in=OPEN_STATUSES)
        .select_related("product")
        .only(*LISTED, "product__model", "product__name", "product__name_en")
        .order_by("next_due_at", "-received_at")
    )
    past = list(
        others.exclude(status__in=OPEN_STATUSES)
        .select_related("product")
        .only(*LISTED, "product__model", "product__name", "product__name_en")
        .order_by("-received_at", "-id")[: HISTORY_SHOWN + 1]
    )
    followups = FollowUp.objects.filter(complaint__in=visible.filter(customer_id=complaint.customer_id))
    satisfaction = followups.aggregate(
        satisfied=Count("id", filter=Q(outcome=FollowUpOutcome.SATISFIED)),
        unsatisfied=Count("id", filter=Q(outcome=FollowUpOutcome.UNSATISFIED)),
    )
    last = (
        followups.exclude(outcome="")
        .select_related("satisfaction", "complaint")
        .only("outcome", "completed_at", "satisfaction__label_zh", "satisfaction__label_en", "complaint__number")
        .order_by("-completed_at", "-id")
        .first()
    )
    return Panel(
        template="followup/customer/_panel.html",
        context={
            "open_ones": open_ones,
            "past": past[:HISTORY_SHOWN],
            "more_past": len(past) > HISTORY_SHOWN,
            "satisfied": satisfaction["satisfied"],
            "unsatisfied": satisfaction["unsatisfied"],
            "last_followup": last,
            "complaint": complaint,
        },
        order=10,
        column="customer",
    )
