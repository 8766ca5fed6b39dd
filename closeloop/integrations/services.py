"""Webhooks: subscriptions (administrators only), the fan-out from the change feed, signed deliveries.

Each delivery is POSTed as JSON, the feed entry as its owner sees it, with
    X-CloseLoop-Event: complaint.registered
    X-CloseLoop-Delivery: <uuid, the same on every attempt and on a redelivery>
    X-CloseLoop-Timestamp: <unix seconds of this attempt>
    X-CloseLoop-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the secret>
A 2xx answer delivers it; anything else, or no answer, is retried after WEBHOOK_BACKOFF_SECONDS,
doubled after each failure (at most 6 hours), until WEBHOOK_MAX_ATTEMPTS; then it is failed and an
administrator may redeliver it (admin action or POST /webhooks/deliveries/{id}/redeliver).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import logging
import secrets
import time
import urllib.parse
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from closeloop import authz
from closeloop.core.claims import Raw, claim
from closeloop.core.errors import DomainError
from closeloop.core.types import User
from closeloop.integrations.feed import (
    SOURCES,
    Cursor,
    feed_entry,
    feed_events,
    feed_head,
    feed_item,
    kind_canonical,
)
from closeloop.integrations.models import DeliveryState, WebhookAttempt, WebhookDelivery, WebhookSubscription
from closeloop.notifications.gateways.errors import DeliveryError
from closeloop.notifications.gateways.transport import http_request

log = logging.getLogger(__name__)

MAX_BACKOFF = datetime.timedelta(hours=6)
STALE_SENDING = datetime.timedelta(minutes=10)
FAN_OUT_BATCH = 500


def webhooks_check_admin(user: User) -> None:
    authz.require(user, "integrations.manage_webhooks")


def webhook_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """What X-CloseLoop-Signature carries: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def _clean(*, name: str, url: str, kinds: Iterable[str]) -> tuple[str, str, list[str]]:
    name = name.strip()
    if not name:
        raise DomainError(_("Give the webhook a name."), field="name")
    url = url.strip()
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise DomainError(_("The URL must start with https:// (or http://)."), field="url")
    clean_kinds = sorted({kind_canonical(kind.strip()) for kind in kinds if kind.strip()})
    for kind in clean_kinds:
        if kind.partition(".")[0] not in SOURCES or len(kind) > 60:
            raise DomainError(
                _("“%(kind)s” is not an event kind (they look like complaint.registered or defect).") % {"kind": kind},
                field="kinds",
            )
    return name[:80], url, clean_kinds


def webhook_create(
    *, actor: User, name: str, url: str, kinds: Iterable[str] = (), secret: str = "", is_active: bool = True
) -> WebhookSubscription:
    """A new subscription, receiving the events that happen from now on. Without a secret one is made."""
    webhooks_check_admin(actor)
    name, url, clean_kinds = _clean(name=name, url=url, kinds=kinds)
    head = feed_head()
    return WebhookSubscription.objects.create(
        name=name,
        url=url,
        kinds=clean_kinds,
        secret=secret.strip() or secrets.token_urlsafe(32),
        is_active=is_active,
        owner=actor,
        cursor=head.encode() if head else "",
    )


def webhook_update(*, actor: User, subscription: WebhookSubscription, **changes: Any) -> WebhookSubscription:
    webhooks_check_admin(actor)
    name, url, kinds = _clean(
        name=changes.get("name", subscription.name),
        url=changes.get("url", subscription.url),
        kinds=changes.get("kinds", subscription.kinds),
    )
    subscription.name, subscription.url, subscription.kinds = name, url, kinds
    if changes.get("secret"):
        subscription.secret = str(changes["secret"]).strip()
    if changes.get("is_active") is not None:
        subscription.is_active = bool(changes["is_active"])
    subscription.save()
    return subscription


def webhooks_fan_out(*, now: datetime.datetime | None = None) -> int:
    """Queue a delivery per new feed event for each active subscription; returns how many. The cursor
    moves in the transaction that writes the deliveries, conditional on the value read, so two
    workers doing this at once queue each event once (the unique constraint says so too)."""
    now = now or timezone.now()
    queued = 0
    for subscription in WebhookSubscription.objects.filter(is_active=True).select_related("owner"):
        owner = subscription.owner
        if not authz.allowed(owner, "integrations.manage_webhooks"):
            continue  # its owner may no longer see what it would send
        while True:
            after = Cursor.decode(subscription.cursor)
            events = feed_events(user=owner, after=after, kinds=list(subscription.kinds), limit=FAN_OUT_BATCH)
            if not events:
                break
            cursor = events[-1].cursor.encode()
            with transaction.atomic():
                moved = WebhookSubscription.objects.filter(pk=subscription.pk, cursor=subscription.cursor).update(
                    cursor=cursor
                )
                if not moved:
                    break  # another worker got there first
                WebhookDelivery.objects.bulk_create(
                    [
                        WebhookDelivery(
                            subscription=subscription,
                            source=event.source.name,
                            event_id=event.row.pk,
                            cursor=event.cursor.encode(),
                            kind=event.kind,
                            next_attempt_at=now,
                            created_at=now,
                        )
                        for event in events
                    ],
                    ignore_conflicts=True,
                )
            subscription.cursor = cursor
            queued += len(events)
            if len(events) < FAN_OUT_BATCH:
                break
    return queued


def _backoff(attempts: int) -> datetime.timedelta:
    seconds = settings.WEBHOOK_BACKOFF_SECONDS * 2 ** max(0, attempts - 1)
    return min(MAX_BACKOFF, datetime.timedelta(seconds=seconds))


def delivery_body(delivery: WebhookDelivery) -> bytes:
    entry = feed_entry(delivery.source, delivery.event_id, cursor=Cursor.decode(delivery.cursor))
    item = feed_item(entry, user=delivery.subscription.owner)
    payload = {"delivery": str(delivery.uid), "event": item}
    return json.dumps(payload, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":")).encode()


def _attempt(delivery: WebhookDelivery) -> bool:
    """Send one attempt, log it, and set the delivery's next state; True when delivered."""
    subscription = delivery.subscription
    body = delivery_body(delivery)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "CloseLoop-Webhooks/1",
        "X-CloseLoop-Event": delivery.kind,
        "X-CloseLoop-Delivery": str(delivery.uid),
        "X-CloseLoop-Timestamp": timestamp,
        "X-CloseLoop-Signature": webhook_signature(secret=subscription.secret, timestamp=timestamp, body=body),
    }
    started = time.monotonic()
    status: int | None = None
    response = error = ""
    try:
        answer = http_request("POST", subscription.url, headers=headers, body=body)
        status = answer.status
        response = answer.body[: settings.WEBHOOK_RESPONSE_KEEP_CHARS * 4].decode("utf-8", "replace")
    except DeliveryError as exc:
        error = str(exc)[:500]
    keep = settings.WEBHOOK_RESPONSE_KEEP_CHARS
    WebhookAttempt.objects.create(
        delivery=delivery,
        status_code=status,
        response=response[:keep],
        error=error,
        duration_ms=int((time.monotonic() - started) * 1000),
    )
    now = timezone.now()
    if status is not None and 200 <= status < 300:
        WebhookDelivery.objects.filter(pk=delivery.pk, state=DeliveryState.SENDING).update(
            state=DeliveryState.DELIVERED, delivered_at=now, last_status_code=status, updated_at=now
        )
        return True
    final = delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS
    WebhookDelivery.objects.filter(pk=delivery.pk, state=DeliveryState.SENDING).update(
        state=DeliveryState.FAILED if final else DeliveryState.PENDING,
        next_attempt_at=now + _backoff(delivery.attempts),
        last_status_code=status,
        updated_at=now,
    )
    log.warning("webhook delivery %s attempt %s failed: %s", delivery.pk, delivery.attempts, status or error)
    return False


def webhooks_deliver(*, now: datetime.datetime | None = None, limit: int = 100) -> dict[str, int]:
    """Claim due deliveries and send them (the worker, every minute and after the fan-out)."""
    now = now or timezone.now()
    stale = now - STALE_SENDING
    WebhookDelivery.objects.filter(state=DeliveryState.SENDING, claimed_at__lt=stale).update(
        state=DeliveryState.PENDING, next_attempt_at=now
    )
    ids = list(
        WebhookDelivery.objects.filter(state=DeliveryState.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    claimed = claim(
        WebhookDelivery,
        ids,
        assignments={"state": DeliveryState.SENDING, "claimed_at": now, "attempts": Raw('"attempts" + 1')},
        condition="state = 'pending'",
    )
    result = {"delivered": 0, "retry": 0}
    deliveries = WebhookDelivery.objects.filter(pk__in=claimed).select_related("subscription__owner")
    for delivery in deliveries.order_by("id"):
        result["delivered" if _attempt(delivery) else "retry"] += 1
    return result


def webhook_redeliver(*, actor: User, delivery_ids: Iterable[int]) -> int:
    """Send deliveries again (a receiver lost them, or they failed): back to pending, now, with a fresh
    round of attempts. The delivery id stays the same."""
    webhooks_check_admin(actor)
    return (
        WebhookDelivery.objects.filter(pk__in=list(delivery_ids))
        .exclude(state=DeliveryState.SENDING)
        .update(state=DeliveryState.PENDING, attempts=0, next_attempt_at=timezone.now(), updated_at=timezone.now())
    )


def webhooks_run() -> dict[str, int]:
    """The worker's round: queue what the feed has new, then send what is due."""
    queued = webhooks_fan_out()
    return {"queued": queued, **webhooks_deliver()}
