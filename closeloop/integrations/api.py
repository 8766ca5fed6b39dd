"""The change feed and webhooks over REST (issue 14). Thin: feed.py reads, services.py writes."""

from __future__ import annotations

import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Status

from closeloop.core.api_responses import ONE_ERRORS, ONE_WRITE_ERRORS, READ_ERRORS, WRITE_ERRORS
from closeloop.core.api_since import UpdatedSince, updated_since
from closeloop.core.schema import Schema
from closeloop.core.types import User
from closeloop.integrations import feed, service_feed, services
from closeloop.integrations.models import WebhookDelivery, WebhookSubscription

router = Router(tags=["integrations"])


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined]  # the user, put there by the API's authentication


# --- the change feed -----------------------------------------------------------------------------


class FeedEntryOut(Schema):
    cursor: str = Field(description="pass as `after` to continue after this entry")
    source: str = Field(description="the table: complaint, defect, improvement_action or report")
    id: int = Field(description="the event's id in its source (unique with `source`)")
    kind: str = Field(
        description="<source>.<action>, e.g. complaint.registered, complaint.resolve, defect.alert_raised, "
        "improvement_action.verified, report.approve"
    )
    at: datetime.datetime
    record: str = Field(description="the record it happened to: a complaint's or action's number, an incident's, an id")
    record_type: str = Field(
        description="complaint, defect_alert, defect_incident, spike_rule, improvement_action or report"
    )
    complaint: str | None = Field(description="the complaint's number, for a complaint event")
    action: str
    actor: str | None
    via: str
    before: dict[str, Any]
    after: dict[str, Any]
    note: str


class FeedPage(Schema):
    items: list[FeedEntryOut]
    next: str = Field(description="the cursor to ask with next time (the same when nothing was new)")
    has_more: bool = Field(description="true when the page is full: ask again at once")


class FeedFilters(Schema):
    after: str = Field("", max_length=400, description="the cursor of the last entry read; empty: from the start")
    kind: list[str] = Field(
        default_factory=list,
        description="only these kinds (repeat the parameter); a source alone (`defect`) for all of its kinds",
    )
    limit: int = Field(100, ge=1, le=feed.MAX_LIMIT)


@router.get("/events", response={200: FeedPage, **READ_ERRORS}, summary="The change feed, by cursor")
def events_feed(request: HttpRequest, filters: Query[FeedFilters]) -> dict[str, Any]:
    """Every event of the complaints the caller may see, in a stable order: resume with `after` = the
    last `next` (or any entry's `cursor`) and no event is missed or repeated, events committed late
    included."""
    user = _user(request)
    after = feed.Cursor.decode(filters.after)
    events = feed.feed_events(user=user, after=after, kinds=filters.kind, limit=filters.limit)
    items = [feed.feed_item(e, user=user) for e in events]
    return {
        "items": items,
        "next": items[-1]["cursor"] if items else filters.after,
        "has_more": len(items) == filters.limit,
    }


class ServiceFeedEntryOut(Schema):
    cursor: str = Field(description="pass as `after` to continue after this entry")
    id: int
    kind: str = Field(description="service_order.<action>, e.g. service_order.registered, service_order.ship_in")
    at: datetime.datetime
    service_order: str = Field(description="the service order's number")
    action: str
    actor: str | None
    via: str
    after: dict[str, Any]
    note: str


class ServiceFeedPage(Schema):
    items: list[ServiceFeedEntryOut]
    next: str = Field(description="the cursor to ask with next time (the same when nothing was new)")
    has_more: bool = Field(description="true when the page is full: ask again at once")


@router.get(
    "/events/service-orders",
    response={200: ServiceFeedPage, **READ_ERRORS},
    summary="The service orders' change feed, by cursor",
)
def service_orders_feed(request: HttpRequest, filters: Query[FeedFilters]) -> dict[str, Any]:
    """Every event of the service orders the caller may see (registered, each step with its tracking
    numbers, the follow-up…), in the complaint feed's stable order: resume with `after` = the last `next`."""
    user = _user(request)
    after = service_feed.Cursor.decode(filters.after)
    events = service_feed.service_feed_events(user=user, after=after, kinds=filters.kind, limit=filters.limit)
    items = [service_feed.service_feed_item(e, user=user) for e in events]
    return {
        "items": items,
        "next": items[-1]["cursor"] if items else filters.after,
        "has_more": len(items) == filters.limit,
    }


# --- webhooks (administrators) -------------------------------------------------------------------


class WebhookIn(Schema):
    name: str = Field(..., max_length=80)
    url: str = Field(..., max_length=500)
    kinds: list[str] = Field(default_factory=list, description="event kinds; empty: all")
    secret: str = Field("", max_length=128, description="empty: one is generated (returned once here)")
    is_active: bool = True


class WebhookPatchIn(Schema):
    name: str | None = Field(None, max_length=80)
    url: str | None = Field(None, max_length=500)
    kinds: list[str] | None = None
    secret: str | None = Field(None, max_length=128)
    is_active: bool | None = None


class WebhookOut(Schema):
    id: int
    name: str
    url: str
    kinds: list[str]
    is_active: bool
    owner: str
    created_at: datetime.datetime
    updated_at: datetime.datetime


class WebhookCreatedOut(WebhookOut):
    secret: str = Field(description="signs the deliveries; shown only here")


class WebhookAttemptOut(Schema):
    at: datetime.datetime
    status_code: int | None
    response: str = Field(description="the receiver's answer, cut to WEBHOOK_RESPONSE_KEEP_CHARS")
    error: str
    duration_ms: int


class WebhookDeliveryOut(Schema):
    id: int
    uid: str = Field(description="X-CloseLoop-Delivery")
    webhook: int
    kind: str
    source: str = Field(description="the feed source of the event")
    event: int = Field(description="the event's id in its source")
    state: str = Field(description="pending | sending | delivered | failed")
    attempts: int
    next_attempt_at: datetime.datetime
    delivered_at: datetime.datetime | None
    last_status_code: int | None
    created_at: datetime.datetime
    updated_at: datetime.datetime
    log: list[WebhookAttemptOut]


class WebhookDeliveryPage(Schema):
    items: list[WebhookDeliveryOut]
    count: int


class WebhookDeliveryFilters(Schema):
    state: str = Field("", max_length=10)
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=100_000)


def _webhook(row: WebhookSubscription) -> dict[str, Any]:
    return {
        "id": row.pk,
        "name": row.name,
        "url": row.url,
        "kinds": list(row.kinds),
        "is_active": row.is_active,
        "owner": row.owner.get_username(),
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def _delivery(row: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": row.pk,
        "uid": str(row.uid),
        "webhook": row.subscription_id,
        "kind": row.kind,
        "source": row.source,
        "event": row.event_id,
        "state": row.state,
        "attempts": row.attempts,
        "next_attempt_at": row.next_attempt_at,
        "delivered_at": row.delivered_at,
        "last_status_code": row.last_status_code,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "log": [
            {
                "at": a.at,
                "status_code": a.status_code,
                "response": a.response,
                "error": a.error,
                "duration_ms": a.duration_ms,
            }
            for a in row.log.all()
        ],
    }


def _admin(request: HttpRequest) -> User:
    user = _user(request)
    services.webhooks_check_admin(user)
    return user


@router.get("/webhooks", response={200: list[WebhookOut], **READ_ERRORS}, summary="Webhooks (administrators)")
def webhook_list(request: HttpRequest, since: Query[UpdatedSince]) -> list[dict[str, Any]]:
    """The webhook subscriptions (administrators: integrations.manage_webhooks, 403 otherwise). The secret is
    never shown again after creation."""
    _admin(request)
    return [_webhook(w) for w in updated_since(WebhookSubscription.objects.select_related("owner"), since)]


@router.post("/webhooks", response={201: WebhookCreatedOut, **WRITE_ERRORS}, summary="Subscribe a URL")
def webhook_create(request: HttpRequest, payload: WebhookIn) -> Status:
    """Subscribes a URL to the change feed's events from now on (administrators); answers the signing secret
    once. A URL that is not http(s) or an unknown event kind is a 422 naming the field."""
    row = services.webhook_create(actor=_user(request), **payload.dict())
    return Status(201, {**_webhook(row), "secret": row.secret})


@router.get("/webhooks/{webhook_id}", response={200: WebhookOut, **ONE_ERRORS})
def webhook_get(request: HttpRequest, webhook_id: int) -> dict[str, Any]:
    """One webhook subscription (administrators). An unknown id is a 404."""
    _admin(request)
    return _webhook(WebhookSubscription.objects.select_related("owner").get(pk=webhook_id))


@router.patch("/webhooks/{webhook_id}", response={200: WebhookOut, **ONE_WRITE_ERRORS})
def webhook_patch(request: HttpRequest, webhook_id: int, payload: WebhookPatchIn) -> dict[str, Any]:
    """Changes a subscription's name, URL, kinds, secret or active flag (administrators). Bad values are a 422
    naming the field; an unknown id a 404."""
    user = _admin(request)
    row = WebhookSubscription.objects.select_related("owner").get(pk=webhook_id)
    changes = payload.dict(exclude_none=True)
    return _webhook(services.webhook_update(actor=user, subscription=row, **changes))


@router.delete("/webhooks/{webhook_id}", response={204: None, **ONE_WRITE_ERRORS})
def webhook_delete(request: HttpRequest, webhook_id: int) -> Status:
    """Deletes a subscription and its delivery log (administrators). An unknown id is a 404."""
    _admin(request)
    WebhookSubscription.objects.get(pk=webhook_id).delete()
    return Status(204, None)


@router.get(
    "/webhooks/{webhook_id}/deliveries", response={200: WebhookDeliveryPage, **ONE_ERRORS}, summary="The delivery log"
)
def webhook_deliveries(
    request: HttpRequest, webhook_id: int, filters: Query[WebhookDeliveryFilters], since: Query[UpdatedSince]
) -> dict[str, Any]:
    """The delivery log of a subscription: each event sent, its state, attempts and the receiver's answers
    (administrators). An unknown subscription is a 404."""
    _admin(request)
    subscription = WebhookSubscription.objects.get(pk=webhook_id)
    queryset = updated_since(subscription.deliveries.all(), since)
    if filters.state:
        queryset = queryset.filter(state=filters.state)
    page = queryset.prefetch_related("log")[filters.offset : filters.offset + filters.limit]
    return {"items": [_delivery(d) for d in page], "count": queryset.count()}


@router.post(
    "/webhooks/deliveries/{delivery_id}/redeliver",
    response={202: WebhookDeliveryOut, **ONE_WRITE_ERRORS},
    summary="Send a delivery again",
)
def webhook_redeliver(request: HttpRequest, delivery_id: int) -> Status:
    """Sends a delivery again with a fresh round of attempts and the same delivery id, so receivers can
    deduplicate (administrators). An unknown delivery is a 404."""
    user = _admin(request)
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    services.webhook_redeliver(actor=user, delivery_ids=[delivery.pk])
    delivery.refresh_from_db()
    return Status(202, _delivery(delivery))
