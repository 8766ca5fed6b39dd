"""Desk pages for follow-ups (回访): "today's follow-ups" (the call list) and the panel on the complaint
page with each round, its attempts and outcome, and the forms to record an attempt, record the
customer's answer, or send a survey link."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from closeloop.complaints.lifecycle import Status
from closeloop.complaints.models import Complaint, Via
from closeloop.complaints.panels import Panel
from closeloop.complaints.selectors import customer_contact
from closeloop.complaints.services import personal_data_access_record
from closeloop.core.errors import DomainError, PermissionDeniedError
from closeloop.core.forms_ui import add_domain_errors
from closeloop.core.types import AuthenticatedHttpRequest
from closeloop.followup import selectors
from closeloop.followup.models import AttemptResult, FollowUp, FollowUpMethod
from closeloop.followup.services import followups as services
from closeloop.followup.services.survey import survey_link_create

# "All open" first: a follow-up due the day after tomorrow may be called today.
# A desk makes a few dozen calls an hour; the rest are a page away (and the page renders in constant time).
CALL_LIST_PAGE_SIZE = 50

DUE_TABS = {
    "all": gettext_lazy("All open"),
    "today": gettext_lazy("Due by today"),
    "overdue": gettext_lazy("Overdue"),
}


# --- forms ---------------------------------------------------------------------------------------


class AttemptForm(forms.Form):
    method = forms.ChoiceField(
        label=gettext_lazy("Method"),
        choices=[(m.value, m.label) for m in FollowUpMethod if m != FollowUpMethod.SURVEY],
        initial=FollowUpMethod.PHONE,
    )
    result = forms.ChoiceField(
        label=gettext_lazy("Result"),
        choices=[(r.value, r.label) for r in AttemptResult if r != AttemptResult.REACHED],
    )
    note = forms.CharField(
        label=gettext_lazy("Note"),
        required=False,
        max_length=services.NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RecordForm(forms.Form):
    method = forms.ChoiceField(
        label=gettext_lazy("Reached by"),
        choices=[(m.value, m.label) for m in FollowUpMethod if m != FollowUpMethod.SURVEY],
        initial=FollowUpMethod.PHONE,
    )
    solved = forms.ChoiceField(
        label=gettext_lazy("Is the problem solved?"),
        choices=[("yes", gettext_lazy("yes")), ("no", gettext_lazy("no"))],
        widget=forms.RadioSelect,
    )
    level = forms.ChoiceField(label=gettext_lazy("Satisfaction"), choices=[], widget=forms.RadioSelect)
    comments = forms.CharField(
        label=gettext_lazy("Comments (the customer's words)"),
        required=False,
        max_length=services.TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    suggestions = forms.CharField(
        label=gettext_lazy("Suggestions"),
        required=False,
        max_length=services.TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["level"].choices = level_choices()  # type: ignore[attr-defined]  # a (Model)ChoiceField; form fields are typed Field

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["solved"] = {"yes": True, "no": False}.get(data["solved"])
        return data


class SurveyLinkForm(forms.Form):
    method = forms.ChoiceField(
        label=gettext_lazy("Send by"),
        choices=[
            (FollowUpMethod.SMS.value, FollowUpMethod.SMS.label),
            (FollowUpMethod.EMAIL.value, FollowUpMethod.EMAIL.label),
        ],
    )


def level_choices() -> list[tuple[str, str]]:
    from django.utils.translation import get_language

    english = (get_language() or "").startswith("en")
    return [(lv.code, f"{lv.label_en} ({lv.label_zh})" if english else lv.label_zh) for lv in selectors.active_levels()]


FORMS: dict[str, tuple[type[forms.Form], Any]] = {
    "attempt": (AttemptForm, gettext_lazy("Record an attempt")),
    "record": (RecordForm, gettext_lazy("Record the answer")),
    "survey": (SurveyLinkForm, gettext_lazy("Send a survey link")),
}


def _auto_id(followup: FollowUp, action: str) -> str:
    return f"fu{followup.pk}_{action}_%s"


# --- panel ---------------------------------------------------------------------------------------


def panel(request: HttpRequest, complaint: Complaint) -> Panel | None:
    """The complaint's follow-up rounds; the forms for agents and CS supervisors on the open round.
    A refused submission comes back through `request.followup_bound`."""
    rounds = selectors.followups_for_complaint(complaint=complaint)
    if not rounds:
        return None
    bound: dict[str, forms.Form] = getattr(request, "followup_bound", {})
    may_work = services.can_work(request.user)
    items = []
    for followup in rounds:
        followup.complaint = complaint
        actions = []
        if may_work and not followup.outcome:
            for action, (form_class, label) in FORMS.items():
                form = bound.get(action) or form_class(auto_id=_auto_id(followup, action))
                actions.append({"action": action, "label": label, "form": form, "open": action in bound})
        items.append({"followup": followup, "actions": actions})
    return Panel(template="followup/followups/panel.html", context={"items": items}, order=70, column="main")


# --- writes --------------------------------------------------------------------------------------


def _visible_followup(request: HttpRequest, pk: int) -> FollowUp:
    try:
        return selectors.followup_get(user=request.user, pk=pk)
    except FollowUp.DoesNotExist:
        raise Http404(_("No such follow-up.")) from None


def _complaint_page(request: HttpRequest, complaint: Complaint, *, error: str = "", status: int = 200) -> HttpResponse:
    from closeloop.complaints.views import _detail_response

    return _detail_response(request, complaint, error=error, status=status)


def _followup_recorded_message(followup: FollowUp) -> str:
    """What recording the answer did and what comes next: a dissatisfied answer reopened the complaint."""
    complaint = followup.complaint
    complaint.refresh_from_db(fields=["status"])
    if complaint.status == Status.REOPENED:
        return _(
            "Answer recorded: the customer is not satisfied, so the complaint is reopened and escalated to the CS "
            "supervisors; the second result is due within 3 working days."
        )
    return _("Answer recorded. Next: close the complaint once every item of the closing checklist is met.")


@login_required
@require_POST
def followup_action(request: AuthenticatedHttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in FORMS:
        raise Http404(_("Unknown action."))
    followup = _visible_followup(request, pk)
    form_class, label = FORMS[action]
    form = form_class(request.POST, auto_id=_auto_id(followup, action))
    if form.is_valid():
        done = _("%(action)s: done.") % {"action": label}
        try:
            if action == "attempt":
                services.followup_attempt(followup=followup, actor=request.user, via=Via.DESK, **form.cleaned_data)
            elif action == "record":
                recorded = services.followup_record(
                    followup=followup,
                    actor=request.user,
                    via=Via.DESK,
                    **form.service_data(),  # type: ignore[attr-defined]  # the bound form of this action has it
                )
                done = _followup_recorded_message(recorded)
            else:
                survey_link_create(followup=followup, actor=request.user, via=Via.DESK, **form.cleaned_data)
        except PermissionDeniedError as exc:
            return _complaint_page(request, followup.complaint, error=str(exc.message), status=403)
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, done)
            target = request.POST.get("next", "")
            if target == "calllist":
                return redirect("followup:calllist")
            return redirect(reverse("desk:detail", args=[followup.complaint.number]) + "#followups")
    request.followup_bound = {action: form}  # type: ignore[attr-defined]  # a per-request attribute of our own
    followup = _visible_followup(request, pk)
    error = "" if not followup.outcome else " ".join(str(e) for errors in form.errors.values() for e in errors)
    return _complaint_page(request, followup.complaint, error=error, status=422)


# --- the call list -------------------------------------------------------------------------------


@login_required
@require_GET
def calllist(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Today's follow-ups: open rounds, overdue first, then by deadline, a page at a time. A fixed number
    of queries."""
    due = request.GET.get("due", "all")
    if due not in DUE_TABS:
        due = "all"
    page = Paginator(selectors.followups_open(user=request.user, due=due), CALL_LIST_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = []
    unmasked = []
    for followup in page.object_list:
        contact = customer_contact(customer=followup.complaint.customer, user=request.user)
        if not contact.masked:
            unmasked.append(followup.complaint)
        attempts = list(followup.attempts.all())
        rows.append(
            {
                "followup": followup,
                "contact": contact,
                "attempts": len(attempts),
                "last": attempts[-1] if attempts else None,
            }
        )
    personal_data_access_record(user=request.user, complaints=unmasked, where="followup calllist")
    return render(
        request,
        "followup/followups/calllist.html",
        {
            "rows": rows,
            "page": page,
            "due": due,
            "tabs": list(DUE_TABS.items()),
            "may_work": services.can_work(request.user),
        },
    )


urlpatterns: list[URLPattern] = [
    path("followups/", calllist, name="calllist"),
    path("followups/<int:pk>/<str:action>/", followup_action, name="followup_action"),
]
