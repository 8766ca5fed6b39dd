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
}

# Milestones a complaint gets at registration; the others start with later steps of the process.
COMPLAINT_MILESTONES_AT_INTAKE = (Milestone.ACKNOWLEDGE, Milestone.FIRST_RESPONSE, Milestone.RESOLUTION)
