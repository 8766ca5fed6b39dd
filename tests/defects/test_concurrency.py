"""Concurrent intakes of one spike raise ONE alert (and notify quality once), never one per complaint.
On PostgreSQL the checks really run in parallel and meet on the product row's lock (and the partial
unique constraint behind it); SQLite serialises writers, so there it only shows nothing breaks."""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.utils import timezone

from closeloop.complaints.models import Complaint
from closeloop.complaints.services import IntakeData, complaint_register
from closeloop.defects.models import AlertStatus, DefectAlert, IncidentEvent
from closeloop.defects.services.claims import SETTLE, spike_checks_claim
from closeloop.defects.services.spikes import spike_check
from closeloop.defects.tasks import spike_check_task
from closeloop.directory.models import Product
from closeloop.notifications.models import Notification


def _in_threads(work: Callable[[int], Any], total: int) -> tuple[list[Any], list[BaseException]]:
    barrier = threading.Barrier(total)

    def run(index: int) -> Any:
        try:
            barrier.wait(timeout=30)
            return work(index)
        finally:
            connection.close()  # each thread has its own connection; give it back

    results, errors = [], []
    with ThreadPoolExecutor(max_workers=total) as pool:
        for future in [pool.submit(run, i) for i in range(total)]:
            try:
                results.append(future.result())
            except BaseException as exc:  # collected and asserted on below
                errors.append(exc)
    return results, errors


def _data(index: int, product: Product) -> IntakeData:
    return IntakeData(
        channel="hotline",
        customer_name=f"并发客户{index}",
        phone=f"1380000{index:04d}",
        description="灯具频闪",
        type_code="quality",
        product_model=product.model,
        batch_no="C1",
        received_at=timezone.now() - datetime.timedelta(hours=index + 1),
    )


def _skip_unless_real_database() -> None:
    name = str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite" and (name == ":memory:" or "mode=memory" in name):
        pytest.skip("threads on an in-memory SQLite database lock tables instead of waiting")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_intakes_raise_one_alert(agent: User, product: Product, quality: User) -> None:
    _skip_unless_real_database()
    total = 8 if connection.vendor == "postgresql" else 4
    spike_checks_claim()  # the cursor stands before the intakes
    numbers, errors = _in_threads(
        lambda i: complaint_register(data=_data(i, product), actor=agent, via="api").number, total
    )
    assert errors == []
    # The worker's claim, then every claimed check at once (as many worker threads would).
    claimed = spike_checks_claim(now=timezone.now() + SETTLE)
    assert len(claimed) == total
    _results, errors = _in_threads(lambda i: spike_check_task.call_local(claimed[i]), total)

    assert errors == []
    alert = DefectAlert.objects.get()
    assert alert.status == AlertStatus.OPEN
    assert set(alert.complaints.values_list("number", flat=True)) == set(numbers)
    raised = IncidentEvent.objects.get(alert=alert, kind="raised")  # exactly one
    joined = IncidentEvent.objects.filter(alert=alert, kind="complaint_joined").count()
    # each complaint is either listed when the alert was raised or joined it after, never both
    assert len(raised.data["complaints"]) >= 3 and len(raised.data["complaints"]) + joined == total
    assert Notification.objects.filter(kind="defect_alert", recipient=quality).count() == 2  # in-app + e-mail


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_checks_of_a_spike_already_registered(agent: User, product: Product, quality: User) -> None:
    """The worst case: every complaint is in, and all the checks start at the same moment."""
    _skip_unless_real_database()
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (run with DATABASE_URL=postgres://…)")
    total = 10
    complaints = [complaint_register(data=_data(i, product), actor=agent, via="api") for i in range(total)]

    outcomes, errors = _in_threads(lambda i: spike_check(complaint=complaints[i]).outcome, total)

    assert errors == []
    assert sorted(outcomes).count("raised") == 1
    assert sorted(outcomes).count("joined_alert") == 0  # all ten were in the first window: listed at once
    alert = DefectAlert.objects.get()
    assert alert.complaints.count() == total
    assert Complaint.objects.filter(defect_alerts=alert).count() == total
    assert Notification.objects.filter(kind="defect_alert", recipient=quality).count() == 2
