"""Desk pages for the responsible person's feedback form (责任人反馈表): the panel on the complaint page,
one form's page, the list of forms to fill / to review, and the printable PDF."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from closeloop import authz
from closeloop.complaints.models import Complaint, Via
from closeloop.complaints.panels import Panel
from closeloop.core.errors import DomainError, PermissionDeniedError
from closeloop.core.files import file_response
from closeloop.core.forms_ui import add_domain_errors
from closeloop.core.types import AuthenticatedHttpRequest
from closeloop.directory.selectors import cause_category_choices
from closeloop.handling.models import FeedbackForm, FeedbackResult, FeedbackStatus
from closeloop.handling.pdf import feedback_form_pdf
from closeloop.handling.services import feedback as services

LIST_PAGE_SIZE = 50


class FeedbackFormForm(forms.Form):
    """What the handler fills in. Nothing is required here: a draft keeps whatever was typed, and the
    service says what a submission still lacks."""

    result = forms.ChoiceField(
        label=gettext_lazy("Result"), choices=FeedbackResult.choices, required=False, widget=forms.RadioSelect
    )
    result_reason = forms.CharField(
        label=gettext_lazy("Reason (if not resolved)"),
        required=False,
        max_length=services.TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    demand_met = forms.ChoiceField(
        label=gettext_lazy("Initial demand met"),
        choices=[("yes", gettext_lazy("yes")), ("no", gettext_lazy("no"))],
        required=False,
        widget=forms.RadioSelect,
    )
    demand_reason = forms.CharField(
        label=gettext_lazy("Why the demand was not met"),
        required=False,
        max_length=services.TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    measures = forms.CharField(
        label=gettext_lazy("Measures taken"),
        required=False,
        max_length=services.TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    compensation = forms.CharField(
        label=gettext_lazy("Compensation (amount / form)"),
        required=False,
        max_length=services.MAX_LENGTHS["compensation"],
    )
    key_actions = forms.CharField(
        label=gettext_lazy("Key actions and contacts"),
        help_text=gettext_lazy("One per line: time, then what happened, e.g. “2026-05-20 10:00 called the customer”."),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    satisfaction_seen = forms.ChoiceField(
        label=gettext_lazy("Customer satisfaction as you saw it"),
        choices=services.SATISFACTION_CHOICES,
        required=False,
        widget=forms.RadioSelect,
    )
    root_cause = forms.CharField(
        label=gettext_lazy("Root cause"),
        required=False,
        max_length=services.TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    cause_category_id = forms.ChoiceField(
        label=gettext_lazy("Root-cause category"),
        help_text=gettext_lazy("人、机、料、法、环、测 and their sub-causes; describe the detail below."),
        required=False,
    )
    improvement_suggestion = forms.CharField(
        label=gettext_lazy("Improvement suggestion"),
        required=False,
        max_length=services.TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["cause_category_id"]
        field.choices = [("", "—"), *cause_category_choices()]  # type: ignore[attr-defined]  # a ChoiceField

    @staticmethod
    def initial_from(values: dict[str, Any]) -> dict[str, Any]:
        demand_met = values["demand_met"]
        return {
            **values,
            "demand_met": "" if demand_met is None else ("yes" if demand_met else "no"),
            "key_actions": services.format_key_actions(values["key_actions"]),
        }

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["demand_met"] = {"yes": True, "no": False}.get(data["demand_met"])
        data["key_actions"] = services.parse_key_actions(data["key_actions"])
        data["cause_category_id"] = int(data["cause_category_id"]) if data.get("cause_category_id") else None
        return data


class ReviewForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("What must be supplemented (required to return)"),
        required=False,
        max_length=services.TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def _auto_id(form: FeedbackForm) -> str:
    # Several forms can be on one complaint page: their fields need distinct ids.
    return f"fb{form.pk}_%s"


def _item(
    request: HttpRequest,
    form: FeedbackForm,
    *,
    bound: FeedbackFormForm | None = None,
    review_bound: ReviewForm | None = None,
) -> dict[str, Any]:
    """Everything the form's block shows, prepared here so the template stays free of logic."""
    prefill = services.feedback_form_prefill(form)
    values = services.feedback_form_values(form, prefill)
    editable = services.can_edit(form=form, user=request.user)
    reviewable = services.can_review(form=form, user=request.user)
    satisfaction = dict(services.SATISFACTION_CHOICES)
    return {
        "form": form,
        "prefill": prefill,
        "values": values,
        "result_label": FeedbackResult(values["result"]).label if values["result"] else "",
        "satisfaction_label": satisfaction.get(values["satisfaction_seen"], ""),
        "cause_category_label": form.cause_category.path_label if form.cause_category is not None else "",
        "editable": editable,
        "reviewable": reviewable,
        "edit_form": (
            (bound or FeedbackFormForm(initial=FeedbackFormForm.initial_from(values), auto_id=_auto_id(form)))
            if editable
            else None
        ),
        "review_form": (review_bound or ReviewForm(auto_id=_auto_id(form))) if reviewable else None,
        "returned": form.status == FeedbackStatus.RETURNED,
    }


def panel(request: HttpRequest, complaint: Complaint) -> Panel | None:
    """The complaint's feedback forms on its page (main column), or nothing before any task replied."""
    rows = services.feedback_forms_for_complaint(complaint=complaint)
    if not rows:
        return None
    return Panel(
        template="handling/feedback/panel.html",
        context={"items": [_item(request, form) for form in rows]},
        order=80,
        column="main",
    )


def _visible_form(request: HttpRequest, pk: int) -> FeedbackForm:
    try:
        return services.feedback_form_get(user=request.user, pk=pk)
    except FeedbackForm.DoesNotExist:
        raise Http404(_("No such feedback form.")) from None


def _back(request: HttpRequest, form: FeedbackForm) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(reverse("desk:detail", args=[form.complaint.number]) + f"#feedback-{form.pk}")


def _detail_page(
    request: HttpRequest, form: FeedbackForm, *, status: int = 200, error: str = "", **bound: Any
) -> HttpResponse:
    context = {"item": _item(request, form, **bound), "page_error": error, "complaint": form.complaint}
    return render(request, "handling/feedback/detail.html", context, status=status)


@login_required
@require_GET
def feedback_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _detail_page(request, _visible_form(request, pk))


@login_required
@require_POST
def feedback_fill(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Save the draft, or save and submit it ("op" = save | submit). A refused submission keeps the draft
    as typed and says which fields are missing."""
    form = _visible_form(request, pk)
    bound = FeedbackFormForm(request.POST, auto_id=_auto_id(form))
    submit = request.POST.get("op") == "submit"
    saved = False
    if bound.is_valid():
        try:
            services.feedback_form_save(form=form, data=bound.service_data(), actor=request.user, via=Via.DESK)
            saved = True
            if submit:
                services.feedback_form_submit(form=form, actor=request.user, via=Via.DESK)
        except PermissionDeniedError as exc:
            return _detail_page(request, form, status=403, error=str(exc.message))
        except DomainError as exc:
            add_domain_errors(bound, exc)
        else:
            messages.success(request, _("Feedback form submitted for review.") if submit else _("Draft saved."))
            return _back(request, form)
    form = _visible_form(request, pk)  # re-read: the refusal may be due to a change meanwhile
    if form.status not in services.EDITABLE_STATUSES:
        # The form is no longer on the page as an editable form: say why on top of the page.
        error = " ".join(str(e) for errors in bound.errors.values() for e in errors)
    elif saved:
        error = _("The draft is saved, but it cannot be submitted yet: complete the fields marked below.")
    else:
        error = ""
    return _detail_page(request, form, status=422, error=error, bound=bound)


@login_required
@require_POST
def feedback_review(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """A CS supervisor approves the form for archive or returns it ("decision" = approve | return)."""
    form = _visible_form(request, pk)
    bound = ReviewForm(request.POST, auto_id=_auto_id(form))
    approve = request.POST.get("decision") == "approve"
    if bound.is_valid():
        try:
            services.feedback_form_review(
                form=form, approve=approve, note=bound.cleaned_data["note"], actor=request.user, via=Via.DESK
            )
        except PermissionDeniedError as exc:
            return _detail_page(request, form, status=403, error=str(exc.message))
        except DomainError as exc:
            add_domain_errors(bound, exc)
        else:
            messages.success(request, _("Approved for archive.") if approve else _("Returned to the handler."))
            return _back(request, form)
    form = _visible_form(request, pk)
    error = (
        ""
        if services.can_review(form=form, user=request.user)
        else " ".join(str(e) for errors in bound.errors.values() for e in errors)
    )
    return _detail_page(request, form, status=422, error=error, review_bound=bound)


@login_required
@require_GET
def feedback_pdf(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    form = _visible_form(request, pk)
    content = feedback_form_pdf(form, services.feedback_form_prefill(form))
    return file_response(
        content, filename=f"feedback-{form.complaint.number}-{form.pk}.pdf", content_type="application/pdf"
    )


@login_required
@require_GET
def feedback_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Handlers and managers: the forms to fill (returned first); CS supervisors: the forms to review."""
    actor = authz.Actor.of(request.user)
    sections = []
    if authz.allowed(actor, "handling.review_feedback_form"):
        page = Paginator(services.feedback_forms_to_review(user=request.user), LIST_PAGE_SIZE).get_page(
            request.GET.get("review_page")
        )
        sections.append({"key": "review", "title": _("Waiting for your review"), "page": page, "param": "review_page"})
    if authz.allowed(actor, "handling.list_forms_to_fill"):
        page = Paginator(services.feedback_forms_to_fill(user=request.user), LIST_PAGE_SIZE).get_page(
            request.GET.get("fill_page")
        )
        sections.append({"key": "fill", "title": _("Feedback forms to fill in"), "page": page, "param": "fill_page"})
    return render(request, "handling/feedback/list.html", {"sections": sections})


urlpatterns: list[URLPattern] = [
    path("feedback/", feedback_list, name="feedback_list"),
    path("feedback/<int:pk>/", feedback_detail, name="feedback_detail"),
    path("feedback/<int:pk>/fill/", feedback_fill, name="feedback_fill"),
    path("feedback/<int:pk>/review/", feedback_review, name="feedback_review"),
    path("feedback/<int:pk>/pdf/", feedback_pdf, name="feedback_pdf"),
]
