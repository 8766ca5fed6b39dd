"""Signed webhooks against a real HTTP server on 127.0.0.1 that checks the signature itself."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.contrib.auth.models import User

from closeloop.complaints.models import Complaint
from closeloop.integrations.models import DeliveryState, WebhookDelivery, WebhookSubscription
from closeloop.integrations.services import webhook_create, webhooks_deliver, webhooks_fan_out, webhooks_run
from closeloop.serviceorders.services import OrderData, order_register, order_transition
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db
SECRET = "s3cret-for-the-test"


@dataclass
class Receiver:
    """Answers with the next status of `statuses` (then 200); keeps what it got and whether the
    signature it computed itself matched."""

    url: str = ""
    statuses: list[int] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)


def verify(secret: str, headers: dict[str, str], body: bytes, *, tolerance: int = 300) -> bool:
    """What a receiver does (docs/api.md shows the same): HMAC of "<timestamp>.<body>", compared in
    constant time, and a timestamp no older than five minutes."""
    timestamp = headers["x-closeloop-timestamp"]
    expected = "sha256=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    fresh = abs(time.time() - int(timestamp)) <= tolerance
    return fresh and hmac.compare_digest(expected, headers["x-closeloop-signature"])


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            state.received.append(
                {"headers": headers, "body": json.loads(body), "signed": verify(SECRET, headers, body)}
            )
            status = state.statuses.pop(0) if state.statuses else 200
            answer = b'{"ok": false, "why": "' + b"x" * 5000 + b'"}' if status >= 500 else b'{"ok": true}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/closeloop"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user("admin", username="admin")


def _later(minutes: int) -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=minutes)


def test_a_delivery_is_signed_retried_after_a_500_and_redelivered(
    receiver: Receiver, admin: User, make_complaint: Callable[..., Complaint], settings: Any
) -> None:
    settings.WEBHOOK_RESPONSE_KEEP_CHARS = 100
    subscription = webhook_create(
        actor=admin, name="crm", url=receiver.url, kinds=["complaint.registered"], secret=SECRET
    )
    complaint = make_complaint()
    receiver.statuses = [500]

    first = webhooks_run()

    assert first == {"queued": 1, "delivered": 0, "retry": 1}
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == DeliveryState.PENDING
    assert delivery.last_status_code == 500
    assert [(a.status_code, len(a.response)) for a in delivery.log.all()] == [(500, 100)]  # cut to the setting
    # Not due yet: the backoff holds it back; due later, it goes again and succeeds.
    assert webhooks_deliver()["delivered"] == 0
    assert webhooks_deliver(now=_later(1)) == {"delivered": 1, "retry": 0}
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DELIVERED
    assert delivery.attempts == 2

    assert len(receiver.received) == 2
    for got in receiver.received:
        assert got["signed"]
        assert got["headers"]["x-closeloop-event"] == "complaint.registered"
        assert got["headers"]["x-closeloop-delivery"] == str(delivery.uid)
        assert got["body"]["event"]["complaint"] == complaint.number
        assert got["body"]["event"]["kind"] == "complaint.registered"

    # A manual redelivery: the same delivery id, sent again.
    client = ApiClient(_admin_key(admin))
    answer = client.post(f"/api/v1/webhooks/deliveries/{delivery.pk}/redeliver")
    assert answer.status_code == 202, answer.content
    assert answer.json()["state"] == "pending"
    assert webhooks_deliver()["delivered"] == 1
    assert len(receiver.received) == 3
    assert receiver.received[2]["headers"]["x-closeloop-delivery"] == str(delivery.uid)
    assert receiver.received[2]["signed"]
    log = client.get(f"/api/v1/webhooks/{subscription.pk}/deliveries").json()["items"][0]["log"]
    assert [entry["status_code"] for entry in log] == [500, 200, 200]


def test_a_wrong_secret_does_not_verify(
    receiver: Receiver, admin: User, make_complaint: Callable[..., Complaint]
) -> None:
    webhook_create(actor=admin, name="crm", url=receiver.url, secret="another-secret")
    make_complaint()

    webhooks_run()

    assert receiver.received and not any(got["signed"] for got in receiver.received)


def test_only_kinds_subscribed_and_only_events_after_subscribing(
    receiver: Receiver, admin: User, make_complaint: Callable[..., Complaint]
) -> None:
    make_complaint()  # before the subscription: not sent
    webhook_create(actor=admin, name="crm", url=receiver.url, kinds=["complaint.acknowledge"], secret=SECRET)
    make_complaint()  # registered: not a kind it asked for

    assert webhooks_run() == {"queued": 0, "delivered": 0, "retry": 0}
    assert receiver.received == []
    assert webhooks_fan_out() == 0  # nothing queued twice


def test_a_delivery_fails_after_the_last_attempt(
    receiver: Receiver, admin: User, make_complaint: Callable[..., Complaint], settings: Any
) -> None:
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    webhook_create(actor=admin, name="crm", url=receiver.url, secret=SECRET)
    make_complaint()
    receiver.statuses = [503, 503]

    webhooks_run()
    webhooks_deliver(now=_later(10))

    assert WebhookDelivery.objects.get().state == DeliveryState.FAILED


def test_webhooks_are_managed_by_administrators_only(
    admin: User, agent: User, api_client_for: Callable[[User], ApiClient]
) -> None:
    created = api_client_for(admin).post_json(
        "/api/v1/webhooks", {"name": "crm", "url": "https://crm.example.com/hook", "kinds": ["complaint.resolve"]}
    )
    assert created.status_code == 201, created.content
    assert len(created.json()["secret"]) >= 32
    assert "secret" not in api_client_for(admin).get("/api/v1/webhooks").json()[0]

    assert api_client_for(agent).get("/api/v1/webhooks").status_code == 403
    bad = api_client_for(admin).post_json("/api/v1/webhooks", {"name": "x", "url": "ftp://x", "kinds": []})
    assert bad.status_code == 422
    patched = api_client_for(admin).patch(
        f"/api/v1/webhooks/{created.json()['id']}", {"is_active": False}, content_type="application/json"
    )
    assert patched.json()["is_active"] is False
    assert not WebhookSubscription.objects.get().is_active


def _admin_key(admin: User) -> str:
    from closeloop.core.services import api_token_create

    return api_token_create(user=admin, name="hooks")[1]


def test_service_order_events_are_delivered_signed_like_complaint_events(
    receiver: Receiver, admin: User, agent: User, make_complaint: Callable[..., Complaint]
) -> None:
    # Given a subscriber to two service-order kinds, spelt as issue 16 spells them
    subscription = webhook_create(
        actor=admin,
        name="erp",
        url=receiver.url,
        kinds=["serviceorder.registered", "serviceorder.dispatch"],
        secret=SECRET,
    )
    assert subscription.kinds == ["service_order.dispatch", "service_order.registered"]  # the feed's own names
    # When a service order is registered and dispatched (and a complaint, not asked for, registered)
    order = order_register(
        data=OrderData(
            kind="repair", channel="hotline", customer_name="王芳", phone="13712345678", description="吸顶灯闪烁"
        ),
        actor=agent,
        via="desk",
    )
    order_transition(order=order, action="dispatch", actor=agent, via="desk", data={"department": "tech"})
    make_complaint()
    receiver.statuses = [500]  # the first attempt fails: retried as a complaint event is

    assert webhooks_run() == {"queued": 2, "delivered": 1, "retry": 1}
    assert webhooks_deliver(now=_later(1)) == {"delivered": 1, "retry": 0}

    # Then both steps arrive signed, named by kind, carrying the order as the owner sees it
    deliveries = {d.kind: d for d in WebhookDelivery.objects.all()}
    assert set(deliveries) == {"service_order.registered", "service_order.dispatch"}
    assert {d.state for d in deliveries.values()} == {DeliveryState.DELIVERED}
    assert {d.source for d in deliveries.values()} == {"service_order"}
    assert len(receiver.received) == 3
    assert all(got["signed"] for got in receiver.received)
    kinds = [got["headers"]["x-closeloop-event"] for got in receiver.received]
    assert sorted(set(kinds)) == ["service_order.dispatch", "service_order.registered"]
    for got in receiver.received:
        event = got["body"]["event"]
        assert event["record"] == order.number
        assert event["record_type"] == "service_order"
        assert event["kind"] == got["headers"]["x-closeloop-event"]
        assert got["headers"]["x-closeloop-delivery"] == str(deliveries[event["kind"]].uid)
    dispatched = next(g for g in receiver.received if g["body"]["event"]["kind"] == "service_order.dispatch")
    assert dispatched["body"]["event"]["after"]["department"] == "tech"


def test_service_order_deliveries_are_masked_for_an_owner_who_may_not_see_personal_data(
    receiver: Receiver, admin: User, agent: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    webhook_create(actor=admin, name="erp", url=receiver.url, kinds=["service_order"], secret=SECRET)
    order = order_register(
        data=OrderData(
            kind="consultation", channel="hotline", customer_name="王芳", phone="13712345678", description="咨询保修"
        ),
        actor=agent,
        via="desk",
    )
    order_transition(
        order=order, action="cancel", actor=agent, via="desk", data={"reason": "客户改用电话 13712345678 联系"}
    )
    # The owner's masking is asked of the same rule the feed asks (core.masking), as for complaint events.
    monkeypatch.setattr("closeloop.integrations.feed.can_see_personal_data", lambda user: False)

    webhooks_run()

    cancelled = next(g for g in receiver.received if g["body"]["event"]["kind"] == "service_order.cancel")
    assert cancelled["signed"]
    assert "13712345678" not in cancelled["body"]["event"]["note"]
    assert cancelled["body"]["event"]["note"].startswith("客户改用电话 ")
