"""Desk pages for solutions: the panel on the complaint page (proposal, approval chain, execution
steps), the POST endpoints behind its forms, and the approvals page of CS supervisors and management.

Forms parse; `handling.services.solutions` decides. On a refusal the complaint page is drawn again
with the bound form (what was typed kept, the message on its field)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from closeloop import authz
from closeloop.complaints import selectors
from closeloop.complaints.lifecycle import TRANSITIONS
from closeloop.complaints.models import Complaint, Via
from closeloop.complaints.panels import Panel
from closeloop.core.errors import DomainError, PermissionDeniedError
from closeloop.core.forms_ui import add_domain_errors, refusal_status
from closeloop.core.types import AnyUser, AuthenticatedHttpRequest
from closeloop.handling.models import (
    ACTIVE_TASK_STATUSES,
    CompensationForm,
    ExecutionStep,
    Measure,
    Solution,
    SolutionStatus,
    Task,
)
from closeloop.handling.services import solutions as services

# --- forms ---------------------------------------------------------------------------------------


def _owner_choices() -> list[tuple[str, str]]:
    """People who carry out steps: the departments' and customer service's staff (one query)."""
    users = authz.recipients.members_of_roles(authz.STEP_OWNERS).order_by("username")
    return [("", "—")] + [(str(u.pk), u.get_full_name() or u.get_username()) for u in users]


class ProposeForm(forms.Form):
    task = forms.TypedChoiceField(label=gettext_lazy("for the task of"), coerce=int)
    measures = forms.MultipleChoiceField(
        label=gettext_lazy("measures"), choices=Measure.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    description = forms.CharField(
        label=gettext_lazy("what will be done"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    compensation_amount = forms.DecimalField(
        label=gettext_lazy("compensation amount (CNY)"), required=False, max_digits=10, decimal_places=2
    )
    compensation_form = forms.ChoiceField(
        label=gettext_lazy("compensation form"),
        required=False,
        choices=[("", "—"), *CompensationForm.choices],
    )
    custom_made = forms.BooleanField(label=gettext_lazy("custom-made product"), required=False)

    def __init__(self, *args: Any, tasks: list[Task], **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "propose")
        super().__init__(*args, **kwargs)
        self.tasks = {t.pk: t for t in tasks}
        self.fields["task"].choices = [(t.pk, t.department.label) for t in tasks]  # type: ignore[attr-defined]  # a (Model)ChoiceField; form fields are typed Field


class StepForm(forms.Form):
    description = forms.CharField(label=gettext_lazy("step"), required=False, max_length=300)
    owner = forms.ChoiceField(label=gettext_lazy("owner"), required=False)
    due_date = forms.DateField(
        label=gettext_lazy("due"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, owner_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = owner_choices  # type: ignore[attr-defined]  # a (Model)ChoiceField; form fields are typed Field
        # The steps are rows of a table under one heading: each field names its row.
        row = int(str(self.prefix or "step-0").rpartition("-")[2] or 0) + 1
        for form_field in self.fields.values():
            form_field.widget.attrs["aria-label"] = _("Step %(n)s: %(field)s") % {"n": row, "field": form_field.label}


StepFormSet = forms.formset_factory(StepForm, extra=3, max_num=services.MAX_STEPS, absolute_max=services.MAX_STEPS)


class DecideForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("reason (required to reject)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class StepDoneForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("note"), required=False, max_length=2000)


def _proposal_forms(tasks: list[Task], data: Any = None) -> tuple[ProposeForm, forms.BaseFormSet]:
    owner_choices = _owner_choices()
    form = ProposeForm(data, tasks=tasks)
    steps = StepFormSet(data, prefix="step", form_kwargs={"owner_choices": owner_choices})
    return form, steps


def _step_rows(steps: forms.BaseFormSet) -> list[services.StepData]:
    owners = {u.pk: u for u in get_user_model().objects.filter(pk__in=_owner_ids(steps))}
    rows = []
    for step in steps:
        data = step.cleaned_data
        if not data or not (data.get("description") or "").strip():
            continue  # blank lines of the form are not steps
        owner = owners.get(int(data["owner"])) if data.get("owner") else None
        rows.append(services.StepData(description=data["description"], owner=owner, due_date=data.get("due_date")))
    return rows


def _owner_ids(steps: forms.BaseFormSet) -> list[int]:
    return [int(s.cleaned_data["owner"]) for s in steps if s.cleaned_data and s.cleaned_data.get("owner")]


# --- the panel -----------------------------------------------------------------------------------


@dataclass
class LevelRow:
    number: int
    role: str
    label: str
    state: str  # approved | rejected | waiting (the next one) | later
    approval: Any = None


@dataclass
class SolutionRow:
    solution: Solution
    measures: list[str]
    levels: list[LevelRow]
    steps: list[tuple[ExecutionStep, StepDoneForm | None]]
    decide_form: DecideForm | None = None
    can_execute: bool = False
    history: list[Any] = field(default_factory=list)


def _levels(solution: Solution) -> list[LevelRow]:
    decided = {a.level: a for a in solution.approvals.all()}
    rows = []
    for number, role in enumerate(solution.required_levels, start=1):
        approval = decided.get(number)
        if approval is not None:
            state = "approved" if approval.approved else "rejected"
        elif solution.status == SolutionStatus.PENDING and number == solution.approved_levels + 1:
            state = "waiting"
        else:
            state = "later"
        rows.append(LevelRow(number, role, services.role_label(role), state, approval))
    return rows


def _proposable_tasks(user: AnyUser, complaint: Complaint) -> list[Task]:
    if complaint.status not in TRANSITIONS["propose_solution"].sources:
        return []
    tasks = Task.objects.filter(complaint=complaint, status__in=ACTIVE_TASK_STATUSES).select_related("department")
    return [t for t in tasks if services.solution_can_propose(user=user, task=t)]


def panel_context(request: HttpRequest, complaint: Complaint) -> dict[str, Any] | None:
    user = request.user
    bound: dict[Any, Any] = getattr(request, "_solution_forms", {})
    rows = []
    pending = False
    for solution in services.solutions_of(complaint=complaint):
        pending = pending or solution.status == SolutionStatus.PENDING
        steps = []
        for step in solution.steps.all():
            step.solution = solution  # already loaded; spares a query per step
            can_done = services.step_can_mark_done(user=user, step=step)
            done_form = (bound.get(("step", step.pk)) or StepDoneForm(prefix=f"step{step.pk}")) if can_done else None
            steps.append((step, done_form))
        rows.append(
            SolutionRow(
                solution=solution,
                measures=[str(Measure(m).label) for m in solution.measures if m in Measure.values],
                levels=_levels(solution),
                steps=steps,
                decide_form=(bound.get(("decide", solution.pk)) or DecideForm(prefix=f"decide{solution.pk}"))
                if services.solution_can_decide(user=user, solution=solution)
                else None,
                can_execute=services.solution_can_execute(user=user, solution=solution),
            )
        )
    propose_form = propose_steps = None
    tasks = [] if pending else _proposable_tasks(user, complaint)
    if tasks:
        if "propose" in bound:
            propose_form, propose_steps = bound["propose"]
        else:
            propose_form, propose_steps = _proposal_forms(tasks)
    if not rows and propose_form is None:
        return None
    return {
        "solutions": rows,
        "propose_form": propose_form,
        "propose_steps": propose_steps,
        "open_propose": "propose" in bound,
    }


def panel(request: HttpRequest, complaint: Complaint) -> Panel | None:
    """This area's panel on the complaint page (complaints/panels.py), or None."""
    context = panel_context(request, complaint)
    if context is None:
        return None
    return Panel(template="handling/solutions/panel.html", context=context, order=30, column="main")


# --- actions -------------------------------------------------------------------------------------


def _complaint(request: HttpRequest, number: str) -> Complaint:
    try:
        return selectors.complaint_get(user=request.user, number=number)
    except Complaint.DoesNotExist:
        raise Http404(_("No such complaint.")) from None


def _solution(request: HttpRequest, solution_id: int) -> Solution:
    visible = selectors.complaints_visible_to(request.user)
    try:
        return Solution.objects.select_related("complaint", "task").get(pk=solution_id, complaint__in=visible)
    except Solution.DoesNotExist:
        raise Http404(_("No such solution.")) from None


def _page_again(
    request: HttpRequest, complaint: Complaint, *, bound: dict[Any, Any], error: str, status: int
) -> HttpResponse:
    """The complaint page with this area's bound form; a message the form cannot show goes on top."""
    from closeloop.complaints.views import _detail_response

    request._solution_forms = bound  # type: ignore[attr-defined]  # a per-request attribute of our own
    complaint = _complaint(request, complaint.number)  # re-read: the refusal may be due to a change meanwhile
    return _detail_response(request, complaint, error=error, status=status)


def _back(request: HttpRequest, complaint: Complaint) -> HttpResponse:
    target = request.POST.get("next", "")
    if target == "approvals":
        return redirect("handling:approvals")
    return redirect("desk:detail", number=complaint.number)


@login_required
@require_POST
def propose(request: AuthenticatedHttpRequest, number: str) -> HttpResponse:
    complaint = _complaint(request, number)
    tasks = _proposable_tasks(request.user, complaint)
    form, steps = _proposal_forms(tasks, request.POST)
    if not tasks:
        error = _("You cannot propose a solution for this complaint now.")
        return _page_again(request, complaint, bound={}, error=error, status=403)
    if form.is_valid() and steps.is_valid():
        data = form.cleaned_data
        try:
            services.solution_propose(
                complaint=complaint,
                task=form.tasks[data["task"]],
                measures=data["measures"],
                description=data["description"],
                compensation_amount=data["compensation_amount"],
                compensation_form=data["compensation_form"],
                custom_made=data["custom_made"],
                steps=_step_rows(steps),
                actor=request.user,
                via=Via.DESK,
            )
        except DomainError as exc:
            if isinstance(exc, PermissionDeniedError):
                return _page_again(request, complaint, bound={}, error=str(exc.message), status=403)
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("Solution proposed; it waits for approval."))
            return redirect("desk:detail", number=complaint.number)
    return _page_again(request, complaint, bound={"propose": (form, steps)}, error="", status=422)


@login_required
@require_POST
def decide(request: AuthenticatedHttpRequest, solution_id: int) -> HttpResponse:
    solution = _solution(request, solution_id)
    form = DecideForm(request.POST, prefix=f"decide{solution.pk}")
    decision = request.POST.get("decision")
    if decision not in ("approve", "reject"):
        form.add_error(None, _("Approve or reject."))
    elif form.is_valid():
        try:
            decided = services.solution_decide(
                solution=solution,
                approve=decision == "approve",
                reason=form.cleaned_data["reason"],
                actor=request.user,
                via=Via.DESK,
            )
        except DomainError as exc:
            if isinstance(exc, PermissionDeniedError) or exc.field != "reason":
                return _page_again(
                    request,
                    solution.complaint,
                    bound={},
                    error=str(exc.message),
                    status=refusal_status(exc),
                )
            add_domain_errors(form, exc)
        else:
            messages.success(request, _decided_message(decided))
            return _back(request, solution.complaint)
    return _page_again(request, solution.complaint, bound={("decide", solution.pk): form}, error="", status=422)


def _decided_message(solution: Solution) -> str:
    """What the decision did and what comes next ("approved at level 1 of 2, waiting for level 2")."""
    levels = len(solution.required_levels)
    if solution.status == SolutionStatus.PENDING:
        return _("Solution approved (level %(level)s of %(levels)s); waiting for level %(next)s's approval.") % {
            "level": solution.approved_levels,
            "levels": levels,
            "next": solution.approved_levels + 1,
        }
    if solution.status == SolutionStatus.REJECTED:
        return _("Solution rejected; the complaint is back with the department, which proposes another.")
    return _("Solution approved (level %(level)s of %(levels)s, the last): it can be executed now.") % {
        "level": levels,
        "levels": levels,
    }


@login_required
@require_POST
def execute(request: AuthenticatedHttpRequest, solution_id: int) -> HttpResponse:
    solution = _solution(request, solution_id)
    try:
        services.solution_execute(solution=solution, actor=request.user, via=Via.DESK)
    except DomainError as exc:
        status = refusal_status(exc)
        return _page_again(request, solution.complaint, bound={}, error=str(exc.message), status=status)
    messages.success(request, _("Execution started: mark each step done; then the complaint can be resolved."))
    return _back(request, solution.complaint)


@login_required
@require_POST
def step_done(request: AuthenticatedHttpRequest, solution_id: int, step_id: int) -> HttpResponse:
    solution = _solution(request, solution_id)
    try:
        step = solution.steps.select_related("solution__task").get(pk=step_id)
    except ExecutionStep.DoesNotExist:
        raise Http404(_("No such step.")) from None
    form = StepDoneForm(request.POST, prefix=f"step{step.pk}")
    if form.is_valid():
        try:
            services.execution_step_done(step=step, note=form.cleaned_data["note"], actor=request.user, via=Via.DESK)
        except DomainError as exc:
            status = refusal_status(exc)
            return _page_again(request, solution.complaint, bound={}, error=str(exc.message), status=status)
        messages.success(request, _("Step done."))
        return _back(request, solution.complaint)
    return _page_again(request, solution.complaint, bound={("step", step.pk): form}, error="", status=422)


# --- the approvals page --------------------------------------------------------------------------


@login_required
@require_GET
def approvals(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Solutions waiting for a level that one of my roles decides."""
    waiting = services.solutions_awaiting(user=request.user)
    rows = [
        {
            "solution": s,
            "measures": [str(Measure(m).label) for m in s.measures if m in Measure.values],
            "level": s.approved_levels + 1,
            "levels": len(s.required_levels),
            "role": services.role_label(s.next_role or ""),
        }
        for s in waiting
    ]
    return render(request, "handling/solutions/approvals.html", {"rows": rows})


urlpatterns: list[URLPattern] = [
    path("c/<str:number>/solutions/propose/", propose, name="solution_propose"),
    path("solutions/<int:solution_id>/decide/", decide, name="solution_decide"),
    path("solutions/<int:solution_id>/execute/", execute, name="solution_execute"),
    path("solutions/<int:solution_id>/steps/<int:step_id>/done/", step_done, name="solution_step_done"),
    path("approvals/", approvals, name="approvals"),
]
