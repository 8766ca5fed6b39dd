"""The permission table: every "who may do this" of the desk, the API and the services, by name.

A permission is named `<app>.<verb>_<object>` and answers *who* may act, from the user's roles and
their relation to the object (handler of the task, manager of its department…); *when* (in which
state) stays with the lifecycle of the object. docs/architecture.md ("Authorization") prints this
table; tests/authz/test_permissions.py fails when that copy is stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import rules
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from rules.predicates import Predicate

from closeloop.authz import predicates as p
from closeloop.authz.actors import Actor
from closeloop.core.errors import PermissionDeniedError
from closeloop.core.roles import Role


@dataclass(frozen=True)
class Permission:
    name: str
    predicate: Predicate
    # What it allows, in the words of the docs' table.
    summary: str
    # The refusal a service raises when it is asked without the permission.
    refusal: str | Promise


_TABLE = [
    # --- complaints
    Permission(
        "complaints.reprioritise_complaint",
        p.is_desk_or_admin,
        "change an open complaint's priority; pause its clocks while waiting for the customer",
        _("Your role may not change this complaint."),
    ),
    Permission(
        "complaints.view_queue",
        p.reads_complaints,
        "open the complaint queue and the complaints one may see (navigation)",
        _("Your role sees no complaints."),
    ),
    Permission(
        "complaints.open_registration",
        p.registers_complaints,
        "open the registration form of the desk (navigation)",
        _("Your role may not register complaints."),
    ),
    Permission(
        "complaints.share_saved_view",
        p.is_cs_supervisor,
        "save a queue view for everyone, change or delete a shared view",
        _("Only CS supervisors manage shared views."),
    ),
    Permission(
        "complaints.attach_evidence",
        p.is_worker,
        "add a file to a complaint",
        _("Your role may not add attachments."),
    ),
    Permission(
        "complaints.write_to_customer",
        p.is_desk,
        "write to the complainant from the complaint (e-mail or SMS)",
        _("Only customer service writes to the customer."),
    ),
    Permission(
        "complaints.look_up_caller",
        p.holds_model_permission("directory.view_customer"),
        "look a caller up by their phone number (the call-centre's screen pop)",
        _("Your role may not look customers up."),
    ),
    Permission(
        "directory.see_personal_data",
        p.may_see_personal_data,
        "see customers' names and contact data unmasked",
        _("You may not see personal data."),
    ),
    # --- handling: tasks
    Permission(
        "handling.dispatch_complaint",
        p.is_desk,
        "dispatch a complaint to departments, redispatch it",
        _("Only customer service may dispatch complaints."),
    ),
    Permission(
        "handling.work_task",
        p.works_on_task,
        "verify a task, ask for information, add progress, reply (task)",
        _("Only the task's handler or its department's manager may work on it."),
    ),
    Permission(
        "handling.provide_task_info",
        p.is_desk,
        "provide the information a task asked for",
        _("Only customer service may provide the missing information."),
    ),
    Permission(
        "handling.log_task_contact",
        p.is_desk | p.is_member_of_task_department,
        "log a contact with the customer on a task (task)",
        _("Only the task's department or customer service may log contacts."),
    ),
    Permission(
        "handling.log_contact",
        p.is_desk | p.is_member_of_a_complaint_task_department,
        "log a contact with the customer on a complaint, outside a task (complaint)",
        _("Only the task's department or customer service may log contacts."),
    ),
    Permission(
        "handling.reassign_task",
        p.is_desk | p.is_manager_of_task_department,
        "give a task to another member of its department (task)",
        _("Only the department's manager or customer service may reassign a task."),
    ),
    Permission(
        "handling.withdraw_task",
        p.is_desk,
        "withdraw a task",
        _("Only customer service may withdraw a task."),
    ),
    Permission(
        "handling.view_stale_tasks",
        p.is_cs_supervisor | p.manages_a_department,
        "see the stale tasks tab of the inbox",
        _("Only CS supervisors and department managers see stale tasks."),
    ),
    Permission(
        "handling.view_task_inbox",
        p.reads_tasks_role,
        "open the task inbox (navigation)",
        _("Your role has no task inbox."),
    ),
    # --- handling: solutions
    Permission(
        "handling.propose_solution",
        p.is_department_staff & (p.is_task_handler | p.is_manager_of_task_department),
        "propose a solution for a task (task)",
        _("Only the task's handler or the department's manager may propose a solution."),
    ),
    Permission(
        "handling.decide_solution",
        p.holds_solution_next_level,
        "approve or reject a solution at its next level (solution)",
        _("Nobody approves their own proposal."),
    ),
    Permission(
        "handling.execute_solution",
        p.is_desk | (p.is_department_staff & p.is_member_of_solution_department),
        "start executing an approved solution (solution)",
        _("The department that proposed the solution, or customer service, executes it."),
    ),
    Permission(
        "handling.mark_step_done",
        p.owns_step | p.is_desk | (p.is_department_staff & p.is_member_of_step_department),
        "tick off a step of a solution (step)",
        _("The step's owner, the department or customer service marks it done."),
    ),
    Permission(
        "handling.view_approvals",
        p.is_approver,
        "open the approvals page (navigation)",
        _("Only CS supervisors and management approve solutions."),
    ),
    # --- handling: postponements and disputes
    Permission(
        "handling.request_postponement",
        p.holds_a_writing_role & (p.is_task_handler | p.is_member_of_task_department),
        "ask for more time on a task (task)",
        _("Only the task's handler or a member of its department may ask for a postponement."),
    ),
    Permission(
        "handling.confirm_postponement",
        p.is_desk,
        "confirm a postponement as customer service",
        _("Only customer service may confirm a postponement."),
    ),
    Permission(
        "handling.decide_postponement",
        p.is_management,
        "decide a postponement as management",
        _("Only management may decide a disputed postponement."),
    ),
    Permission(
        "handling.raise_dispute",
        p.holds_a_writing_role & (p.is_task_handler | p.is_member_of_task_department),
        "contest the dispatch of a task (task)",
        _("Only the task's handler or its department may contest the dispatch."),
    ),
    Permission(
        "handling.decide_dispute",
        p.is_quality,
        "adjudicate a contested dispatch",
        _("Only quality may adjudicate a responsibility dispute."),
    ),
    Permission(
        "handling.view_decisions",
        p.takes_decisions_role,
        "open the decisions page (navigation)",
        _("Your role takes no decisions on postponements or disputes."),
    ),
    # --- handling: feedback forms and roster
    Permission(
        "handling.fill_feedback_form",
        p.fills_feedback_form,
        "fill in a feedback form (form)",
        _("Only the form's handler or a member of the task's department may fill in this feedback form."),
    ),
    Permission(
        "handling.list_forms_to_fill",
        p.is_department_staff,
        "see the feedback forms to fill in",
        _("Only handlers and department managers fill in feedback forms."),
    ),
    Permission(
        "handling.review_feedback_form",
        p.is_cs_supervisor,
        "approve or return a feedback form",
        _("Only a CS supervisor may review feedback forms."),
    ),
    Permission(
        "handling.view_feedback_forms",
        p.reads_tasks_role,
        "open the feedback forms page (navigation)",
        _("Your role has no feedback forms."),
    ),
    Permission(
        "handling.edit_roster",
        p.is_admin | p.is_manager_of_department,
        "edit a department's roster, record leave (department)",
        _("Only the department's manager or an administrator may edit its roster."),
    ),
    Permission(
        "handling.edit_every_roster",
        p.is_admin,
        "edit the roster of every department",
        _("Only an administrator may edit every roster."),
    ),
    Permission(
        "handling.view_roster",
        p.has_any_staff_role,
        "open the roster (navigation)",
        _("Only staff see the roster."),
    ),
    # --- followup
    Permission(
        "followup.link_repeats",
        p.is_desk,
        "link, unlink and merge repeated complaints",
        _("Your role may not link repeated complaints."),
    ),
    Permission(
        "followup.make_followup",
        p.is_desk,
        "make follow-up calls, work the call list",
        _("Only customer-service agents and CS supervisors make follow-ups."),
    ),
    Permission(
        "followup.anonymise_personal_data",
        p.is_admin,
        "anonymise personal data past the retention period",
        _("Only an administrator may anonymise personal data."),
    ),
    # --- improvement
    Permission(
        "improvement.create_action",
        p.is_active_user & (p.manages_improvement | p.is_improvement_creator_role),
        "raise an improvement action",
        _("Only quality, CS supervisors and management (or holders of the permission) raise improvement actions."),
    ),
    Permission(
        "improvement.judge_effect_as_quality",
        p.is_active_user & (p.is_quality | p.manages_improvement),
        "give quality's judgement of an action's effect",
        _("Only quality (or holders of the permission) give quality's judgement."),
    ),
    Permission(
        "improvement.act_as_owner",
        p.is_improvement_owner_side,
        "report progress and the owner's judgement (action)",
        _("Only the action's owner or a manager of the owner department may report its progress."),
    ),
    # --- insight
    Permission(
        "insight.view_kpis",
        p.is_authenticated & (p.is_superuser | p.is_kpi_reader_role),
        "read the dashboard and KPIs (department managers: their departments')",
        _("KPIs are for management, customer-service supervisors, quality, auditors and department managers."),
    ),
    Permission(
        "insight.view_whole_company",
        p.is_superuser | p.sees_whole_company_role,
        "read the figures of the whole company",
        _("You see your departments' figures only."),
    ),
    Permission(
        "insight.read_reports",
        p.reads_reports,
        "open the monthly reports (navigation)",
        _("Your role does not read the reports."),
    ),
    Permission(
        "improvement.view_actions",
        p.reads_improvement_actions,
        "open the improvement actions (navigation)",
        _("Your role does not see improvement actions."),
    ),
    Permission(
        "defects.view_alerts",
        p.reads_defect_incidents,
        "open the early-warning alerts and defect incidents (navigation)",
        _("Your role does not see early warnings."),
    ),
    Permission(
        "core.open_admin_site",
        p.is_staff_member,
        "open the administration site (staff status, not a role)",
        _("Only staff open the administration site."),
    ),
    Permission(
        "insight.manage_report_recipients",
        p.keeps_report_list_role | p.is_superuser,
        "change the distribution list of the reports",
        _("Only CS supervisors, management and administrators may change the distribution list."),
    ),
    Permission(
        "handling.map_root_causes",
        p.is_active_user & (p.is_quality | p.is_cs_supervisor | p.is_admin | p.is_superuser),
        "assign root-cause categories to the free-text causes of feedback forms (the mapping screen)",
        _("Only quality, CS supervisors and administrators map root causes to categories."),
    ),
    # --- integrations (issue 14)
    Permission(
        "integrations.manage_webhooks",
        p.is_admin,
        "subscribe webhooks, change them, read their delivery log, redeliver",
        _("Only administrators manage webhooks."),
    ),
    Permission(
        "core.use_token_scope",
        p.token_grants_scope,
        "use an API token for an operation of a scope (read, intake, write, admin) the token was given",
        _("This token may not be used for this: it lacks the scope the operation needs."),
    ),
    # --- sla
    Permission(
        "macros.use_macros",
        p.is_desk,
        "keep canned replies of one's own and send messages to the customer from them",
        _("Only customer-service agents and CS supervisors use canned replies."),
    ),
    Permission(
        "macros.share_macros",
        p.is_cs_supervisor | p.is_admin,
        "write, change and remove the shared canned replies",
        _("Only CS supervisors change the shared canned replies."),
    ),
    Permission(
        "knowledge.read_articles",
        p.has_any_staff_role,
        "read the knowledge base, drafts included (customers read the published articles on the portal)",
        _("Your role does not read the knowledge base."),
    ),
    Permission(
        "knowledge.edit_articles",
        p.is_cs_supervisor | p.is_quality | p.is_admin,
        "write and publish knowledge-base articles",
        _("Only CS supervisors, quality and administrators write knowledge-base articles."),
    ),
    Permission(
        "sla.view_policies",
        p.has_any_staff_role,
        "read the SLA policies, their targets and selection rules",
        _("Only staff see the SLA policies."),
    ),
    Permission(
        "sla.edit_policies",
        p.is_admin,
        "create, change and deactivate SLA policies, targets and selection rules",
        _("Only an administrator may change the SLA policies."),
    ),
    # --- serviceorders
    Permission(
        "serviceorders.view_orders",
        p.has_any_staff_role,
        "see service orders (repair, return, exchange, installation, inspection, support, consultation)",
        _("Your role may not see service orders."),
    ),
    Permission(
        "serviceorders.register_order",
        p.is_desk_or_admin,
        "register a service order, create one from a complaint, cancel one",
        _("Only customer service registers service orders."),
    ),
    Permission(
        "serviceorders.work_order",
        p.is_worker,
        "work on a service order: dispatch, book visits, record visits, shipments, inspections, sessions; "
        "pause its clocks while waiting for the customer or parts; ask for a postponement",
        _("Your role may not work on service orders."),
    ),
    Permission(
        "serviceorders.decide_postponement",
        p.is_cs_supervisor,
        "approve or reject a service order's postponement request (its deadline moves, the original is kept)",
        _("Only a CS supervisor may decide a service order's postponement."),
    ),
    # --- imports
    Permission(
        "imports.import_complaints",
        p.is_admin,
        "import past complaints (history import), download the import template",
        _("Only administrators may import complaints."),
    ),
    # --- triage (issue 19)
    Permission(
        "triage.ask_suggestions",
        p.is_desk_or_admin,
        "ask for the type, department, priority and product suggested for a complaint's words",
        _("Only customer service asks for triage suggestions."),
    ),
    Permission(
        "triage.view_hazards",
        p.watches_hazards_role | p.is_auditor | p.is_admin,
        "read the month's safety hazards (the basis of a recall decision)",
        _("Only quality, management, auditors and administrators see the safety hazards."),
    ),
    Permission(
        "triage.retrain_model",
        p.is_admin,
        "train a new triage model now; read the models and how often suggestions were accepted",
        _("Only administrators retrain the triage model."),
    ),
]

PERMISSIONS: dict[str, Permission] = {perm.name: perm for perm in _TABLE}

for _perm in _TABLE:
    rules.add_perm(_perm.name, _perm.predicate)


def allowed(who: Any, perm: str, obj: Any = None) -> bool:
    """Whether `who` (a user, an `Actor`, None or anonymous) holds `perm` on `obj`. Asks the rules
    directly, not `user.has_perm`, so a superuser passes exactly the questions their roles pass (a
    superuser holds every role but belongs to no department)."""
    if perm not in PERMISSIONS:
        raise LookupError(f"{perm} is not a permission of closeloop.authz")
    return bool(rules.has_perm(perm, Actor.of(who), obj))


def holds_any(who: Any, group: frozenset[Role]) -> bool:
    """Whether `who` holds a role of `group` (one of the groups in closeloop/authz/roles.py): for
    choosing people (who is told, who is offered as a step's owner), not for refusing them."""
    return bool(Actor.of(who).roles & group)


def require(who: Any, perm: str, obj: Any = None, *, message: str | Promise | None = None) -> None:
    """Raise `PermissionDeniedError` (403 in the API, a message on the desk) unless `allowed`."""
    if not allowed(who, perm, obj):
        raise PermissionDeniedError(message if message is not None else PERMISSIONS[perm].refusal)


def who_may(perm: str) -> str:
    """The predicate of a permission as text (`is_desk | is_member_of_task_department`)."""
    return PERMISSIONS[perm].predicate.name


def as_markdown() -> str:
    """The permission table as docs/architecture.md prints it."""
    lines = ["| permission | who | allows |", "|---|---|---|"]
    lines += [f"| `{perm.name}` | {_who(perm)} | {perm.summary} |" for perm in _TABLE]
    return "\n".join(lines) + "\n"


def _who(perm: Permission) -> str:
    name = perm.predicate.name
    if name.startswith("(") and name.endswith(")"):
        name = name[1:-1]
    return name.replace(" | ", " or ").replace(" & ", " and ")
