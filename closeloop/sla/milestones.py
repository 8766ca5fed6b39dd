"""The milestones an SLA policy sets a target for (sla.md, "Default SLA policy")."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Milestone(models.TextChoices):
    ACKNOWLEDGE = "acknowledge", _("acknowledge receipt to the customer")
    FIRST_RESPONSE = "first_response", _("first substantive response to the customer")
    VERIFY = "verify", _("handler verifies the dispatched complaint")
    REPLY = "reply", _("department reply to customer service")
    ANALYSIS = "analysis", _("technical-support analysis")
    RESOLUTION = "resolution", _("resolution")
    FEEDBACK_FORM = "feedback_form", _("feedback form after handling completes")
    PROGRESS = "progress", _("progress entry while a task is open")
    FOLLOWUP = "followup", _("follow-up after resolution")
    SECOND_RESULT = "second_result", _("second result after a reopen")
    # A service order's logistics steps (serviceorders/clocks.py); reply, resolution and follow-up are
    # the milestones above, so a service order meets the same targets as a complaint.
    SHIP_IN = "ship_in", _("customer ships the goods after the return authorisation")
    RECEIVE = "receive", _("carrier delivers the goods to us")
    INSPECT = "inspect", _("warehouse inspects the returned goods")
    SEND_BACK = "send_back", _("replacement or repaired goods sent back")
    DEPOT_REPAIR = "depot_repair", _("repair at the depot")
    VISIT = "visit", _("on-site visit in the booked slot")


# sla.md's default policy: milestone -> (紧急, 重要, 一般).
DEFAULT_TARGETS: dict[str, tuple[str, str, str]] = {
    Milestone.ACKNOWLEDGE: ("30min", "2h", "24h"),
    Milestone.FIRST_RESPONSE: ("2h", "24h", "48h"),
    Milestone.VERIFY: ("1wh", "1wh", "1wh"),
    Milestone.REPLY: ("2wd", "2wd", "2wd"),
    Milestone.ANALYSIS: ("4wh", "4wh", "4wh"),
    Milestone.RESOLUTION: ("1wd", "2wd", "3wd"),
    Milestone.FEEDBACK_FORM: ("24h", "24h", "24h"),
    Milestone.PROGRESS: ("48h", "48h", "48h"),
    Milestone.FOLLOWUP: ("2wd", "2wd", "2wd"),
    Milestone.SECOND_RESULT: ("3wd", "3wd", "3wd"),
    # Service orders' logistics (decisions.md, issue 16): the customer ships within 10 days of the
    # authorisation, the carrier delivers within 7, the warehouse inspects in 2 working days and sends
    # the replacement back in 2 more; a depot repair goes back within 5 working days of its arrival.
    # A visit has no target: it is due at the end of the booked slot.
    Milestone.SHIP_IN: ("10d", "10d", "10d"),
    Milestone.RECEIVE: ("7d", "7d", "7d"),
    Milestone.INSPECT: ("2wd", "2wd", "2wd"),
    Milestone.SEND_BACK: ("2wd", "2wd", "2wd"),
    Milestone.DEPOT_REPAIR: ("5wd", "5wd", "5wd"),
}

# Milestones a complaint gets at registration; the others start with later steps of the process.
COMPLAINT_MILESTONES_AT_INTAKE = (Milestone.ACKNOWLEDGE, Milestone.FIRST_RESPONSE, Milestone.RESOLUTION)
