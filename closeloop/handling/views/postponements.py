"""Desk pages for postponement requests (推迟回访申请): the panel on the complaint page, its forms,
and the "waiting for my decision" page (postponements and disputes).

Thin views: a form parses the input, the service decides; a refusal is shown on the form's page with
what was typed (status 422, or 403 for a role that may not act).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from closeloop.complaints.models import Complaint, Via
from closeloop.complaints.panels import Panel
from closeloop.complaints.selectors import complaints_visible_to
from closeloop.core.errors import DomainError
from closeloop.core.forms_ui import form_page_refused
from closeloop.core.types import AuthenticatedHttpRequest
from closeloop.handling.models import Postponement, PostponementStatus, Task
from closeloop.handling.selectors import complaint_tasks_listed
from closeloop.handling.services import postponements as services
from closeloop.handling.services.disputes import disputes_awaiting

AGREE_CHOICES = [("yes", gettext_lazy("agree")), ("no", gettext_lazy("do not agree"))]


def _yes(value: str) -> bool:
    return value == "yes"


class PostponementRequestForm(forms.Form):
    proposed_due = forms.DateTimeField(
        label=gettext_lazy("proposed new reply deadline"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    # Required-ness is the service's rule; the form only parses.
    reason = forms.CharField(
        label=gettext_lazy("reason"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("e.g. production lead time"),
    )


class StepForm(forms.Form):
    """Opinion, confirmation or decision: a yes/no and a text, named as the service names them."""

    FIELDS = {
        services.STEP_OPINION: ("agrees", "opinion", gettext_lazy("opinion"), gettext_lazy("Give the opinion")),
        services.STEP_CONFIRM: ("agrees", "note", gettext_lazy("note"), gettext_lazy("Confirm")),
        services.STEP_DECIDE: ("approve", "note", gettext_lazy("decision"), gettext_lazy("Decide")),
    }

    def __init__(self, *args: Any, step: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.step = step
        choice_name, text_name, text_label, self.button = self.FIELDS[step]
        self.fields[choice_name] = forms.TypedChoiceField(
            label=gettext_lazy("approve the postponement?"),
            choices=AGREE_CHOICES,
            coerce=_yes,
            widget=forms.RadioSelect,
        )
        self.fields[text_name] = forms.CharField(
            label=text_label, required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
        )


def _task_for(request: HttpRequest, task_id: int) -> Task:
    try:
        return (
            Task.objects.filter(complaint__in=complaints_visible_to(request.user))
            .select_related("complaint", "department")
            .get(pk=task_id)
        )
    except Task.DoesNotExist:
        raise Http404(_("No such task.")) from None


def _postponement_for(request: HttpRequest, pk: int) -> Postponement:
    try:
        return services.postponements_visible_to(request.user).get(pk=pk)  # type: ignore[arg-type]  # signed in (login_required or the admin)
    except Postponement.DoesNotExist:
        raise Http404(_("No such postponement request.")) from None


@login_required
@require_POST
def request_postponement(request: AuthenticatedHttpRequest, task_id: int) -> HttpResponse:
    task = _task_for(request, task_id)
    form = PostponementRequestForm(request.POST, prefix=f"pp-task-{task.pk}")
    exc: DomainError | None = None
    if form.is_valid():
        try:
            services.postponement_request(
                task=task,
                reason=form.cleaned_data["reason"],
                proposed_due=form.cleaned_data["proposed_due"],
                actor=request.user,
                via=Via.DESK,
            )
        except DomainError as error:
            exc = error
        else:
            messages.success(request, _("Postponement requested; the department manager gives an opinion next."))
            return redirect("desk:detail", number=task.complaint.number)
    return form_page_refused(
        request,
        complaint=task.complaint,
        form=form,
        exc=exc,
        title=_("Request a postponement"),
    )


STEP_CALLS: dict[str, Callable[..., Postponement]] = {
    services.STEP_OPINION: services.postponement_manager_opinion,
    services.STEP_CONFIRM: services.postponement_cs_confirm,
    services.STEP_DECIDE: services.postponement_management_decide,
}


def _step_message(postponement: Postponement) -> str:
    """What the step did and who acts next."""
    if postponement.status == PostponementStatus.APPROVED:
        return _("Postponement approved: the reply and the complaint's resolution deadline moved; the handler is told.")
    if postponement.status == PostponementStatus.REJECTED:
        return _("Postponement rejected: the reply deadline stays; the handler is told.")
    return _("Opinion recorded; the request is now %(status)s.") % {
        "status": PostponementStatus(postponement.status).label
    }


@login_required
@require_POST
def postponement_step(request: AuthenticatedHttpRequest, pk: int, step: str) -> HttpResponse:
    postponement = _postponement_for(request, pk)
    if step not in STEP_CALLS:
        raise Http404(_("Unknown step."))
    form = StepForm(request.POST, step=step, prefix=f"pp-{postponement.pk}")
    exc: DomainError | None = None
    if form.is_valid():
        try:
            postponement = STEP_CALLS[step](
                postponement=postponement, actor=request.user, via=Via.DESK, **form.cleaned_data
            )
        except DomainError as error:
            exc = error
        else:
            messages.success(request, _step_message(postponement))
            return redirect("desk:detail", number=postponement.task.complaint.number)
    return form_page_refused(
        request,
        complaint=postponement.task.complaint,
        form=form,
        exc=exc,
        title=str(form.button),
    )


@login_required
@require_GET
def decisions(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Postponements and disputes waiting for this user's step, oldest first; fixed queries."""
    context = {
        "postponements": list(services.postponements_awaiting(user=request.user)),
        "disputes": list(disputes_awaiting(user=request.user)),
    }
    return render(request, "handling/postponements/decisions.html", context)


urlpatterns: list[URLPattern] = [
    path("postponements/task/<int:task_id>/", request_postponement, name="postponement_request"),
    path("postponements/<int:pk>/<str:step>/", postponement_step, name="postponement_step"),
    path("decisions/", decisions, name="decisions"),
]


def panel(request: HttpRequest, complaint: Complaint) -> Panel | None:
    """The complaint's postponement requests with their chain, and the forms this user may use."""
    user = request.user
    tasks = complaint_tasks_listed(complaint=complaint)
    rows = list(
        Postponement.objects.filter(task__complaint=complaint).select_related(
            "task__department", "requested_by", "manager", "cs_by", "management_by"
        )
    )
    open_task_ids = {p.task_id for p in rows if p.status in services.OPEN_POSTPONEMENT_STATUSES}
    request_forms = []
    for task in tasks:
        if (
            task.status in services.POSTPONABLE_TASK_STATUSES
            and task.pk not in open_task_ids
            and services.postponement_may_request(task=task, user=user)  # type: ignore[arg-type]  # signed in (login_required)
        ):
            reply = services.open_reply_deadline(task)
            if reply is not None:
                form = PostponementRequestForm(prefix=f"pp-task-{task.pk}")
                request_forms.append({"task": task, "reply": reply, "form": form})
    items = []
    for postponement in rows:
        step = services.postponement_step_for(postponement=postponement, user=user)  # type: ignore[arg-type]  # signed in (login_required)
        step_form = StepForm(step=step, prefix=f"pp-{postponement.pk}") if step else None
        items.append({"p": postponement, "step": step, "form": step_form})
    if not items and not request_forms:
        return None
    return Panel(
        template="handling/postponements/_panel.html",
        context={"items": items, "request_forms": request_forms},
        order=60,
        column="main",
    )
