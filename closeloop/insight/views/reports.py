"""Desk pages of the monthly reports: the list, one report (steps, figures, downloads and the workflow
buttons the user may use), the on-demand form and the distribution list.

Thin views: forms parse, the services decide. A refused action re-renders its page with what was typed
and the reason (422, or 403 for a role that may not act). Files are served through these views — never
from MEDIA_URL — after the permission check, and each download is a step of the report.
"""

from __future__ import annotations

import datetime
import tempfile
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from closeloop import authz
from closeloop.core.errors import DomainError, PermissionDeniedError
from closeloop.core.files import file_response
from closeloop.core.forms_ui import add_domain_errors, refusal_status
from closeloop.core.masking import can_see_personal_data
from closeloop.core.roles import ROLE_LABELS
from closeloop.core.types import AuthenticatedHttpRequest
from closeloop.directory.selectors import cause_category_choices
from closeloop.handling.services.feedback import feedback_forms_categorise
from closeloop.insight.cause_mapping import unmapped_causes
from closeloop.insight.exports.contents import rate_text
from closeloop.insight.exports.labels import kpi_name
from closeloop.insight.kpis import Period
from closeloop.insight.models import Kpi, Recipient, Report, ReportStatus
from closeloop.insight.services import recipients as recipient_services
from closeloop.insight.services import reports as services

PAGE_SIZE = 25


# --- forms -----------------------------------------------------------------------------------------


class ReportNewForm(forms.Form):
    MODES = [("month", gettext_lazy("a calendar month")), ("range", gettext_lazy("from … to …"))]

    mode = forms.ChoiceField(label=gettext_lazy("Period"), choices=MODES, initial="month", widget=forms.RadioSelect)
    month = forms.CharField(
        label=gettext_lazy("Month"),
        required=False,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "2026-09"}),
    )
    start = forms.DateField(label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("mode") == "month":
            raw = (data.get("month") or "").strip()
            try:
                year, month = (int(part) for part in raw.split("-"))
                data["period"] = Period.month(year, month)
            except (ValueError, TypeError):
                self.add_error("month", _("Enter a month as YYYY-MM."))
        elif data.get("mode") == "range":
            if not data.get("start"):
                self.add_error("start", _("Enter the first day."))
            if not data.get("end"):
                self.add_error("end", _("Enter the last day."))
            if data.get("start") and data.get("end"):
                data["period"] = Period(data["start"], data["end"])
        return data


class NoteForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Note"),
        required=False,
        max_length=services.NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Required when returning the report to draft."),
    )
    conclusions = forms.CharField(
        label=gettext_lazy("Analysis and conclusions (printed in the report)"),
        required=False,
        max_length=services.CONCLUSIONS_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=gettext_lazy(
            "Prefilled with the generated summary of what changed most; your name is printed with it."
        ),
    )


class RecipientForm(forms.Form):
    KINDS = [
        ("user", gettext_lazy("a person")),
        ("group", gettext_lazy("everyone in a role")),
        ("email", gettext_lazy("an outside e-mail address")),
    ]

    kind = forms.ChoiceField(label=gettext_lazy("Add"), choices=KINDS, initial="user", widget=forms.RadioSelect)
    user = forms.ModelChoiceField(
        label=gettext_lazy("Person"), required=False, queryset=get_user_model().objects.none()
    )
    group = forms.ModelChoiceField(label=gettext_lazy("Role"), required=False, queryset=Group.objects.none())
    email = forms.CharField(label=gettext_lazy("E-mail address"), required=False, max_length=254)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        users = get_user_model().objects.filter(is_active=True).order_by("username")
        self.fields["user"].queryset = users  # type: ignore[attr-defined]  # a (Model)ChoiceField; form fields are typed Field
        self.fields["user"].label_from_instance = lambda u: (  # type: ignore[attr-defined]  # Django's documented way; fields are typed Field
            f"{u.get_full_name()} ({u.get_username()})" if u.get_full_name() else u.get_username()
        )
        self.fields["group"].queryset = Group.objects.order_by("name")  # type: ignore[attr-defined]  # a (Model)ChoiceField; form fields are typed Field
        self.fields["group"].label_from_instance = lambda g: str(ROLE_LABELS.get(g.name, g.name))  # type: ignore[attr-defined]  # Django's documented way; fields are typed Field


# --- helpers ---------------------------------------------------------------------------------------


def _require_view(request: HttpRequest) -> None:
    if not services.may_view(request.user):
        raise PermissionDenied(_("You may not read reports."))


def _report(pk: int) -> Report:
    return get_object_or_404(Report.objects.select_related("created_by"), pk=pk)


def _person(user: Any) -> str:
    if user is None:
        return _("system")
    return user.get_full_name() or user.get_username()


def _figures_view(report: Report) -> dict[str, Any] | None:
    """What the detail page shows of the stored figures (the full set is in the PDF and the API)."""
    figures = report.figures or {}
    if "volume" not in figures:
        return None
    language = get_language() or "zh-hans"
    current, previous = figures["kpis"]["current"], figures["kpis"]["previous"]
    kpis = [
        {
            "name": kpi_name(str(kpi), language),
            "now": rate_text(current.get(str(kpi))),
            "before": rate_text(previous.get(str(kpi))),
            "target": current.get(str(kpi), {}).get("target"),
            "missed": current.get(str(kpi), {}).get("meets_target") is False,
        }
        for kpi in Kpi
        if str(kpi) in current
    ]
    return {
        "volume": figures["volume"],
        "summary": figures.get("summary") or {},
        "kpis": kpis,
        "masked": (figures.get("summary_table") or {}).get("masked", True),
        "as_of": figures.get("as_of"),
        "previous": figures.get("previous", {}).get("label"),
    }


STATUS_LABELS = dict(ReportStatus.choices)
ACTION_LABELS = {
    "regenerate": gettext_lazy("Generate again"),
    "review": gettext_lazy("Reviewed: pass to management"),
    "return": gettext_lazy("Return to draft"),
    "approve": gettext_lazy("Approve and send"),
    "send": gettext_lazy("Send to the distribution list"),
}


def _detail(
    request: HttpRequest,
    report: Report,
    *,
    form: NoteForm | None = None,
    error: str = "",
    failed_action: str = "",
    status: int = 200,
) -> HttpResponse:
    steps = list(report.steps.select_related("actor").order_by("at", "pk"))
    user = request.user
    actions = services.report_actions_for(report=report, user=user)
    if failed_action and failed_action not in actions:
        actions.append(failed_action)  # the refused form again, with what was typed and why
    context = {
        "report": report,
        "period": services.report_period(report),
        "steps": [
            {
                "step": s,
                "label": services.step_label(s.action),
                "who": _person(s.actor),
                "before": STATUS_LABELS.get(s.before, s.before),
                "after": STATUS_LABELS.get(s.after, s.after),
            }
            for s in steps
        ],
        "actions": [{"name": a, "label": ACTION_LABELS[a]} for a in actions],
        "form": form or NoteForm(initial={"conclusions": services.conclusions_prefill(report)}),
        "conclusions": (report.figures or {}).get("conclusions") or {},
        "error": error,
        "failed_action": failed_action,
        "figures": _figures_view(report),
        "may_export_personal": can_see_personal_data(user) and bool(report.xlsx),
        "send_problem": services.send_problem(report) if report.status == ReportStatus.APPROVED else None,
        "generating": report.generated_at is None,
    }
    return render(request, "insight/report_detail.html", context, status=status)


# --- pages -----------------------------------------------------------------------------------------


@login_required
@require_GET
def report_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Every report, newest period first; two queries a page whatever the number of reports."""
    _require_view(request)
    qs = Report.objects.select_related("created_by").order_by("-period_start", "-created_at", "-pk")
    status = request.GET.get("status", "")
    if status in ReportStatus.values:
        qs = qs.filter(status=status)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "status": status,
        "statuses": ReportStatus.choices,
        "may_generate": services.may_generate(request.user),
        "may_manage_recipients": recipient_services.recipients_may_manage(request.user),
        "may_map_causes": authz.allowed(request.user, "handling.map_root_causes"),
    }
    return render(request, "insight/report_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def report_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not services.may_generate(request.user):
        raise PermissionDenied(_("You may not generate reports."))
    if request.method == "GET":
        today = timezone.localdate()
        last_month = today.replace(day=1) - datetime.timedelta(days=1)
        form = ReportNewForm(initial={"mode": "month", "month": f"{last_month:%Y-%m}"})
        return render(request, "insight/report_new.html", {"form": form})
    form = ReportNewForm(request.POST)
    status = 422
    if form.is_valid():
        try:
            report = services.report_create(
                period=form.cleaned_data["period"],
                actor=request.user,
                language=get_language() or None,
            )
        except DomainError as exc:
            add_domain_errors(form, exc)
            status = refusal_status(exc)
        else:
            messages.success(request, _("The report is being generated; this page shows it when it is ready."))
            return redirect("insight:report", pk=report.pk)
    return render(request, "insight/report_new.html", {"form": form}, status=status)


@login_required
@require_GET
def report_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _require_view(request)
    return _detail(request, _report(pk))


ACTION_CALLS: dict[str, Callable[..., Report]] = {
    "review": services.report_review,
    "return": services.report_return,
    "approve": services.report_approve,
}


@login_required
@require_POST
def report_action(request: AuthenticatedHttpRequest, pk: int, action: str) -> HttpResponse:
    _require_view(request)
    report = _report(pk)
    if action not in ACTION_LABELS:
        raise Http404(_("Unknown action."))
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _detail(request, report, form=form, failed_action=action, status=422)
    note = form.cleaned_data["note"]
    try:
        if action == "regenerate":
            report = services.report_regenerate(report=report, actor=request.user)
        elif action == "review":
            conclusions = form.cleaned_data["conclusions"] or None
            report = services.report_review(report=report, actor=request.user, note=note, conclusions=conclusions)
        elif action == "send":
            report = services.report_send(report=report, actor=request.user)
        else:
            report = ACTION_CALLS[action](report=report, actor=request.user, note=note)
    except DomainError as exc:
        add_domain_errors(form, exc)
        status = refusal_status(exc)
        return _detail(request, _report(pk), form=form, error=str(exc.message), failed_action=action, status=status)
    if action == "approve" and report.status == ReportStatus.APPROVED:
        messages.warning(
            request, _("Approved, but not sent: %(reason)s") % {"reason": services.send_problem(report) or ""}
        )
    else:
        messages.success(request, _("Done: %(action)s.") % {"action": ACTION_LABELS[action]})
    return redirect("insight:report", pk=pk)


@login_required
@require_GET
def report_file(request: AuthenticatedHttpRequest, pk: int, kind: str) -> FileResponse:
    _require_view(request)
    report = _report(pk)
    try:
        field, name, content_type = services.report_download(report=report, kind=kind, user=request.user)
    except PermissionDeniedError as exc:
        raise PermissionDenied(str(exc.message)) from None
    except DomainError as exc:
        raise Http404(str(exc.message)) from None
    return file_response(field.open("rb"), filename=name, content_type=content_type)


@login_required
@require_GET
def report_personal(request: AuthenticatedHttpRequest, pk: int) -> FileResponse:
    """The summary table with personal data, made now for a user who may see it (and audited)."""
    _require_view(request)
    report = _report(pk)
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - the response closes (and so removes) it
    try:
        services.report_personal_export(report=report, user=request.user, target=handle)
    except PermissionDeniedError as exc:
        handle.close()
        raise PermissionDenied(str(exc.message)) from None
    handle.seek(0)
    name = services.download_name(report, "xlsx").replace(".xlsx", "-personal.xlsx")
    return file_response(handle, filename=name, content_type=services.XLSX_TYPE)


def _recipients_page(request: HttpRequest, form: RecipientForm, status: int = 200) -> HttpResponse:
    rows = recipient_services.recipients_list()
    entries = []
    for row in rows:
        if row.user_id:
            kind, shown = _("person"), _person(row.user)
        elif row.group_id:
            # group_id is set; a group's name is a Role's value
            kind, shown = _("role"), str(ROLE_LABELS.get(row.group.name, row.group.name))  # type: ignore[union-attr,arg-type]
        else:
            kind, shown = _("e-mail address"), row.email
        entries.append({"recipient": row, "kind": kind, "shown": shown})
    people, addresses = recipient_services.recipients_expand()
    context = {"entries": entries, "form": form, "people_count": len(people), "address_count": len(addresses)}
    return render(request, "insight/report_recipients.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def recipients(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not recipient_services.recipients_may_manage(request.user):
        raise PermissionDenied(
            _("Only CS supervisors, management and administrators may change the distribution list.")
        )
    if request.method == "GET":
        return _recipients_page(request, RecipientForm())
    form = RecipientForm(request.POST)
    if form.is_valid():
        kind = form.cleaned_data["kind"]
        try:
            recipient_services.recipient_add(
                actor=request.user,
                user=form.cleaned_data["user"] if kind == "user" else None,
                group=form.cleaned_data["group"] if kind == "group" else None,
                email=form.cleaned_data["email"] if kind == "email" else "",
            )
        except PermissionDeniedError as exc:
            raise PermissionDenied(str(exc.message)) from None
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("Added to the distribution list."))
            return redirect("insight:recipients")
    return _recipients_page(request, form, status=422)


class CauseMapForm(forms.Form):
    text = forms.CharField(widget=forms.HiddenInput, max_length=10000)
    category = forms.TypedChoiceField(label=gettext_lazy("Root-cause category"), coerce=int)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "—"), *cause_category_choices()]  # type: ignore[attr-defined]  # a ChoiceField


@login_required
@require_http_methods(["GET", "POST"])
def cause_mapping(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The free-text root causes without a category, most frequent first, each with a suggested category;
    mapping one text gives every feedback form that reads so the category."""
    if not authz.allowed(request.user, "handling.map_root_causes"):
        raise PermissionDenied(_("Only quality, CS supervisors and administrators map root causes to categories."))
    status, failed = 200, None
    if request.method == "POST":
        failed = CauseMapForm(request.POST)
        if failed.is_valid():
            try:
                count = feedback_forms_categorise(
                    text=failed.cleaned_data["text"], category_id=failed.cleaned_data["category"], actor=request.user
                )
            except DomainError as exc:
                add_domain_errors(failed, exc)
            else:
                messages.success(request, _("%(count)d feedback form(s) given the category.") % {"count": count})
                return redirect("insight:cause_mapping")
        status = 422
    rows, total = unmapped_causes()
    items = []
    for index, row in enumerate(rows, start=1):
        if failed is not None and failed.data.get("text") == row.text:
            form = failed
        else:
            form = CauseMapForm(
                initial={"text": row.text, "category": row.suggestion.pk if row.suggestion else ""},
                auto_id=f"cause{index}_%s",
            )
        items.append({"row": row, "form": form})
    context = {"items": items, "total": total, "shown": len(rows)}
    return render(request, "insight/cause_mapping.html", context, status=status)


@login_required
@require_POST
def recipient_remove(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    recipient = get_object_or_404(Recipient, pk=pk)
    try:
        recipient_services.recipient_remove(actor=request.user, recipient=recipient)
    except PermissionDeniedError as exc:
        raise PermissionDenied(str(exc.message)) from None
    messages.success(request, _("Removed from the distribution list."))
    return redirect("insight:recipients")


urlpatterns: list[URLPattern] = [
    path("causes/", cause_mapping, name="cause_mapping"),
    path("reports/", report_list, name="reports"),
    path("reports/new/", report_new, name="report_new"),
    path("reports/recipients/", recipients, name="recipients"),
    path("reports/recipients/<int:pk>/remove/", recipient_remove, name="recipient_remove"),
    path("reports/<int:pk>/", report_detail, name="report"),
    path("reports/<int:pk>/file/<str:kind>/", report_file, name="report_file"),
    path("reports/<int:pk>/personal/", report_personal, name="report_personal"),
    path("reports/<int:pk>/<str:action>/", report_action, name="report_action"),
]
