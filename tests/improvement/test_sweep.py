"""The deadline sweep: the owner is warned once at the warning point; the owner and the owner department's
managers are told once at the deadline; done actions are left alone; two sweeps never double."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth.models import User
from django.db import connection

from closeloop.improvement.models import ActionEvent, ImprovementAction
from closeloop.improvement.services import action_complete, action_start
from closeloop.improvement.sweeps import improvement_sweep
from closeloop.notifications.models import Notification
from tests.conftest import aware

FRIDAY = aware(2026, 11, 20, 10, 0)
MINUTE = datetime.timedelta(minutes=1)


def _told(kind: str) -> list[str]:
    return sorted(Notification.objects.filter(kind=kind, method="in_app").values_list("recipient__username", flat=True))


@pytest.mark.django_db
def test_warned_once_at_the_warning_point(
    make_action: Callable[..., ImprovementAction], people: dict[str, User]
) -> None:
    action = make_action(now=FRIDAY, target="2wd")  # warns Monday 15:48, due Tuesday 10:00
    assert improvement_sweep(now=action.warn_at - MINUTE).warned == 0
    first = improvement_sweep(now=action.warn_at)
    second = improvement_sweep(now=action.warn_at + MINUTE)
    assert (first.warned, first.overdue, second.warned, second.overdue) == (1, 0, 0, 0)
    assert _told("improvement_warned") == ["i_owner"]
    action.refresh_from_db()
    assert action.warned_at == action.warn_at and action.breached_at is None
    assert list(action.events.filter(kind="improvement_warned").values_list("via", flat=True)) == ["system"]


@pytest.mark.django_db
def test_overdue_once_to_the_owner_and_the_department_managers(
    make_action: Callable[..., ImprovementAction], people: dict[str, User]
) -> None:
    action = make_action(now=FRIDAY, target="2wd")
    improvement_sweep(now=action.warn_at)
    results = [improvement_sweep(now=action.due_at), improvement_sweep(now=action.due_at + MINUTE)]
    assert [r.overdue for r in results] == [1, 0]
    assert _told("improvement_overdue") == ["i_manager", "i_owner"]  # not the tech department's manager
    assert Notification.objects.filter(kind="improvement_overdue").count() == 2
    action.refresh_from_db()
    assert action.breached_at == action.due_at
    assert action.events.filter(kind="improvement_overdue").count() == 1


@pytest.mark.django_db
def test_a_sweep_after_an_outage_sends_only_the_overdue_message(
    make_action: Callable[..., ImprovementAction],
) -> None:
    action = make_action(now=FRIDAY, target="2wd")
    result = improvement_sweep(now=action.due_at + datetime.timedelta(days=3))
    assert (result.warned, result.overdue) == (1, 1)
    assert _told("improvement_warned") == []
    assert _told("improvement_overdue") == ["i_manager", "i_owner"]
    action.refresh_from_db()
    assert action.warned_at is not None and action.breached_at is not None


@pytest.mark.django_db
def test_done_actions_are_not_swept(make_action: Callable[..., ImprovementAction], people: dict[str, User]) -> None:
    action = make_action(now=FRIDAY, target="2wd")
    action = action_start(action=action, actor=people["owner"], now=FRIDAY + MINUTE)
    action_complete(action=action, actor=people["owner"], done_note="完成", now=FRIDAY + 2 * MINUTE)
    result = improvement_sweep(now=FRIDAY + datetime.timedelta(days=10))
    assert (result.warned, result.overdue) == (0, 0)
    assert not Notification.objects.filter(kind__in=["improvement_warned", "improvement_overdue"]).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_on_postgresql_notify_once(
    make_action: Callable[..., ImprovementAction], people: dict[str, User]
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (run with DATABASE_URL=postgres://…)")
    actions = [make_action(now=FRIDAY, target="2wd") for _ in range(20)]
    due = max(a.due_at for a in actions)

    def sweep(_index: int) -> tuple[int, int]:
        try:
            result = improvement_sweep(now=due)
            return result.warned, result.overdue
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(sweep, range(4)))
    assert sum(r[0] for r in results) == 20 and sum(r[1] for r in results) == 20
    assert ActionEvent.objects.filter(kind="improvement_overdue").count() == 20
    assert Notification.objects.filter(kind="improvement_overdue", method="in_app").count() == 40
