"""REST endpoints for repeat complaints and merged duplicates: thin calls of the same services as the
desk. Each answers with the complaint as GET /complaints/{number} does (repeat_of, repeat_reason, and
the timeline with the merged duplicates' events)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router

from closeloop.complaints.api import Number, _complaint_by_number, _complaint_response, _user
from closeloop.complaints.models import Complaint, Via
from closeloop.complaints.schemas import ComplaintOut, Text
from closeloop.complaints.selectors import complaint_get
from closeloop.core.api_responses import ONE_WRITE_ERRORS
from closeloop.core.errors import DomainError
from closeloop.core.schema import Schema
from closeloop.core.types import User
from closeloop.followup.services import repeats as services

router = Router(tags=["repeats"])


def _named(user: User, number: str, *, field: str) -> Complaint:
    """A complaint named in the body: unknown, out of scope or blank is a 422 on the field, not a 404."""
    complaint = _complaint_by_number(user, number.strip().upper(), field=field)
    if complaint is None:
        raise DomainError(_("Give the complaint's number."), field=field)
    return complaint


class RepeatLinkIn(Schema):
    earlier: Text = Field(..., max_length=20, description="number of the earlier complaint this one repeats")
    reason: Text = Field(..., max_length=services.REASON_MAX, description="why it is a repeat")


class RepeatUnlinkIn(Schema):
    reason: Text = Field(..., max_length=services.REASON_MAX, description="why it is not a repeat")


class MergeIn(Schema):
    duplicate: Text = Field(..., max_length=20, description="number of the duplicate to merge into this complaint")
    reason: Text = Field(..., max_length=services.REASON_MAX, description="why it is the same complaint")


@router.post(
    "/complaints/{number}/repeat-link",
    response={200: ComplaintOut, **ONE_WRITE_ERRORS},
    summary="Mark the complaint a repeat of an earlier one (with a reason)",
)
def repeat_link(request: HttpRequest, number: Number, payload: RepeatLinkIn) -> dict[str, Any]:
    """Marks the complaint a repeat of an earlier complaint of the same customer, with a reason
    (followup.link_repeats). Linking to itself or to a later complaint is a 422 on the field."""
    user = _user(request)
    complaint = complaint_get(user=user, number=number)  # out of scope → 404
    earlier = _named(user, payload.earlier, field="earlier")
    services.complaint_link_repeat(complaint=complaint, earlier=earlier, reason=payload.reason, actor=user, via=Via.API)
    return _complaint_response(request, number)


@router.post(
    "/complaints/{number}/repeat-unlink",
    response={200: ComplaintOut, **ONE_WRITE_ERRORS},
    summary="The complaint is not a repeat after all (with a reason)",
)
def repeat_unlink(request: HttpRequest, number: Number, payload: RepeatUnlinkIn) -> dict[str, Any]:
    """The complaint is not a repeat after all, with a reason (followup.link_repeats). A complaint that is not
    linked is a 422."""
    user = _user(request)
    complaint = complaint_get(user=user, number=number)
    services.complaint_unlink_repeat(complaint=complaint, reason=payload.reason, actor=user, via=Via.API)
    return _complaint_response(request, number)


@router.post(
    "/complaints/{number}/merge",
    response={200: ComplaintOut, **ONE_WRITE_ERRORS},
    summary="Merge a duplicate (not yet dispatched) into this complaint; both histories are kept",
)
def complaint_merge(request: HttpRequest, number: Number, payload: MergeIn) -> dict[str, Any]:
    """Merges a duplicate that was not yet dispatched into this complaint; both histories are kept and the
    duplicate is closed as such (followup.link_repeats). A duplicate already dispatched is a 422."""
    user = _user(request)
    into = complaint_get(user=user, number=number)
    duplicate = _named(user, payload.duplicate, field="duplicate")
    services.complaint_merge(duplicate=duplicate, into=into, reason=payload.reason, actor=user, via=Via.API)
    return _complaint_response(request, number)
