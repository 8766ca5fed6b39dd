"""Fixtures for solutions: a complaint whose quality task is in progress, and a proposal helper."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User

from closeloop.complaints.models import Complaint
from closeloop.handling.models import Solution, Task, TaskStatus
from closeloop.handling.services.solutions import solution_propose


@pytest.fixture(autouse=True)
def _english(settings: Any) -> None:
    settings.LANGUAGE_CODE = "en"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def working(
    dispatched: Callable[..., tuple[Complaint, dict[str, Task]]],
) -> Callable[..., tuple[Complaint, dict[str, Task]]]:
    """A dispatched complaint whose tasks the departments have verified (tasks in progress)."""

    def make(**overrides: Any) -> tuple[Complaint, dict[str, Task]]:
        complaint, tasks = dispatched(**overrides)
        Task.objects.filter(complaint=complaint).update(status=TaskStatus.IN_PROGRESS)
        complaint.refresh_from_db()
        for task in tasks.values():
            task.refresh_from_db()
        return complaint, tasks

    return make


@pytest.fixture
def propose(people: dict[str, User]) -> Callable[..., Solution]:
    """Propose through the service with sensible defaults; keyword arguments override them."""

    def make(complaint: Complaint, task: Task, **overrides: Any) -> Solution:
        fields: dict[str, Any] = {
            "measures": ["onsite_repair"],
            "description": "上门更换驱动电源",
            "compensation_amount": None,
            "compensation_form": "",
            "custom_made": False,
            "steps": [("更换驱动电源", task.handler, None)],
            "actor": task.handler,
            "via": "desk",
        }
        fields.update(overrides)
        return solution_propose(complaint=complaint, task=task, **fields)

    return make
