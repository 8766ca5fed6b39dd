"""The permission table: each permission for the roles it allows and those it refuses, the relations
to an object (handler of the task, manager of its department…) and the docs' copy."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.auth.models import Permission as ModelPermission

from closeloop import authz
from closeloop.authz.permissions import PERMISSIONS, as_markdown
from closeloop.core.errors import PermissionDeniedError
from closeloop.core.roles import Role
from closeloop.directory.models import Department

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
EVERY_ROLE = {r.value for r in Role}
DESK = {"agent", "cs_supervisor"}

# Permissions that need no object: who holds them, by role alone (every other role is refused).
BY_ROLE: dict[str, set[str]] = {
    "complaints.reprioritise_complaint": DESK | {"admin"},
    "complaints.view_queue": EVERY_ROLE,
    "complaints.open_registration": DESK | {"admin"},
    "complaints.share_saved_view": {"cs_supervisor"},
    "complaints.attach_evidence": DESK | {"handler", "dept_manager", "admin"},
    "complaints.write_to_customer": DESK,
    "complaints.look_up_caller": DESK | {"admin"},
    "directory.see_personal_data": DESK | {"handler", "admin"},
    "handling.dispatch_complaint": DESK,
    "handling.provide_task_info": DESK,
    "handling.withdraw_task": DESK,
    "handling.view_task_inbox": {"handler", "dept_manager", "cs_supervisor"},
    "handling.view_approvals": {"cs_supervisor", "management"},
    "handling.confirm_postponement": DESK,
    "handling.decide_postponement": {"management"},
    "handling.decide_dispute": {"quality"},
    "handling.view_decisions": {"dept_manager", "cs_supervisor", "agent", "management", "quality"},
    "handling.list_forms_to_fill": {"handler", "dept_manager"},
    "handling.review_feedback_form": {"cs_supervisor"},
    "handling.view_feedback_forms": {"handler", "dept_manager", "cs_supervisor"},
    "handling.edit_every_roster": {"admin"},
    "handling.view_roster": EVERY_ROLE,
    "followup.link_repeats": DESK,
    "followup.make_followup": DESK,
    "followup.anonymise_personal_data": {"admin"},
    # The role groups, and holders of improvement.manage_improvement (the admin holds every model permission).
    "improvement.create_action": {"cs_supervisor", "quality", "management", "admin"},
    "improvement.judge_effect_as_quality": {"quality", "cs_supervisor", "management", "admin"},
    "insight.view_kpis": {"management", "cs_supervisor", "quality", "auditor", "admin", "dept_manager"},
    "insight.view_whole_company": {"management", "cs_supervisor", "quality", "auditor", "admin"},
    "insight.manage_report_recipients": {"cs_supervisor", "management", "admin"},
    "handling.map_root_causes": {"quality", "cs_supervisor", "admin"},
    "insight.read_reports": {"cs_supervisor", "quality", "auditor", "management", "admin"},
    "improvement.view_actions": EVERY_ROLE - {"agent"},
    "defects.view_alerts": {"cs_supervisor", "dept_manager", "quality", "auditor", "management", "admin"},
    # Django's staff status, which no role gives.
    "core.open_admin_site": set(),
    "integrations.manage_webhooks": {"admin"},
    "sla.view_policies": EVERY_ROLE,
    "knowledge.read_articles": EVERY_ROLE,
    "macros.use_macros": DESK,
    "macros.share_macros": {"cs_supervisor", "admin"},
    "knowledge.edit_articles": {"cs_supervisor", "quality", "admin"},
    "serviceorders.view_orders": EVERY_ROLE,
    "serviceorders.register_order": DESK | {"admin"},
    "serviceorders.work_order": DESK | {"handler", "dept_manager", "admin"},
    "serviceorders.decide_postponement": {"cs_supervisor"},
    "sla.edit_policies": {"admin"},
    "imports.import_complaints": {"admin"},
    "triage.ask_suggestions": DESK | {"admin"},
    "triage.view_hazards": {"quality", "management", "auditor", "admin"},
    "triage.retrain_model": {"admin"},
}

# Permissions about an object: tested one relation at a time below.
BY_RELATION = {
    "handling.work_task",
    "handling.log_task_contact",
    "handling.log_contact",
    "handling.reassign_task",
    "handling.view_stale_tasks",
    "handling.propose_solution",
    "handling.decide_solution",
    "handling.execute_solution",
    "handling.mark_step_done",
    "handling.request_postponement",
    "handling.raise_dispute",
    "handling.fill_feedback_form",
    "handling.edit_roster",
    "improvement.act_as_owner",
    "core.use_token_scope",
}


def test_every_permission_is_tested_here() -> None:
    assert set(PERMISSIONS) == set(BY_ROLE) | BY_RELATION
    assert not set(BY_ROLE) & BY_RELATION


def test_permission_names_say_app_verb_object_and_are_no_model_permission() -> None:
    for name in PERMISSIONS:
        app, codename = name.split(".")
        assert "_" in codename, name
        assert not ModelPermission.objects.filter(content_type__app_label=app, codename=codename).exists(), name


@pytest.mark.parametrize("perm", sorted(BY_ROLE))
def test_each_role_is_allowed_or_refused(perm: str, make_user: Callable[..., Any]) -> None:
    holders = {role for role in EVERY_ROLE if authz.allowed(make_user(role), perm)}
    assert holders == BY_ROLE[perm]
    assert not authz.allowed(None, perm)


def test_allowed_answers_for_a_user_and_the_same_users_actor(make_user: Callable[..., Any]) -> None:
    agent = make_user(Role.AGENT)
    assert authz.allowed(agent, "handling.dispatch_complaint")
    assert authz.allowed(authz.Actor.of(agent), "handling.dispatch_complaint")
    # Django's has_perm asks the same table through rules' backend.
    assert agent.has_perm("handling.dispatch_complaint")
    assert not agent.has_perm("handling.decide_dispute")


def test_an_unknown_permission_is_an_error_not_a_refusal(make_user: Callable[..., Any]) -> None:
    with pytest.raises(LookupError):
        authz.allowed(make_user(Role.AGENT), "handling.dispatch_complains")


def test_require_raises_the_permissions_refusal_or_the_given_message(make_user: Callable[..., Any]) -> None:
    handler = make_user(Role.HANDLER)
    with pytest.raises(PermissionDeniedError) as refused:
        authz.require(handler, "handling.dispatch_complaint")
    assert refused.value.message == PERMISSIONS["handling.dispatch_complaint"].refusal
    with pytest.raises(PermissionDeniedError, match="not now"):
        authz.require(handler, "handling.dispatch_complaint", message="not now")
    authz.require(make_user(Role.AGENT), "handling.dispatch_complaint")


def test_a_superuser_holds_every_role_but_no_department(django_user_model: Any, department: Department) -> None:
    root = django_user_model.objects.create_superuser("root", password="x")
    task = SimpleNamespace(handler_id=None, department_id=department.pk)
    assert authz.allowed(root, "handling.decide_dispute")
    assert not authz.allowed(root, "handling.work_task", task)


# --- relations --------------------------------------------------------------------------------------


@pytest.fixture
def staff(make_user: Callable[..., Any], department: Department, other_department: Department) -> SimpleNamespace:
    return SimpleNamespace(
        agent=make_user(Role.AGENT),
        auditor_member=make_user(Role.AUDITOR, departments=[department]),
        handler=make_user(Role.HANDLER, departments=[department]),
        colleague=make_user(Role.HANDLER, departments=[department]),
        outsider=make_user(Role.HANDLER, departments=[other_department]),
        manager=make_user(Role.DEPT_MANAGER, departments=[department], manager=True),
        other_manager=make_user(Role.DEPT_MANAGER, departments=[other_department], manager=True),
        quality=make_user(Role.QUALITY),
        supervisor=make_user(Role.CS_SUPERVISOR),
        admin=make_user(Role.ADMIN),
    )


def _holders(staff: SimpleNamespace, perm: str, obj: Any) -> set[str]:
    return {name for name, user in vars(staff).items() if authz.allowed(user, perm, obj)}


def _task(staff: SimpleNamespace, department: Department, handler: str | None = "handler") -> SimpleNamespace:
    return SimpleNamespace(
        handler_id=getattr(staff, handler).pk if handler else None, department_id=department.pk, pk=1
    )


def test_working_a_task(staff: SimpleNamespace, department: Department) -> None:
    assert _holders(staff, "handling.work_task", _task(staff, department)) == {"handler", "manager"}
    unassigned = _task(staff, department, handler=None)
    assert _holders(staff, "handling.work_task", unassigned) == {"handler", "colleague", "manager", "auditor_member"}
    # A handler who left the department no longer works the task.
    assert _holders(staff, "handling.work_task", _task(staff, department, handler="outsider")) == {"manager"}


def test_contacts_reassignment_and_stale_tasks(staff: SimpleNamespace, department: Department) -> None:
    task = _task(staff, department)
    assert _holders(staff, "handling.log_task_contact", task) == {
        "agent",
        "supervisor",
        "handler",
        "colleague",
        "manager",
        "auditor_member",
    }
    assert _holders(staff, "handling.reassign_task", task) == {"agent", "supervisor", "manager"}
    assert _holders(staff, "handling.view_stale_tasks", None) == {"supervisor", "manager", "other_manager"}


class _Tasks:
    """`complaint.tasks` as the predicate reads it: filter by department, then exists."""

    def __init__(self, department_ids: list[int]) -> None:
        self.department_ids = department_ids

    def filter(self, *, department_id__in: list[int]) -> SimpleNamespace:
        return SimpleNamespace(exists=lambda: bool(set(department_id__in) & set(self.department_ids)))


def test_contacts_outside_a_task(staff: SimpleNamespace, department: Department) -> None:
    complaint = SimpleNamespace(tasks=_Tasks([department.pk]))
    assert _holders(staff, "handling.log_contact", complaint) == {
        "agent",
        "supervisor",
        "handler",
        "colleague",
        "manager",
        "auditor_member",
    }


def test_postponements_and_disputes_are_asked_by_the_task_side_never_by_an_auditor(
    staff: SimpleNamespace, department: Department
) -> None:
    task = _task(staff, department)
    for perm in ("handling.request_postponement", "handling.raise_dispute"):
        assert _holders(staff, perm, task) == {"handler", "colleague", "manager"}, perm


def test_solutions(staff: SimpleNamespace, department: Department) -> None:
    task = _task(staff, department)
    assert _holders(staff, "handling.propose_solution", task) == {"handler", "manager"}
    solution = SimpleNamespace(next_role="cs_supervisor", proposed_by_id=staff.handler.pk, task_id=1, task=task)
    assert _holders(staff, "handling.decide_solution", solution) == {"supervisor"}
    own = SimpleNamespace(next_role="cs_supervisor", proposed_by_id=staff.supervisor.pk, task_id=1, task=task)
    assert _holders(staff, "handling.decide_solution", own) == set()
    done = SimpleNamespace(next_role=None, proposed_by_id=None, task_id=1, task=task)
    assert _holders(staff, "handling.decide_solution", done) == set()
    assert _holders(staff, "handling.execute_solution", solution) == {
        "agent",
        "supervisor",
        "handler",
        "colleague",
        "manager",
    }
    without_task = SimpleNamespace(next_role=None, proposed_by_id=None, task_id=None, task=None)
    assert _holders(staff, "handling.execute_solution", without_task) == {"agent", "supervisor"}
    step = SimpleNamespace(owner_id=staff.quality.pk, solution=solution)
    assert _holders(staff, "handling.mark_step_done", step) == {
        "quality",
        "agent",
        "supervisor",
        "handler",
        "colleague",
        "manager",
    }


def test_feedback_forms(staff: SimpleNamespace, department: Department, other_department: Department) -> None:
    form = SimpleNamespace(handler_id=staff.outsider.pk, task_id=1, task=_task(staff, department))
    assert _holders(staff, "handling.fill_feedback_form", form) == {
        "outsider",
        "handler",
        "colleague",
        "manager",
        "auditor_member",
    }


def test_rosters(staff: SimpleNamespace, department: Department) -> None:
    assert _holders(staff, "handling.edit_roster", department) == {"manager", "admin"}


def test_improvement_owner_side(staff: SimpleNamespace, department: Department) -> None:
    action = SimpleNamespace(owner_id=staff.outsider.pk, owner_department_id=department.pk)
    assert _holders(staff, "improvement.act_as_owner", action) == {"outsider", "manager"}
    staff.outsider.is_active = False
    assert _holders(staff, "improvement.act_as_owner", action) == {"manager"}


def test_architecture_doc_shows_the_current_permission_table() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert as_markdown() in text


def test_a_token_is_used_only_for_the_scopes_it_was_given(make_user: Any) -> None:
    from closeloop.accounts.api_scopes import TokenUse

    admin = make_user("admin")
    assert authz.allowed(admin, "core.use_token_scope", TokenUse(("read", "write"), "write"))
    assert not authz.allowed(admin, "core.use_token_scope", TokenUse(("read",), "admin"))
    assert not authz.allowed(admin, "core.use_token_scope", None)
