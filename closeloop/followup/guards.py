"""Guards of the complaint lifecycle table (complaints/lifecycle.py) that ask about the follow-up:
named there by dotted path, since complaints sit below followup. Each returns None when the
transition may go ahead, or the reason why not."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from closeloop.complaints.models import Complaint
from closeloop.followup.models import FollowUp, FollowUpOutcome


def followup_outcome_recorded(complaint: Complaint, data: dict[str, object]) -> str | Promise | None:
    latest = FollowUp.objects.filter(complaint=complaint).order_by("-round", "-id").first()
    if latest is None or latest.outcome not in (FollowUpOutcome.SATISFIED, FollowUpOutcome.UNREACHABLE):
        return _("The follow-up (回访) has no outcome yet: the customer must be asked (or found unreachable).")
    return None
