"""Desk pages for department tasks: the dispatch form and the tasks on the complaint page (this
module's `panel`), the actions on a task, and the handler inbox.

Thin views: forms parse what was typed, `handling.services.tasks` decides; a refusal puts its message
on the form, which is shown again with what was typed (status 422)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from closeloop import authz
from closeloop.complaints.forms import DATETIME_LOCAL_FORMAT
from closeloop.complaints.lifecycle import TRANSITIONS, Status
from closeloop.complaints.models import Complaint, Via
from closeloop.complaints.panels import Panel
from closeloop.core.errors import DomainError
from closeloop.core.forms_ui import add_domain_errors
from closeloop.core.types import AuthenticatedHttpRequest
from closeloop.directory.models import Department, Membership
from closeloop.handling import selectors
from closeloop.handling.models import ContactChannel, ContactOutcome, Task, TaskStatus
from closeloop.handling.services import tasks as services
from closeloop.handling.services.roster import roster_propose

# States in which customer service may (re)dispatch from the complaint page.
# The dispatch row's states (a reopened complaint goes back to the departments too) and the redispatches.
DISPATCHABLE = frozenset({*TRANSITIONS["dispatch"].sources, *services.REDISPATCH_STATUSES})
POOL = ""


def _user_label(user: Any) -> str:
    return user.get_full_name() or user.get_username()


# --- forms -----------------------------------------------------------------------------------------------


class DispatchForm(forms.Form):
    """One checkbox and one handler choice per active department, and the instruction for all."""

    instruction = forms.CharField(
        label=gettext_lazy("instruction to the departments"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(
        self,
        *args: Any,
        departments: list[Department],
        members: dict[int, list[Any]],
        proposals: dict[int, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.departments = departments
        self.members_by_id = {u.pk: u for people in members.values() for u in people}
        proposals = proposals or {}
        for department in departments:
            self.fields[f"dept_{department.code}"] = forms.BooleanField(
                label=department.label, required=False, initial=department.pk in proposals
            )
            choices = [(POOL, _("— department pool (the manager assigns) —"))]
            choices += [(str(u.pk), _user_label(u)) for u in members.get(department.pk, [])]
            proposed = proposals.get(department.pk)
            self.fields[f"handler_{department.code}"] = forms.ChoiceField(
                label=_("handler"),
                choices=choices,
                required=False,
                initial=str(proposed.pk) if proposed is not None else POOL,
                # One select per row of the table: its name says which department it is for.
                widget=forms.Select(
                    attrs={"aria-label": _("%(department)s: handler") % {"department": department.label}}
                ),
            )
        self.proposed_ids = set(proposals)

    def rows(self) -> list[tuple[Department, forms.BoundField, forms.BoundField, bool]]:
        return [
            (d, self[f"dept_{d.code}"], self[f"handler_{d.code}"], d.pk in self.proposed_ids) for d in self.departments
        ]

    def assignments(self) -> list[services.Assignment]:
        instruction = self.cleaned_data.get("instruction", "")
        chosen = []
        for department in self.departments:
            if not self.cleaned_data.get(f"dept_{department.code}"):
                continue
            handler_id = self.cleaned_data.get(f"handler_{department.code}") or POOL
            handler = self.members_by_id.get(int(handler_id)) if handler_id else None
            chosen.append(services.Assignment(department=department, handler=handler, instruction=instruction))
        return chosen


class VerifyForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("note"), required=False, max_length=5000)


class RequestInfoForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("what is missing"), max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )


class InfoProvidedForm(forms.Form):
    info = forms.CharField(
        label=gettext_lazy("the information asked for"), max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ContactForm(forms.Form):
    at = forms.DateTimeField(
        label=gettext_lazy("when"),
        input_formats=[DATETIME_LOCAL_FORMAT],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL_FORMAT),
    )
    channel = forms.ChoiceField(label=gettext_lazy("channel"), choices=ContactChannel.choices)
    outcome = forms.ChoiceField(label=gettext_lazy("outcome"), choices=ContactOutcome.choices)
    summary = forms.CharField(label=gettext_lazy("summary"), max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"at": timezone.localtime().replace(second=0, microsecond=0)})
        super().__init__(*args, **kwargs)


class ProgressForm(forms.Form):
    text = forms.CharField(label=gettext_lazy("progress"), max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))


class ReplyForm(forms.Form):
    reply = forms.CharField(
        label=gettext_lazy("result for customer service"), max_length=10000, widget=forms.Textarea(attrs={"rows": 3})
    )


class ReassignForm(forms.Form):
    handler = forms.ChoiceField(label=gettext_lazy("new handler"), required=False)
    note = forms.CharField(label=gettext_lazy("note"), required=False, max_length=2000)

    def __init__(self, *args: Any, members: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.members_by_id = {u.pk: u for u in members}
        cast(forms.ChoiceField, self.fields["handler"]).choices = [(POOL, _("— department pool —"))] + [
            (str(u.pk), _user_label(u)) for u in members
        ]

    def chosen_handler(self) -> Any:
        value = self.cleaned_data.get("handler") or POOL
        return self.members_by_id.get(int(value)) if value else None


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("reason"), max_length=5000)


# action -> (form, button label, css style)
ACTION_FORMS: dict[str, tuple[type[forms.Form], Any, str]] = {
    "verify": (VerifyForm, gettext_lazy("Verify"), "primary"),
    "request_info": (RequestInfoForm, gettext_lazy("Ask customer service for information"), ""),
    "info_provided": (InfoProvidedForm, gettext_lazy("Provide the information"), "primary"),
    "contact": (ContactForm, gettext_lazy("Log a contact"), ""),
    "progress": (ProgressForm, gettext_lazy("Add progress"), ""),
    "reply": (ReplyForm, gettext_lazy("Reply to customer service"), "primary"),
    "reassign": (ReassignForm, gettext_lazy("Reassign"), ""),
    "withdraw": (WithdrawForm, gettext_lazy("Withdraw the task"), "danger"),
}


def _make_form(action: str, members: list[Any], data: Any = None, *, task_id: int = 0) -> forms.Form:
    """Several tasks' forms share the page: their element ids carry the task and the action."""
    form_class = ACTION_FORMS[action][0]
    auto_id = f"id_t{task_id}_{action}_%s"
    if form_class is ReassignForm:
        return ReassignForm(data, members=members, auto_id=auto_id)
    return form_class(data, auto_id=auto_id)


def _call(action: str, task: Task, form: forms.Form, user: Any) -> None:
    """The service behind each action, with what the form parsed."""
    data = form.cleaned_data
    common = {"actor": user, "via": Via.DESK}
    if action == "verify":
        services.task_verify(task=task, note=data.get("note", ""), **common)
    elif action == "request_info":
        services.task_request_info(task=task, reason=data["reason"], **common)
    elif action == "info_provided":
        services.task_info_provided(task=task, info=data["info"], **common)
    elif action == "contact":
        services.contact_log_add(
            complaint=task.complaint,
            task=task,
            at=data["at"],
            channel=data["channel"],
            outcome=data["outcome"],
            summary=data["summary"],
            **common,
        )
    elif action == "progress":
        services.progress_add(task=task, text=data["text"], **common)
    elif action == "reply":
        services.task_reply(task=task, reply=data["reply"], **common)
    elif action == "reassign":
        assert isinstance(form, ReassignForm)
        services.task_reassign(task=task, handler=form.chosen_handler(), note=data.get("note", ""), **common)
    elif action == "withdraw":
        services.task_withdraw(task=task, reason=data["reason"], **common)


# --- the panel on the complaint page ---------------------------------------------------------------------


@dataclass
class TaskRow:
    task: Task
    forms: list[tuple[str, forms.Form, Any, str, bool]]  # action, form, label, style, open


def _members(department_ids: list[int]) -> dict[int, list[Any]]:
    members: dict[int, list[Any]] = {}
    for m in (
        Membership.objects.filter(department_id__in=department_ids, user__is_active=True)
        .select_related("user")
        .order_by("user__username")
    ):
        members.setdefault(m.department_id, []).append(m.user)
    return members


def _dispatch_form(complaint: Complaint, data: Any = None) -> DispatchForm:
    # A department still working on the complaint cannot be dispatched to again: not offered.
    open_departments = set(
        complaint.tasks.filter(status__in=services.ACTIVE_TASK_STATUSES).values_list("department_id", flat=True)
    )
    departments = [d for d in Department.objects.filter(is_active=True) if d.pk not in open_departments]
    members = _members([d.pk for d in departments])
    proposals = {}
    if data is None:
        for proposal in roster_propose(complaint=complaint, on=timezone.localdate()):
            if proposal.department.pk not in open_departments:
                proposals[proposal.department.pk] = proposal.handler
    return DispatchForm(data, departments=departments, members=members, proposals=proposals)


def panel(request: HttpRequest, complaint: Complaint) -> Panel | None:
    """The complaint's tasks with what the user may do on each, and the dispatch form for customer
    service. A refused submission (see `task_action`) comes back through `request.handling_bound`."""
    actor = services.Actor.of(request.user)
    bound: dict[str, Any] = getattr(request, "handling_bound", {})
    tasks = selectors.complaint_tasks_listed(complaint=complaint)
    members = _members(sorted({t.department_id for t in tasks}))
    rows = []
    for task in tasks:
        task.complaint = complaint
        row_forms = []
        for action in services.task_actions_for(actor=actor, task=task):
            key = f"{task.pk}:{action}"
            form = bound.get(key) or _make_form(action, members.get(task.department_id, []), task_id=task.pk)
            _form_class, label, style = ACTION_FORMS[action]
            row_forms.append((action, form, label, style, key in bound))
        rows.append(TaskRow(task=task, forms=row_forms))
    dispatch = None
    if authz.allowed(actor, "handling.dispatch_complaint") and complaint.status in DISPATCHABLE:
        dispatch = bound.get("dispatch") or _dispatch_form(complaint)
    if not rows and dispatch is None:
        return None
    return Panel(
        template="handling/tasks/panel.html",
        context={"rows": rows, "dispatch": dispatch, "redispatch": complaint.status in services.REDISPATCH_STATUSES},
        order=10,
        column="main",
    )


def _complaint_page(request: HttpRequest, complaint: Complaint, *, error: str = "", status: int = 200) -> HttpResponse:
    from closeloop.complaints.views import _detail_response

    return _detail_response(request, complaint, error=error, status=status)


def _visible_complaint(request: HttpRequest, number: str) -> Complaint:
    from closeloop.complaints.selectors import complaint_get

    try:
        return complaint_get(user=request.user, number=number)
    except Complaint.DoesNotExist:
        raise Http404(_("No such complaint.")) from None


def _errors_text(form: forms.Form) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


@login_required
@require_POST
def dispatch(request: AuthenticatedHttpRequest, number: str) -> HttpResponse:
    complaint = _visible_complaint(request, number)
    was = complaint.status
    form = _dispatch_form(complaint, request.POST)
    if form.is_valid():
        try:
            tasks = services.complaint_dispatch(
                complaint=complaint, assignments=form.assignments(), actor=request.user, via=Via.DESK
            )
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            names = "、".join(t.department.label for t in tasks)
            if was == Status.REGISTERED:
                done = _(
                    "Receipt acknowledged to the customer and dispatched to %(departments)s; "
                    "next, each department verifies its task."
                )
            else:
                done = _("Dispatched to %(departments)s; next, each department verifies its task.")
            messages.success(request, done % {"departments": names})
            return redirect("desk:detail", number=complaint.number)
    request.handling_bound = {"dispatch": form}  # type: ignore[attr-defined]  # a per-request attribute of our own
    complaint = _visible_complaint(request, number)
    offered = authz.allowed(request.user, "handling.dispatch_complaint") and complaint.status in DISPATCHABLE
    return _complaint_page(request, complaint, error="" if offered else _errors_text(form), status=422)


@login_required
@require_POST
def task_action(request: AuthenticatedHttpRequest, task_id: int, action: str) -> HttpResponse:
    if action not in ACTION_FORMS:
        raise Http404(_("Unknown action."))
    try:
        task = selectors.task_get(user=request.user, task_id=task_id)
    except Task.DoesNotExist:
        raise Http404(_("No such task.")) from None
    members = _members([task.department_id]).get(task.department_id, []) if action == "reassign" else []
    form = _make_form(action, members, request.POST, task_id=task.pk)
    if form.is_valid():
        try:
            _call(action, task, form, request.user)
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("%(action)s: done.") % {"action": ACTION_FORMS[action][1]})
            return redirect(f"{_detail_url(task)}#task-{task.pk}")
    request.handling_bound = {f"{task.pk}:{action}": form}  # type: ignore[attr-defined]  # a per-request attribute of our own
    complaint = _visible_complaint(request, task.complaint.number)
    task.refresh_from_db()
    # A form the page no longer offers (state changed, or not for this user) shows its message on top.
    offered = services.task_action_allowed(actor=services.Actor.of(request.user), task=task, action=action)
    return _complaint_page(request, complaint, error="" if offered else _errors_text(form), status=422)


def _detail_url(task: Task) -> str:
    from django.urls import reverse

    return reverse("desk:detail", args=[task.complaint.number])


# --- inbox -----------------------------------------------------------------------------------------------

TABS = {
    "mine": gettext_lazy("My tasks"),
    "department": gettext_lazy("My department's tasks"),
    "stale": gettext_lazy("No progress for 48 h"),
}


@login_required
@require_GET
def inbox(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Active tasks by time left; a fixed number of queries however many tasks there are."""
    actor = services.Actor.of(request.user)
    tabs = ["mine", "department"] if actor.departments else []
    if authz.allowed(actor, "handling.view_stale_tasks"):
        tabs.append("stale")
    tab = request.GET.get("tab") or (tabs[0] if tabs else "mine")
    if tab not in tabs:
        tab = tabs[0] if tabs else ""
    tasks = list(selectors.task_inbox(user=request.user, filters=selectors.TaskFilters(scope=tab))) if tab else []
    context = {
        "tabs": [(key, TABS[key]) for key in tabs],
        "tab": tab,
        "tasks": tasks,
        "stale_count": sum(1 for t in tasks if t.stale),  # type: ignore[attr-defined,misc]  # annotated by task_inbox
        "statuses": TaskStatus,
    }
    return render(request, "handling/tasks/inbox.html", context)


urlpatterns = [
    path("inbox/", inbox, name="inbox"),
    path("c/<str:number>/dispatch/", dispatch, name="dispatch"),
    path("tasks/<int:task_id>/<str:action>/", task_action, name="task_action"),
]
