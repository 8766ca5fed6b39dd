"""A web action and the SLA sweep touching the same complaint at once must not deadlock (PostgreSQL).

The sweep's transaction updates deadlines and inserts events; at COMMIT PostgreSQL checks the events'
deferred foreign keys with a KEY SHARE lock on the complaint. A web action that had locked the complaint
FOR UPDATE and then waited for one of those deadlines made a cycle (seen in the 10-minute soak: "deadlock
detected"). The services lock FOR NO KEY UPDATE, which KEY SHARE does not conflict with."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from closeloop.complaints.models import Complaint, Event
from closeloop.complaints.services import complaint_transition
from closeloop.sla.models import Deadline


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_transition_and_a_sweep_like_transaction_on_one_complaint_both_commit(
    make_complaint: Callable[..., Complaint], agent: User
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (run with DATABASE_URL=postgres://…)")
    complaint = make_complaint()
    assert Deadline.objects.filter(complaint=complaint, met_at__isnull=True).exists()
    deadlines_held = threading.Event()
    errors: list[BaseException] = []

    def sweep() -> None:
        try:
            with transaction.atomic():
                now = timezone.now()
                Deadline.objects.filter(complaint_id=complaint.pk, met_at__isnull=True).update(warned_at=now)
                Event.objects.create(complaint_id=complaint.pk, at=now, action="deadline_warned", via="system")
                deadlines_held.set()
                time.sleep(1.0)  # the web action takes the complaint's lock and waits for a deadline meanwhile
        except BaseException as exc:  # asserted below
            errors.append(exc)
        finally:
            connection.close()

    def web() -> None:
        try:
            assert deadlines_held.wait(10)
            complaint_transition(
                complaint=Complaint.objects.get(pk=complaint.pk), action="acknowledge", actor=agent, via="api"
            )
        except BaseException as exc:  # asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep), threading.Thread(target=web)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    complaint.refresh_from_db()
    assert complaint.status == "acknowledged"
    assert Event.objects.filter(complaint=complaint, action="deadline_warned").count() == 1
