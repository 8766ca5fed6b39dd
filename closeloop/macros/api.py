"""Canned replies over REST, and sending a message to the customer from one. Thin: services write."""

from __future__ import annotations

import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Status

from closeloop import authz
from closeloop.complaints.models import Via
from closeloop.complaints.selectors import complaint_get
from closeloop.core.api_responses import ONE_WRITE_ERRORS, READ_ERRORS, WRITE_ERRORS
from closeloop.core.api_since import UpdatedSince, updated_since
from closeloop.core.schema import Schema
from closeloop.core.types import User
from closeloop.macros import services
from closeloop.macros.models import Macro

router = Router(tags=["macros"])


class MacroOut(Schema):
    id: int
    title: str
    subject: str
    text: str = Field(description="with placeholders such as {customer_name}, {complaint_number}, {due_date}")
    shared: bool = Field(description="offered to every agent; else the caller's own")
    updated_at: datetime.datetime


class MacroIn(Schema):
    title: str = Field(..., max_length=80)
    text: str = Field(..., max_length=2000)
    subject: str = Field("", max_length=200)
    shared: bool = Field(False, description="a shared reply (CS supervisors); else the caller's own")


class MacroSendIn(Schema):
    complaint: str = Field(..., max_length=20, description="the complaint's number")
    method: Literal["sms", "email"]
    text: str | None = Field(None, max_length=10_000, description="the edited text; empty: the reply's own, filled in")
    subject: str | None = Field(None, max_length=200)


class MacroSentOut(Schema):
    notification: int = Field(description="the outbox row (GET /complaints/{number}/messages shows its delivery)")
    method: str
    text: str = Field(description="as sent, placeholders filled")


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined]  # the user, put there by the API's authentication


def _out(macro: Macro) -> dict[str, Any]:
    return {
        "id": macro.pk,
        "title": macro.title,
        "subject": macro.subject,
        "text": macro.text,
        "shared": macro.owner_id is None,
        "updated_at": macro.updated_at,
    }


def _get(user: User, pk: int) -> Macro:
    return services.macros_for(user).get(pk=pk)  # DoesNotExist → 404


@router.get("/macros", response={200: list[MacroOut], **READ_ERRORS}, summary="My canned replies and the shared ones")
def macro_list(request: HttpRequest, since: Query[UpdatedSince]) -> list[dict[str, Any]]:
    """The canned replies the caller may use: their own, then the shared ones (agents and CS supervisors:
    macros.use_macros, 403 otherwise)."""
    user = _user(request)
    authz.require(user, "macros.use_macros")
    return [_out(m) for m in updated_since(services.macros_for(user), since)]


@router.post("/macros", response={201: MacroOut, **WRITE_ERRORS}, summary="Write a canned reply")
def macro_create(request: HttpRequest, payload: MacroIn) -> Status:
    """Writes a reply of the caller's own, or a shared one (CS supervisors: macros.share_macros, 403
    otherwise). An unknown placeholder, or an empty name or text, is a 422 naming the field."""
    macro = services.macro_create(actor=_user(request), **payload.dict())
    return Status(201, _out(macro))


@router.put("/macros/{pk}", response={200: MacroOut, **ONE_WRITE_ERRORS}, summary="Change a canned reply")
def macro_update(request: HttpRequest, pk: int, payload: MacroIn) -> dict[str, Any]:
    """Changes one of the caller's replies, or a shared one (CS supervisors); `shared` is not changed. Field
    errors as on creation (422); another agent's reply is a 404."""
    user = _user(request)
    values = payload.dict(exclude={"shared"})
    return _out(services.macro_update(actor=user, macro=_get(user, pk), **values))


@router.delete("/macros/{pk}", response={204: None, **ONE_WRITE_ERRORS}, summary="Remove a canned reply")
def macro_delete(request: HttpRequest, pk: int) -> Status:
    """Removes one of the caller's replies, or a shared one (CS supervisors, 403 for others). Messages sent
    from it keep their text; another agent's reply is a 404."""
    user = _user(request)
    services.macro_delete(actor=user, macro=_get(user, pk))
    return Status(204, None)


@router.post("/macros/{pk}/send", response={201: MacroSentOut, **ONE_WRITE_ERRORS}, summary="Send from a reply")
def macro_send(request: HttpRequest, pk: int, payload: MacroSendIn) -> Status:
    """Sends the reply (or the edited `text`) to the complainant by SMS or e-mail through the outbox, on the
    complaint's timeline (customer_written). Agents and CS supervisors; no address for the method, a landline
    for an SMS or an archived complaint is a 422; an unknown complaint or reply a 404."""
    user = _user(request)
    macro = _get(user, pk)
    complaint = complaint_get(user=user, number=payload.complaint)
    subject, text = services.macro_draft(macro=macro, complaint=complaint, actor=user)
    row = services.macro_send(
        actor=user,
        complaint=complaint,
        method=payload.method,
        text=payload.text if payload.text else text,
        subject=payload.subject if payload.subject is not None else subject,
        macro=macro,
        via=Via.API,
    )
    return Status(201, {"notification": row.pk, "method": row.method, "text": row.body})
