"""The caller's own in-app notifications over REST: the desk's inbox for integrations (issue 14).

Every notice a person gets is an in-app row (the e-mail, SMS or chat copies are deliveries of the same
message), so this list is everything they were told, the audit office's copies on dispatch included.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router

from closeloop.core.api_responses import ONE_WRITE_ERRORS, READ_ERRORS, WRITE_ERRORS
from closeloop.core.api_since import UpdatedSince, updated_since
from closeloop.core.schema import Schema
from closeloop.core.types import User
from closeloop.notifications import selectors, services
from closeloop.notifications.models import Method, Notification

router = Router(tags=["notifications"])


class NotificationOut(Schema):
    id: int
    kind: str = Field(description="what happened, e.g. complaint_dispatched, deadline_warned")
    subject: str
    body: str
    complaint: str | None = Field(description="the complaint's number, when the notice is about one")
    created_at: datetime.datetime
    read_at: datetime.datetime | None
    done_at: datetime.datetime | None = Field(
        None, description="when what the notice asked for was done (by anyone): it no longer counts as unread"
    )
    link: str = Field("", description="the desk page the notice leads to (a path), or empty")
    updated_at: datetime.datetime = Field(description="changes when it is read")


class NotificationPage(Schema):
    items: list[NotificationOut]
    count: int
    unread: int = Field(description="the caller's unread notifications not done yet, whatever the filter")


class NotificationFilters(Schema):
    unread: bool | None = Field(None, description="true: only unread; false: only read")
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=100_000)


class MarkedReadOut(Schema):
    marked: int = Field(description="how many notifications were unread and are now read")


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined]  # the user, put there by the API's authentication


def _notification(row: Notification) -> dict[str, Any]:
    return {
        "id": row.pk,
        "kind": row.kind,
        # In the caller's language (Accept-Language) when the row was stored as message ids.
        "subject": row.shown_subject,
        "body": row.shown_body,
        "complaint": row.complaint.number if row.complaint is not None else None,
        "created_at": row.created_at,
        "read_at": row.read_at,
        "done_at": row.done_at,
        "link": row.target,
        "updated_at": row.updated_at,
    }


@router.get("/notifications", response={200: NotificationPage, **READ_ERRORS}, summary="My notifications")
def notification_list(
    request: HttpRequest, filters: Query[NotificationFilters], since: Query[UpdatedSince]
) -> dict[str, Any]:
    """The caller's in-app notifications, newest first."""
    user = _user(request)
    queryset = updated_since(selectors.notifications_for(user=user), since)
    if filters.unread is not None:
        queryset = queryset.filter(read_at__isnull=filters.unread)
    page = queryset[filters.offset : filters.offset + filters.limit]
    return {
        "items": [_notification(row) for row in page],
        "count": queryset.count(),
        "unread": selectors.unread_count(user=user),
    }


@router.post(
    "/notifications/{notification_id}/read",
    response={200: NotificationOut, **ONE_WRITE_ERRORS},
    summary="Mark one of my notifications read",
)
def notification_read(request: HttpRequest, notification_id: int) -> dict[str, Any]:
    """Marks one of the caller's in-app notifications read. Someone else's notification is a 404."""
    user = _user(request)
    # Someone else's notification is absent as far as the caller is concerned: 404.
    row = Notification.objects.select_related("complaint").get(pk=notification_id, recipient=user, method=Method.IN_APP)
    services.notification_mark_read(user=user, ids=[row.pk])
    row.refresh_from_db(fields=["read_at"])
    return _notification(row)


@router.post("/notifications/read-all", response={200: MarkedReadOut, **WRITE_ERRORS}, summary="Mark all mine read")
def notification_read_all(request: HttpRequest) -> dict[str, Any]:
    """Marks all the caller's in-app notifications read and answers how many were unread."""
    return {"marked": services.notification_mark_read(user=_user(request))}
