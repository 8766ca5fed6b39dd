"""Fixtures for cross-department handling: people of two departments and a dispatched complaint.

`dispatched` builds its tasks with `task_create` and the lifecycle's `transition_apply` (the same
calls the dispatch service makes), so tests of solutions, postponements, disputes and feedback forms
do not depend on the dispatch form.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from closeloop.complaints.lifecycle import TRANSITIONS
from closeloop.complaints.models import Complaint
from closeloop.complaints.services import transition_apply
from closeloop.core.roles import Role
from closeloop.directory.models import Department
from closeloop.handling.models import Task
from closeloop.handling.services.tasks import task_create


@pytest.fixture
def quality_dept(db: None) -> Department:
    return Department.objects.get(code="quality")


@pytest.fixture
def tech_dept(db: None) -> Department:
    return Department.objects.get(code="tech")


@pytest.fixture
def people(make_user: Callable[..., User], quality_dept: Department, tech_dept: Department) -> dict[str, User]:
    """One person per role; handlers and managers in the quality and tech departments."""
    return {
        "agent": make_user(Role.AGENT, username="p_agent"),
        "supervisor": make_user(Role.CS_SUPERVISOR, username="p_supervisor"),
        "quality_handler": make_user(Role.HANDLER, departments=[quality_dept], username="p_qh"),
        "tech_handler": make_user(Role.HANDLER, departments=[tech_dept], username="p_th"),
        "quality_manager": make_user(Role.DEPT_MANAGER, departments=[quality_dept], manager=True, username="p_qm"),
        "tech_manager": make_user(Role.DEPT_MANAGER, departments=[tech_dept], manager=True, username="p_tm"),
        "quality": make_user(Role.QUALITY, username="p_quality"),
        "auditor": make_user(Role.AUDITOR, username="p_auditor"),
        "management": make_user(Role.MANAGEMENT, username="p_gm"),
    }


@pytest.fixture
def dispatched(
    make_complaint: Callable[..., Complaint], people: dict[str, User], quality_dept: Department, tech_dept: Department
) -> Callable[..., tuple[Complaint, dict[str, Task]]]:
    """A complaint dispatched to quality and tech, each task with its handler; returns (complaint, tasks)."""

    def make(**overrides: Any) -> tuple[Complaint, dict[str, Task]]:
        complaint = make_complaint(actor=people["agent"], **overrides)
        now = timezone.now()
        with transaction.atomic():
            locked = Complaint.objects.select_for_update().get(pk=complaint.pk)
            tasks = {
                "quality": task_create(
                    complaint=locked,
                    department=quality_dept,
                    handler=people["quality_handler"],
                    actor=people["agent"],
                    via="desk",
                    now=now,
                ),
                "tech": task_create(
                    complaint=locked,
                    department=tech_dept,
                    handler=people["tech_handler"],
                    actor=people["agent"],
                    via="desk",
                    now=now,
                ),
            }
            transition_apply(
                locked=locked,
                transition=TRANSITIONS["dispatch"],
                actor=people["agent"],
                via="desk",
                now=now,
                data={"departments": ["quality", "tech"]},
            )
        complaint.refresh_from_db()
        return complaint, tasks

    return make
