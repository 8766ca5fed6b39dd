"""The bulk generator: deterministic, consistent with the lifecycle, numbered like live intake."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from closeloop.complaints.lifecycle import TRANSITIONS, Status
from closeloop.complaints.models import Complaint, DailySequence, Event
from closeloop.demo.generator import days_covering_months, seed_complaints
from closeloop.directory.models import Customer
from tests.conftest import aware

NOW = aware(2026, 11, 23, 10, 30)


def seed(count: int = 300, seed: int = 7, days: int = 30, **kwargs: Any) -> Any:
    return seed_complaints(count=count, seed=seed, days=days, now=NOW, desk_users=[], api_user=None, **kwargs)


def snapshot() -> list[tuple[Any, ...]]:
    return list(
        Complaint.objects.order_by("number").values_list(
            "number", "customer__name", "customer__phone", "status", "received_at", "description", "product__model"
        )
    )


@pytest.mark.django_db
def test_same_seed_gives_same_data_and_another_seed_does_not() -> None:
    runs = []
    for seed_value in (7, 7, 8):
        with transaction.atomic():
            seed(count=120, seed=seed_value)
            runs.append(snapshot())
            transaction.set_rollback(True)
    assert len(runs[0]) == 120
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


@pytest.mark.django_db
def test_every_status_with_consistent_fields_timestamps_and_events() -> None:
    result = seed(count=300)
    assert result.complaints == Complaint.objects.count() == 300
    complaints = list(Complaint.objects.select_related("customer", "type"))
    statuses = {c.status for c in complaints}
    # A month of complaints: the old ones closed and archived, the recent ones at every step.
    assert {"registered", "acknowledged", "in_progress", "resolved", "closed", "archived", "invalid"} <= statuses
    assert statuses <= set(Status.values)
    for c in complaints:
        assert c.received_at <= c.registered_at <= NOW
        if c.status == Status.REGISTERED:
            assert c.acknowledged_at is None
        if c.acknowledged_at:
            assert c.registered_at <= c.acknowledged_at <= NOW
        if c.status in (Status.RESOLVED, Status.CLOSED, Status.ARCHIVED):
            assert c.resolution and c.resolved_at and c.registered_at <= c.resolved_at <= NOW
        elif c.reopen_count == 0:
            assert c.resolved_at is None and not c.resolution
        if c.status in (Status.CLOSED, Status.ARCHIVED):
            assert c.resolved_at <= c.closed_at <= NOW
        else:
            assert c.closed_at is None
        if c.status == Status.ARCHIVED:
            assert c.closed_at + datetime.timedelta(days=7) <= c.archived_at <= NOW
        else:
            assert c.archived_at is None
        if c.status == Status.INVALID:
            assert c.status_reason
        if c.status == Status.DUPLICATE:
            assert c.status_reason and c.duplicate_of_id and c.duplicate_of_id != c.pk
            assert c.duplicate_of.customer_id == c.customer_id
        assert c.department_id == c.type.default_department_id
        assert c.province == c.customer.province
        assert c.product_id or c.product_text
        assert c.updated_at >= c.registered_at

    events = defaultdict(list)
    for event in Event.objects.order_by("at", "id"):
        events[event.complaint_id].append(event)
    for c in complaints:
        trail = events[c.pk]
        assert trail[0].action == "registered" and trail[0].at == c.registered_at
        assert trail[0].after["status"] == "registered" and trail[0].after["type"] == c.type.code
        assert all(e.at <= NOW for e in trail)
        # Each change of state starts where the previous one ended (the table the services enforce),
        # and the last one is the current status.
        status = "registered"
        for event in trail[1:]:
            if event.action not in TRANSITIONS:
                continue
            assert event.before["status"] == status, (c.number, event.action)
            transition = TRANSITIONS[event.action]
            assert status in transition.sources and event.after["status"] == transition.target
            status = event.after["status"]
        assert status == c.status
        if c.status == Status.DUPLICATE:
            marked = [e for e in trail if e.action == "mark_duplicate"]
            assert len(marked) == 1 and marked[0].after["duplicate_of"] == c.duplicate_of_id


@pytest.mark.django_db
def test_customers_kinds_phones_and_repeat_complainants() -> None:
    seed(count=400)
    kinds = set(Customer.objects.values_list("kind", flat=True))
    assert kinds == {"end_user", "deposit", "dealer", "store"}
    phones = [p for p in Customer.objects.values_list("phone", flat=True) if p]
    assert len(phones) == len(set(phones))
    assert all(len(p) == 11 and p[0] == "1" and p.isdigit() for p in phones)
    assert Customer.objects.filter(complaints__isnull=False).distinct().count() < 400  # some complain again
    assert Complaint.objects.filter(product__isnull=True).exclude(product_text="").exists()


def _check_numbering() -> dict[datetime.date, int]:
    per_day: dict[datetime.date, list[int]] = defaultdict(list)
    for number, registered_at in Complaint.objects.values_list("number", "registered_at"):
        day = timezone.localdate(registered_at)
        assert number.startswith(f"TS{day:%Y%m%d}-")
        per_day[day].append(int(number.rsplit("-", 1)[1]))
    sequences = dict(DailySequence.objects.values_list("day", "last"))
    for day, seqs in per_day.items():
        assert sorted(seqs) == list(range(1, len(seqs) + 1)), day
        assert sequences[day] == len(seqs)
    return {day: len(seqs) for day, seqs in per_day.items()}


@pytest.mark.django_db
def test_numbers_unique_and_consecutive_per_day_also_when_seeding_twice() -> None:
    seed(count=300, seed=1)
    first = _check_numbering()
    assert len(first) == 30  # every day of the window
    seed(count=200, seed=2)
    second = _check_numbering()
    assert sum(second.values()) == Complaint.objects.count() == 500


@pytest.mark.django_db
def test_seeding_with_the_same_seed_twice_reuses_customers_instead_of_twins() -> None:
    seed(count=150, seed=3)
    customers = Customer.objects.count()
    seed(count=150, seed=3)
    assert Customer.objects.count() == customers
    assert Complaint.objects.count() == 300
    _check_numbering()


@pytest.mark.django_db
def test_live_intake_continues_the_seeded_sequence(make_complaint: Callable[..., Complaint]) -> None:
    seed(count=300)
    day = NOW.date() - datetime.timedelta(days=3)
    last = DailySequence.objects.get(day=day).last
    assert last > 0
    complaint = make_complaint(now=aware(day.year, day.month, day.day, 23, 50))
    assert complaint.number == f"TS{day:%Y%m%d}-{last + 1:04d}"
    # And today, after the seed's last complaint of the day.
    today_last = DailySequence.objects.get(day=NOW.date()).last
    assert make_complaint(now=NOW).number == f"TS{NOW:%Y%m%d}-{today_last + 1:04d}"
    _check_numbering()


@pytest.mark.django_db
def test_batches_do_not_change_the_data() -> None:
    with transaction.atomic():
        seed(count=90, batch_size=7)
        small = snapshot()
        transaction.set_rollback(True)
    seed(count=90, batch_size=5000)
    assert snapshot() == small


@pytest.mark.django_db
def test_sla_clocks_like_intake_opens_and_transitions_close() -> None:
    from closeloop.sla.models import Deadline

    seed(count=300)
    complaints = {c.pk: c for c in Complaint.objects.all()}
    deadlines = defaultdict(list)
    for deadline in Deadline.objects.filter(task__isnull=True):
        deadlines[deadline.complaint_id].append(deadline)
    assert all(c.sla_policy_id for c in complaints.values())
    for pk, c in complaints.items():
        clocks = {
            d.milestone: d for d in deadlines[pk] if d.milestone in ("acknowledge", "first_response", "resolution")
        }
        assert set(clocks) == {"acknowledge", "first_response", "resolution"}
        assert all(d.started_at == c.received_at and d.warn_at <= d.due_at for d in clocks.values())
        assert all(d.warn_at <= d.due_at for d in deadlines[pk])
        open_ = [d for d in deadlines[pk] if d.met_at is None]
        if c.status in (Status.RESOLVED, Status.CLOSED, Status.ARCHIVED):
            assert all(d.met_at is not None and not d.cancelled for d in clocks.values())
            if not c.reopen_count:
                assert clocks["resolution"].met_at == c.resolved_at
        elif c.status in (Status.INVALID, Status.DUPLICATE):
            cancelled = {m for m, d in clocks.items() if d.cancelled}
            assert not open_ and {"first_response", "resolution"} <= cancelled
        elif c.status == Status.ACKNOWLEDGED:
            assert clocks["acknowledge"].met_at == c.acknowledged_at and open_
        elif c.status == Status.REGISTERED:
            assert len(open_) == 3
        if c.status in (Status.CLOSED, Status.ARCHIVED):
            assert not open_  # the follow-up met its clock before the complaint closed
        running = [d for d in open_ if d.paused_at is None]
        nearest = min(running, key=lambda d: d.due_at, default=None)
        assert c.next_due_at == (nearest.due_at if nearest else None)
        assert c.next_warn_at == (nearest.warn_at if nearest else None)


def test_days_covering_four_full_months_and_the_current_one() -> None:
    assert days_covering_months(NOW) == (datetime.date(2026, 11, 23) - datetime.date(2026, 7, 1)).days + 1
    assert (
        days_covering_months(aware(2026, 2, 1, 8, 0))
        == (datetime.date(2026, 2, 1) - datetime.date(2025, 10, 1)).days + 1
    )
