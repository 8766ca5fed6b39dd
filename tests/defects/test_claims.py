"""The per-minute claim of new intakes (defects/services/claims.py): intake writes nothing for the
spike check; the worker claims each new complaint exactly once, in id order, and leaves alone what may
still be committing, what has no catalogue model and what was imported."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from closeloop.complaints.models import Complaint
from closeloop.defects.models import DefectAlert, SpikeCursor
from closeloop.defects.services.claims import SETTLE, spike_checks_claim
from closeloop.defects.tasks import spike_claim_task

Intake = Callable[..., Complaint]
pytestmark = pytest.mark.django_db


def later() -> datetime.datetime:
    return timezone.now() + SETTLE + datetime.timedelta(seconds=1)


def test_the_first_claim_starts_after_the_newest_complaint(intake: Intake) -> None:
    old = intake(check=False)
    assert spike_checks_claim(now=later()) == []
    assert SpikeCursor.objects.get().last_complaint_id == old.pk


def test_each_new_complaint_is_claimed_once_in_id_order(intake: Intake, make_complaint: Intake) -> None:
    spike_checks_claim()
    first, second = intake(check=False), intake(check=False)
    no_model = make_complaint()
    assert spike_checks_claim(now=later()) == [first.pk, second.pk]  # no model: nothing to count
    assert spike_checks_claim(now=later()) == []
    assert SpikeCursor.objects.get().last_complaint_id == no_model.pk


def test_the_claim_stops_before_what_may_still_be_committing(intake: Intake) -> None:
    spike_checks_claim()
    older, recent = intake(check=False), intake(check=False)
    Complaint.objects.filter(pk=recent.pk).update(registered_at=timezone.now() + datetime.timedelta(minutes=1))
    assert spike_checks_claim(now=later()) == [older.pk]
    assert spike_checks_claim(now=later() + datetime.timedelta(minutes=1)) == [recent.pk]


def test_imported_history_is_not_claimed(intake: Intake) -> None:
    spike_checks_claim()
    imported = intake(check=False)
    Complaint.objects.filter(pk=imported.pk).update(imported_at=timezone.now())
    assert spike_checks_claim(now=later()) == []


def test_the_periodic_task_raises_the_alert(intake: Intake, quality: User) -> None:
    spike_checks_claim()
    for days in (3, 2, 1):
        intake(days_ago=days, check=False)
    assert not DefectAlert.objects.exists()
    Complaint.objects.update(registered_at=timezone.now() - SETTLE * 2)  # settled
    spike_claim_task.call_local()
    assert DefectAlert.objects.get().complaints.count() == 3
    spike_claim_task.call_local()  # nothing left to claim
    assert DefectAlert.objects.count() == 1


def test_a_claim_reads_a_fixed_number_of_statements(
    intake: Intake, django_assert_num_queries: Callable[..., object]
) -> None:
    spike_checks_claim()
    for _ in range(5):
        intake(check=False)
    with django_assert_num_queries(3 + 2):  # SAVEPOINT/RELEASE around: lock the cursor, read, move it
        assert len(spike_checks_claim(now=later())) == 5
