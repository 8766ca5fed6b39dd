"""The outbox: retried with backoff, never lost when a worker dies mid-delivery, failed ones visible."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from closeloop.notifications import backends
from closeloop.notifications.models import Method, Notification, State
from closeloop.notifications.services import (
    Message,
    notifications_build,
    notifications_queue,
    outbox_deliver,
    outbox_recover,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def email_row(agent):
    agent.email = "agent@example.com"
    agent.save()
    now = timezone.now()
    notifications_queue(
        notifications_build(
            message=Message(kind="test", subject="主题", body="正文", dedup="t1"), recipients=[agent], now=now
        )
    )
    return Notification.objects.get(method=Method.EMAIL)


def test_in_app_rows_are_delivered_by_being_written_and_dedup_prevents_doubles(agent):
    now = timezone.now()
    message = Message(kind="test", subject="s", dedup="once")
    notifications_queue(notifications_build(message=message, recipients=[agent, agent], now=now))
    notifications_queue(notifications_build(message=message, recipients=[agent], now=now))

    rows = Notification.objects.filter(recipient=agent)
    assert rows.count() == 1
    assert rows.get().state == State.SENT


def test_delivery_failing_twice_then_succeeding(email_row, monkeypatch):
    calls = {"n": 0}
    real = backends.deliver

    def flaky(notification):
        calls["n"] += 1
        if calls["n"] <= 2:
            raise ConnectionError("SMTP down")
        real(notification)

    monkeypatch.setattr(backends, "deliver", flaky)
    clock = timezone.now()
    assert outbox_deliver(now=clock) == {"sent": 0, "retry": 1, "failed": 0}
    email_row.refresh_from_db()
    assert email_row.state == State.PENDING and "SMTP down" in email_row.last_error
    # Not retried before its backoff has passed.
    assert outbox_deliver(now=clock) == {"sent": 0, "retry": 0, "failed": 0}

    assert outbox_deliver(now=clock + datetime.timedelta(minutes=5))["retry"] == 1
    assert outbox_deliver(now=clock + datetime.timedelta(minutes=10))["sent"] == 1

    email_row.refresh_from_db()
    assert (email_row.state, email_row.attempts) == (State.SENT, 3)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["agent@example.com"]


def test_delivery_that_keeps_failing_ends_failed_and_visible(email_row, monkeypatch, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    monkeypatch.setattr(backends, "deliver", lambda n: (_ for _ in ()).throw(OSError("refused")))
    clock = timezone.now()
    outbox_deliver(now=clock)
    assert outbox_deliver(now=clock + datetime.timedelta(hours=2)) == {"sent": 0, "retry": 0, "failed": 1}
    assert Notification.objects.filter(state=State.FAILED).count() == 1


def test_worker_killed_mid_delivery_is_recovered_not_lost(email_row, monkeypatch):
    class Killed(BaseException):  # like SIGKILL: nothing after it runs, not even the failure handler
        pass

    def die(notification):
        raise Killed

    monkeypatch.setattr(backends, "deliver", die)
    clock = timezone.now()
    with pytest.raises(Killed):
        outbox_deliver(now=clock)
    email_row.refresh_from_db()
    assert email_row.state == State.SENDING

    monkeypatch.undo()
    assert outbox_recover(now=clock + datetime.timedelta(minutes=1)) == 0  # not stale yet
    assert outbox_recover(now=clock + datetime.timedelta(minutes=10)) == 1
    assert outbox_deliver(now=clock + datetime.timedelta(minutes=10))["sent"] == 1
    assert len(mail.outbox) == 1
