"""Desk pages for closing the loop: the closing checklist panel (with the close button, which posts to
the generic desk transition), the staff reopen form, archiving by hand, and the archived banner.

Thin views: a form parses the input, the service decides; a refusal is shown with what was typed
(status 422, or 403 for a role that may not act).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from closeloop.complaints.lifecycle import LIFECYCLE, TRANSITIONS, Status
from closeloop.complaints.models import Complaint, Via
from closeloop.complaints.panels import Panel
from closeloop.complaints.selectors import complaint_get
from closeloop.core.errors import DomainError
from closeloop.core.forms_ui import add_domain_errors, refusal_status
from closeloop.core.roles import user_roles
from closeloop.core.types import AuthenticatedHttpRequest
from closeloop.followup.services.closing import closing_checklist, complaint_archive, complaint_reopen


class ReopenForm(forms.Form):
    # Required-ness is the service's rule; the form only parses.
    reason = forms.CharField(
        label=gettext_lazy("why the customer is not satisfied"),
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def _complaint(request: HttpRequest, number: str) -> Complaint:
    try:
        return complaint_get(user=request.user, number=number)
    except Complaint.DoesNotExist:
        raise Http404(_("No such complaint.")) from None


def _refused(
    request: HttpRequest, *, complaint: Complaint, form: forms.Form | None, exc: DomainError, title: str
) -> HttpResponse:
    if form is not None:
        add_domain_errors(form, exc)
    status = refusal_status(exc)
    context = {
        "complaint": complaint,
        "form": form,
        "title": title,
        "message": str(exc.message),
        "action": request.path,
    }
    return render(request, "followup/closing/refused.html", context, status=status)


@login_required
@require_POST
def reopen(request: AuthenticatedHttpRequest, number: str) -> HttpResponse:
    complaint = _complaint(request, number)
    form = ReopenForm(request.POST, prefix="reopen")
    form.is_valid()
    try:
        complaint_reopen(
            complaint=complaint,
            reason=form.cleaned_data.get("reason", ""),
            actor=request.user,
            via=Via.DESK,
        )
    except DomainError as exc:
        return _refused(request, complaint=complaint, form=form, exc=exc, title=str(TRANSITIONS["reopen"].label))
    messages.success(request, _("Reopened and escalated to the CS supervisors; the handlers have it back."))
    return redirect("desk:detail", number=complaint.number)


@login_required
@require_POST
def archive(request: AuthenticatedHttpRequest, number: str) -> HttpResponse:
    complaint = _complaint(request, number)
    try:
        complaint_archive(complaint=complaint, actor=request.user, via=Via.DESK)
    except DomainError as exc:
        return _refused(request, complaint=complaint, form=None, exc=exc, title=str(TRANSITIONS["archive"].label))
    messages.success(request, _("Archived: the complaint is read-only now."))
    return redirect("desk:detail", number=complaint.number)


urlpatterns: list[URLPattern] = [
    path("c/<str:number>/reopen/", reopen, name="reopen"),
    path("c/<str:number>/archive/", archive, name="archive"),
]


def panel(request: HttpRequest, complaint: Complaint) -> Panel | None:
    """Resolved: the closing checklist, the close button (usable once every condition is met) and the
    reopen form. Closed: when it archives. Archived: the read-only banner, on top of the page."""
    roles = user_roles(request.user)
    if complaint.status == Status.ARCHIVED:
        return Panel(
            template="followup/closing/archived.html", context={"complaint": complaint}, order=0, column="main"
        )
    if complaint.status == Status.RESOLVED:
        checklist = closing_checklist(complaint)
        # The close button only when closing would go ahead now (the lifecycle's one answer: role and
        # guards); until then the checklist says what is missing.
        offered = {t.action for t in LIFECYCLE.offered(complaint, request.user, actions=("close", "reopen"))}
        return Panel(
            template="followup/closing/panel.html",
            context={
                "checklist": checklist,
                "may_close": "close" in offered,
                "close_later": bool(roles & TRANSITIONS["close"].roles),
                "reopen_form": ReopenForm(prefix="reopen") if "reopen" in offered else None,
                "reopen_count": complaint.reopen_count,
            },
            order=5,
            column="side",
        )
    if complaint.status in (Status.REOPENED, Status.CLOSED):
        return Panel(
            template="followup/closing/panel.html",
            context={
                "status": complaint.status,
                "reopen_count": complaint.reopen_count,
                "closed_at": complaint.closed_at,
                "may_archive": complaint.status == Status.CLOSED and bool(roles & TRANSITIONS["archive"].roles),
            },
            order=5,
            column="side",
        )
    return None
