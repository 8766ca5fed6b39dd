"""Fixtures for reopen, closing, archive and retention: people, and complaints brought to a state
through the real services (intake, tasks, the lifecycle's transitions)."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from closeloop.complaints.lifecycle import TRANSITIONS
from closeloop.complaints.models import Complaint
from closeloop.complaints.services import complaint_transition, transition_apply
from closeloop.core.roles import Role
from closeloop.core.services import api_token_create
from closeloop.directory.models import Department
from closeloop.followup.models import FollowUp
from closeloop.handling.models import FeedbackForm, FeedbackStatus, Task, TaskStatus
from closeloop.handling.services.tasks import task_create
from tests.api.conftest import ApiClient


@pytest.fixture
def people(make_user: Callable[..., User]) -> dict[str, User]:
    quality = Department.objects.get(code="quality")
    tech = Department.objects.get(code="tech")
    return {
        "agent": make_user(Role.AGENT, username="c_agent"),
        "supervisor": make_user(Role.CS_SUPERVISOR, username="c_supervisor"),
        "supervisor2": make_user(Role.CS_SUPERVISOR, username="c_supervisor2"),
        "quality_handler": make_user(Role.HANDLER, departments=[quality], username="c_qh"),
        "tech_handler": make_user(Role.HANDLER, departments=[tech], username="c_th"),
        "auditor": make_user(Role.AUDITOR, username="c_auditor"),
        "admin": make_user(Role.ADMIN, username="c_admin"),
    }


@pytest.fixture
def api_as() -> Callable[[User], ApiClient]:
    def make(user: User) -> ApiClient:
        _token, raw_key = api_token_create(user=user, name=f"tests-{user.username}")
        return ApiClient(raw_key)

    return make


def resolve(complaint: Complaint, actor: User, now: datetime.datetime | None = None) -> Complaint:
    return complaint_transition(
        complaint=complaint, action="resolve", actor=actor, via="desk", data={"resolution": "已更换灯具"}, now=now
    )


def set_followup(complaint: Complaint, outcome: str, at: datetime.datetime | None = None) -> FollowUp:
    """The latest follow-up round with this outcome ("" = still open); created when there is none (the
    follow-up area may already have created it when the complaint was resolved)."""
    at = at or timezone.now()
    followup = FollowUp.objects.filter(complaint=complaint).order_by("-round", "-id").first()
    if followup is None:
        followup = FollowUp.objects.create(complaint=complaint, round=1, created_at=at)
    followup.outcome = outcome
    followup.completed_at = at if outcome else None
    followup.save(update_fields=["outcome", "completed_at"])
    return followup


@pytest.fixture
def handled(
    make_complaint: Callable[..., Complaint], people: dict[str, User]
) -> Callable[..., tuple[Complaint, dict[str, Task]]]:
    """A complaint dispatched to quality and tech, both replied, resolved by customer service."""

    def make(**overrides: Any) -> tuple[Complaint, dict[str, Task]]:
        complaint = make_complaint(actor=people["agent"], **overrides)
        now = timezone.now()
        with transaction.atomic():
            locked = Complaint.objects.select_for_update().get(pk=complaint.pk)
            tasks = {
                code: task_create(
                    complaint=locked,
                    department=Department.objects.get(code=code),
                    handler=people[f"{code}_handler"],
                    actor=people["agent"],
                    via="desk",
                    now=now,
                )
                for code in ("quality", "tech")
            }
            transition_apply(
                locked=locked,
                transition=TRANSITIONS["dispatch"],
                actor=people["agent"],
                via="desk",
                now=now,
                data={"departments": ["quality", "tech"]},
            )
            transition_apply(
                locked=locked,
                transition=TRANSITIONS["start_handling"],
                actor=people["quality_handler"],
                via="desk",
                now=now,
            )
        Task.objects.filter(pk__in=[t.pk for t in tasks.values()]).update(
            status=TaskStatus.REPLIED, replied_at=now, reply="已处理"
        )
        complaint = resolve(complaint, people["agent"])
        for task in tasks.values():
            task.refresh_from_db()
        return complaint, tasks

    return make


def add_form(complaint: Complaint, task: Task, status: str = FeedbackStatus.APPROVED) -> FeedbackForm:
    form, _ = FeedbackForm.objects.update_or_create(
        task=task, defaults={"complaint": complaint, "handler": task.handler, "status": status}
    )
    return form


@pytest.fixture(autouse=True)
def _english(settings: Any) -> Iterator[None]:
    """These tests read the English messages; 简体中文 is the default elsewhere."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield
