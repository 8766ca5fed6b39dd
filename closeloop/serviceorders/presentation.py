"""What a service order's timeline says: each event's action in words, in the reader's language.

The actions are the kind tables' transitions (closeloop/serviceorders/lifecycle.py), registration and
attachments, waiting and postponements (services.py; SERVICE_ACTIONS) and the one SLA sweep's deadline
events (sweeps.py). A test reads every
transition of every kind and fails on one without words here."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from closeloop.sla.models import Milestone

ACTION_LABELS = {
    "registered": _("Service order registered"),
    "attached": _("Attachment added"),
    "dispatch": pgettext_lazy("service order timeline", "Dispatched"),
    "cancel": pgettext_lazy("service order timeline", "Cancelled"),
    "follow_up": _("Follow-up recorded"),
    "book": _("Visit booked"),
    "record_visit": _("Visit recorded"),
    "ship_in": _("Sent in (carrier and tracking number)"),
    "send_back": _("Sent back to the customer"),
    "receive": pgettext_lazy("service order timeline", "Received"),
    "inspect": _("Inspection recorded"),
    "authorise": _("Return authorised"),
    "refuse": _("Return refused"),
    "refund": _("Refund made"),
    "answer": _("Answered"),
    "record_session": _("Remote session recorded"),
    "resolve": pgettext_lazy("service order timeline", "Resolved"),
    # clocks paused and postponed (services.order_wait / order_resume / postponement_*)
    "waiting_started": _("Waiting: clocks paused"),
    "waiting_ended": _("Wait over: clocks running again, extended by the pause"),
    "postponement_requested": _("Postponement requested"),
    "postponement_approved": _("Postponement approved: deadline moved"),
    "postponement_rejected": _("Postponement rejected"),
    "postponement_lapsed": _("Postponement request lapsed: the order ended first"),
    # the same words as on a complaint's timeline
    "deadline_warned": _("Deadline warning"),
    "deadline_breached": _("Deadline passed"),
    "deadline_escalated": _("Escalated (deadline passed)"),
}


def action_label(action: str) -> str:
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


def milestone_label(value: object) -> str:
    """A deadline event's milestone in words ("" when the event names none)."""
    return str(Milestone(value).label) if isinstance(value, str) and value in Milestone.values else ""


# The timeline's actions that are not a row of a kind's table (the test reads them with the tables').
SERVICE_ACTIONS = (
    "registered",
    "attached",
    "waiting_started",
    "waiting_ended",
    "postponement_requested",
    "postponement_approved",
    "postponement_rejected",
    "postponement_lapsed",
)
