"""Desk pages for responsibility disputes: the panel on the complaint page and its two forms (raise,
adjudicate). The "waiting for my decision" page lives with the postponements (views/postponements.py)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from closeloop.complaints.models import Complaint, Via
from closeloop.complaints.panels import Panel
from closeloop.complaints.selectors import complaints_visible_to
from closeloop.core.errors import DomainError
from closeloop.core.forms_ui import form_page_refused
from closeloop.core.types import AuthenticatedHttpRequest
from closeloop.directory.models import Department
from closeloop.handling.models import Dispute, DisputeStatus, Task
from closeloop.handling.selectors import complaint_tasks_listed
from closeloop.handling.services import disputes as services


def _departments() -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=Department.objects.filter(is_active=True).order_by("code"),
        to_field_name="code",
        required=False,
    )


class DisputeRaiseForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("why this is not your department's complaint"),
        required=False,  # the service's rule
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, task: Task, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["suggested_department"] = _departments()
        field = cast(forms.ModelChoiceField, self.fields["suggested_department"])
        field.queryset = field.queryset.exclude(pk=task.department_id)  # type: ignore[union-attr]  # _departments() gave it one
        self.fields["suggested_department"].label = gettext_lazy("suggested department")
        field.empty_label = gettext_lazy("— no suggestion —")


class DisputeDecideForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("decision"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = _departments()
        field.label = gettext_lazy("responsible department")
        field.empty_label = gettext_lazy("— dispatch upheld: the department keeps it —")
        self.fields = {"move_to": field, **self.fields}


def _task_for(request: HttpRequest, task_id: int) -> Task:
    try:
        return (
            Task.objects.filter(complaint__in=complaints_visible_to(request.user))
            .select_related("complaint", "department")
            .get(pk=task_id)
        )
    except Task.DoesNotExist:
        raise Http404(_("No such task.")) from None


def _dispute_for(request: HttpRequest, pk: int) -> Dispute:
    try:
        return services.disputes_visible_to(request.user).get(pk=pk)  # type: ignore[arg-type]  # signed in (login_required or the admin)
    except Dispute.DoesNotExist:
        raise Http404(_("No such dispute.")) from None


@login_required
@require_POST
def raise_dispute(request: AuthenticatedHttpRequest, task_id: int) -> HttpResponse:
    task = _task_for(request, task_id)
    form = DisputeRaiseForm(request.POST, task=task, prefix=f"dispute-task-{task.pk}")
    exc: DomainError | None = None
    if form.is_valid():
        try:
            services.dispute_raise(
                task=task,
                reason=form.cleaned_data["reason"],
                suggested_department=form.cleaned_data["suggested_department"],
                actor=request.user,
                via=Via.DESK,
            )
        except DomainError as error:
            exc = error
        else:
            messages.success(request, _("Dispatch contested; quality adjudicates. The task's clocks are paused."))
            return redirect("desk:detail", number=task.complaint.number)
    return form_page_refused(request, complaint=task.complaint, form=form, exc=exc, title=_("Contest the dispatch"))


@login_required
@require_POST
def decide_dispute(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    dispute = _dispute_for(request, pk)
    form = DisputeDecideForm(request.POST, prefix=f"dispute-{dispute.pk}")
    exc: DomainError | None = None
    if form.is_valid():
        try:
            services.dispute_decide(
                dispute=dispute,
                move_to=form.cleaned_data["move_to"],
                note=form.cleaned_data["note"],
                actor=request.user,
                via=Via.DESK,
            )
        except DomainError as error:
            exc = error
        else:
            messages.success(request, _("Dispute decided."))
            return redirect("desk:detail", number=dispute.task.complaint.number)
    return form_page_refused(
        request, complaint=dispute.task.complaint, form=form, exc=exc, title=_("Adjudicate the dispute")
    )


urlpatterns: list[URLPattern] = [
    path("disputes/task/<int:task_id>/", raise_dispute, name="dispute_raise"),
    path("disputes/<int:pk>/decide/", decide_dispute, name="dispute_decide"),
]


def panel(request: HttpRequest, complaint: Complaint) -> Panel | None:
    """The complaint's disputes (who, when, reason, decision, time lost) and the forms this user may use."""
    user = request.user
    disputes = list(
        Dispute.objects.filter(task__complaint=complaint).select_related(
            "task__department", "raised_by", "suggested_department", "decided_by", "target_department"
        )
    )
    may_decide = services.dispute_may_decide(user=user)  # type: ignore[arg-type]  # signed in (login_required)
    items = [
        {
            "d": dispute,
            "form": DisputeDecideForm(prefix=f"dispute-{dispute.pk}", initial={"move_to": dispute.suggested_department})
            if may_decide and dispute.status == DisputeStatus.PENDING
            else None,
        }
        for dispute in disputes
    ]
    raise_forms = [
        {"task": task, "form": DisputeRaiseForm(task=task, prefix=f"dispute-task-{task.pk}")}
        for task in complaint_tasks_listed(complaint=complaint)
        if task.status in services.CONTESTABLE_TASK_STATUSES and services.dispute_may_raise(task=task, user=user)  # type: ignore[arg-type]  # signed in (login_required)
    ]
    if not items and not raise_forms:
        return None
    return Panel(
        template="handling/disputes/_panel.html",
        context={"items": items, "raise_forms": raise_forms},
        order=65,
        column="main",
    )
