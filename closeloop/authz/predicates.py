"""The named questions a permission is built from. Each takes who asks (a user or an `Actor`) and,
for the questions about an object, the object, whose attributes it reads (`task.handler_id`,
`task.department_id`, …): authz imports no package that defines those objects.
"""

from __future__ import annotations

from typing import Any

import rules
from rules.predicates import Predicate

from closeloop.authz import roles as groups
from closeloop.authz.actors import Actor
from closeloop.core.roles import Role


def has_role(role: Role) -> Predicate:
    return Predicate(lambda who: role in Actor.of(who).roles, name=f"role {role.value}")


def has_any_role(group: frozenset[Role]) -> Predicate:
    return Predicate(
        lambda who: bool(Actor.of(who).roles & group), name=f"role in {{{', '.join(sorted(r.value for r in group))}}}"
    )


def holds_model_permission(permission: str) -> Predicate:
    """A permission of Django's groups (sync_role_groups): active users only, superusers hold all."""

    def test(who: Any) -> bool:
        user = Actor.of(who).user
        return bool(user is not None and user.is_active and user.has_perm(permission))

    return Predicate(test, name=f"holds({permission})")


is_agent = has_role(Role.AGENT)
is_cs_supervisor = has_role(Role.CS_SUPERVISOR)
is_handler = has_role(Role.HANDLER)
is_dept_manager = has_role(Role.DEPT_MANAGER)
is_quality = has_role(Role.QUALITY)
is_auditor = has_role(Role.AUDITOR)
is_management = has_role(Role.MANAGEMENT)
is_admin = has_role(Role.ADMIN)

is_desk = has_any_role(groups.DESK)
is_desk_or_admin = has_any_role(groups.DESK_AND_ADMIN)
is_department_staff = has_any_role(groups.DEPARTMENT)
is_worker = has_any_role(groups.WORKERS)
sees_whole_company_role = has_any_role(groups.WHOLE_COMPANY)
is_kpi_reader_role = has_any_role(groups.KPI_READERS)
is_improvement_creator_role = has_any_role(groups.IMPROVEMENT_CREATORS)
keeps_report_list_role = has_any_role(groups.REPORT_LIST_KEEPERS)
reads_tasks_role = has_any_role(groups.TASK_READERS)
takes_decisions_role = has_any_role(groups.DECIDERS)
is_approver = has_any_role(groups.APPROVERS)
watches_hazards_role = has_any_role(groups.HAZARD_WATCHERS)


@rules.predicate
def is_authenticated(who: Any) -> bool:
    return Actor.of(who).user is not None


@rules.predicate
def is_active_user(who: Any) -> bool:
    user = Actor.of(who).user
    return bool(user is not None and user.is_active)


@rules.predicate
def is_superuser(who: Any) -> bool:
    return bool(getattr(Actor.of(who).user, "is_superuser", False))


@rules.predicate
def is_staff_member(who: Any) -> bool:
    """Django's staff status (the admin site's door), not a role."""
    user = Actor.of(who).user
    return bool(user is not None and user.is_active and user.is_staff)


@rules.predicate
def has_any_staff_role(who: Any) -> bool:
    return bool(Actor.of(who).roles)


@rules.predicate
def holds_a_writing_role(who: Any) -> bool:
    """A role besides auditor: an auditor (or a user with no role) never writes on a task."""
    return bool(Actor.of(who).roles - groups.READ_ONLY)


@rules.predicate
def manages_a_department(who: Any) -> bool:
    return Actor.of(who).manages_any()


may_see_personal_data = holds_model_permission("directory.view_personal_data")
# The pages of the menu that Django's groups open (closeloop/core/roles.py: ROLE_PERMISSIONS).
reads_complaints = holds_model_permission("complaints.view_complaint")
registers_complaints = holds_model_permission("complaints.register_complaint")
reads_reports = holds_model_permission("insight.view_report")
reads_improvement_actions = holds_model_permission("improvement.view_improvementaction")
reads_defect_incidents = holds_model_permission("defects.view_defectincident")
manages_improvement = holds_model_permission("improvement.manage_improvement")


# --- tasks (anything with handler_id and department_id) -----------------------------------------------


@rules.predicate
def is_task_handler(who: Any, task: Any) -> bool:
    actor = Actor.of(who)
    return actor.user is not None and task.handler_id == actor.user.pk


@rules.predicate
def task_has_no_handler(who: Any, task: Any) -> bool:
    return task.handler_id is None


@rules.predicate
def is_member_of_task_department(who: Any, task: Any) -> bool:
    return Actor.of(who).is_member(task.department_id)


@rules.predicate
def is_manager_of_task_department(who: Any, task: Any) -> bool:
    return Actor.of(who).is_manager(task.department_id)


@rules.predicate
def is_member_of_a_complaint_task_department(who: Any, complaint: Any) -> bool:
    """A member of a department that has (or had) a task on the complaint."""
    actor = Actor.of(who)
    return bool(actor.departments) and complaint.tasks.filter(department_id__in=list(actor.departments)).exists()


# The task's handler, any member of its department while it has no handler, or its manager.
works_on_task = is_manager_of_task_department | (is_member_of_task_department & (task_has_no_handler | is_task_handler))


# --- departments, solutions, steps, feedback forms, improvement actions --------------------------------


@rules.predicate
def is_manager_of_department(who: Any, department: Any) -> bool:
    return Actor.of(who).is_manager(department.pk)


def _solution_department(solution: Any) -> int | None:
    return solution.task.department_id if solution.task_id is not None else None


@rules.predicate
def is_member_of_solution_department(who: Any, solution: Any) -> bool:
    return Actor.of(who).is_member(_solution_department(solution))


@rules.predicate
def holds_solution_next_level(who: Any, solution: Any) -> bool:
    """The role the solution's next approval level names; nobody approves their own proposal."""
    actor = Actor.of(who)
    role = solution.next_role
    return role is not None and actor.user is not None and role in actor.roles and solution.proposed_by_id != actor.pk


@rules.predicate
def owns_step(who: Any, step: Any) -> bool:
    actor = Actor.of(who)
    return actor.user is not None and step.owner_id == actor.pk


@rules.predicate
def is_member_of_step_department(who: Any, step: Any) -> bool:
    return Actor.of(who).is_member(_solution_department(step.solution))


@rules.predicate
def fills_feedback_form(who: Any, form: Any) -> bool:
    """The form's handler, or a member of its task's department."""
    actor = Actor.of(who)
    if actor.user is None:
        return False
    if form.handler_id == actor.pk:
        return True
    return form.task_id is not None and actor.is_member(form.task.department_id)


@rules.predicate
def token_grants_scope(who: Any, use: Any) -> bool:
    """`use` is a TokenUse (closeloop/accounts/api_scopes.py): the token's scopes and the scope the
    operation needs. Roles are asked separately by each operation: a scope narrows, never widens."""
    return use is not None and use.scope in use.scopes


@rules.predicate
def is_improvement_owner_side(who: Any, action: Any) -> bool:
    """The action's owner, or a manager of its owner department."""
    actor = Actor.of(who)
    if actor.user is None or not actor.user.is_active:
        return False
    return action.owner_id == actor.pk or actor.is_manager(action.owner_department_id)
