"""Desk pages of improvement actions (改进措施): the list with its filters, one action with its measured
effect side by side, the create form (prefilled from a feedback form, follow-up, incident, report or
complaint), the action forms, and the panel on the complaint page. Thin: forms parse, services decide."""

from __future__ import annotations

import datetime
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from closeloop.complaints.models import Complaint, Via
from closeloop.complaints.panels import Panel
from closeloop.core.errors import DomainError, PermissionDeniedError
from closeloop.core.forms_ui import add_domain_errors
from closeloop.core.types import AuthenticatedHttpRequest
from closeloop.directory.models import CauseCategory, ComplaintType, Department, Membership, Product, ProductLine
from closeloop.improvement import selectors, services
from closeloop.improvement.evaluation import Evaluation, action_evaluate
from closeloop.improvement.models import ActionEvent, ActionSource, ActionStatus, ImprovementAction

LIST_PAGE_SIZE = 30
SOURCE_PARAMS = ("feedback_form", "followup", "incident", "report", "complaint")

EVENT_LABELS = {
    "created": gettext_lazy("action created"),
    "started": gettext_lazy("work started"),
    "completed": gettext_lazy("done"),
    "judged_owner": gettext_lazy("owner's judgement"),
    "judged_quality": gettext_lazy("quality's judgement"),
    "verified": gettext_lazy("verified"),
    "improvement_warned": gettext_lazy("warning: the deadline is near"),
    "improvement_overdue": gettext_lazy("overdue"),
}


# --- forms ---------------------------------------------------------------------------------------------------


class FilterForm(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("status"), required=False)
    department = forms.TypedChoiceField(
        label=gettext_lazy("Owner department"), required=False, coerce=int, empty_value=None
    )
    owner = forms.TypedChoiceField(label=gettext_lazy("Owner"), required=False, coerce=int, empty_value=None)
    source = forms.ChoiceField(label=gettext_lazy("source"), required=False)
    overdue = forms.BooleanField(label=gettext_lazy("overdue only"), required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        anything = [("", _("all"))]
        cast(forms.ChoiceField, self.fields["status"]).choices = anything + list(ActionStatus.choices)
        cast(forms.ChoiceField, self.fields["source"]).choices = anything + list(ActionSource.choices)
        cast(forms.ChoiceField, self.fields["department"]).choices = anything + [
            (str(d.pk), d.label) for d in Department.objects.filter(is_active=True)
        ]
        owners = (
            get_user_model()
            .objects.filter(pk__in=selectors.actions_visible_to(user).values("owner_id"))
            .order_by("username")
        )
        cast(forms.ChoiceField, self.fields["owner"]).choices = anything + [(str(u.pk), _person(u)) for u in owners]

    def filters(self) -> selectors.ActionFilters:
        """The filters from the fields that were valid; a malformed one is shown as an error and ignored."""
        self.is_valid()
        data = {k: v for k, v in getattr(self, "cleaned_data", {}).items() if k not in self.errors}
        return selectors.ActionFilters(
            status=data.get("status") or "",
            department=data.get("department"),
            owner=data.get("owner"),
            overdue=bool(data.get("overdue")),
            source=data.get("source") or "",
        )


def _owner_choices() -> list[tuple[str, str]]:
    """Every member of an active department as "department · person" (one query); the service checks that
    the chosen person belongs to the chosen department."""
    rows = (
        Membership.objects.filter(department__is_active=True, user__is_active=True)
        .select_related("department", "user")
        .order_by("department__code", "user__username")
    )
    choices: list[tuple[str, str]] = [("", "—")]
    seen: set[tuple[int, int]] = set()
    for membership in rows:
        key = (membership.department_id, membership.user_id)
        if key not in seen:
            seen.add(key)
            choices.append((str(membership.user_id), f"{membership.department.label} · {_person(membership.user)}"))
    return choices


class CauseCategoryField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.path_label)


class ActionForm(forms.Form):
    """The create form. Field names are the service's error field names."""

    source = forms.ChoiceField(label=gettext_lazy("Comes from"), choices=ActionSource.choices)
    feedback_form = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
    followup = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
    incident = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
    report = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
    complaint = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
    title = forms.CharField(label=gettext_lazy("Title"), max_length=services.TITLE_MAX_LENGTH)
    description = forms.CharField(
        label=gettext_lazy("What will be changed"),
        max_length=services.TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    product_line = forms.ModelChoiceField(
        label=gettext_lazy("Product line"), queryset=ProductLine.objects.all(), required=False
    )
    product = forms.CharField(
        label=gettext_lazy("Model / SKU"),
        required=False,
        max_length=60,
        help_text=gettext_lazy("The model number, e.g. XD-100."),
    )
    complaint_type = forms.ModelChoiceField(
        label=gettext_lazy("Complaint type"), queryset=ComplaintType.objects.filter(is_active=True), required=False
    )
    root_cause = forms.CharField(
        label=gettext_lazy("Root cause"),
        required=False,
        max_length=services.ROOT_CAUSE_MAX_LENGTH,
        help_text=gettext_lazy("Matched as a phrase, ignoring case, against the root causes in feedback forms."),
    )
    cause_category = CauseCategoryField(
        label=gettext_lazy("Root-cause category"),
        queryset=CauseCategory.objects.filter(is_active=True).select_related("parent"),
        required=False,
        help_text=gettext_lazy(
            "人、机、料、法、环、测 or one of their sub-causes; the report links top causes to actions."
        ),
    )
    owner_department = forms.ModelChoiceField(
        label=gettext_lazy("Owner department"), queryset=Department.objects.filter(is_active=True)
    )
    owner = forms.TypedChoiceField(label=gettext_lazy("Owner"), coerce=int)
    target = forms.CharField(
        label=gettext_lazy("Deadline (time allowed)"),
        required=False,
        max_length=20,
        help_text=gettext_lazy("On the working calendar, e.g. 20wd (working days) or 30d — or give a due date."),
    )
    due_date = forms.DateField(
        label=gettext_lazy("or due date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("The end of that working day."),
    )
    window_days = forms.IntegerField(
        label=gettext_lazy("Evaluation window (days)"),
        min_value=services.MIN_WINDOW_DAYS,
        max_value=services.MAX_WINDOW_DAYS,
        initial=services.DEFAULT_WINDOW_DAYS,
        help_text=gettext_lazy("Complaints in this many days before and after completion are compared."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = _owner_choices()  # type: ignore[attr-defined]  # a (Model)ChoiceField; form fields are typed Field

    def service_input(self, user: Any) -> services.ActionInput:
        """The input for `action_create`; a source or model that cannot be found becomes a field error
        (raised as DomainError so that the view handles it like the service's own)."""
        data = self.cleaned_data
        refs: dict[str, Any] = {}
        # A record carried from the prefill counts only if it fits the source finally chosen.
        fitting = {services.SOURCE_REFS.get(data["source"]), "complaint"}
        for name in SOURCE_PARAMS:
            pk = data.get(name)
            if pk and name in fitting:
                try:
                    refs[name] = selectors.SOURCE_LOOKUPS[name](user=user, pk=pk)
                except ObjectDoesNotExist:
                    raise DomainError(_("The record the action comes from cannot be found."), field="source") from None
        product = None
        if data.get("product"):
            product = Product.objects.filter(model__iexact=data["product"].strip()).select_related("line").first()
            if product is None:
                raise DomainError(_("There is no product with this model number."), field="product")
        owner = get_user_model().objects.filter(pk=data["owner"]).first()
        return services.ActionInput(
            source=data["source"],
            title=data["title"],
            description=data["description"],
            owner_department=data["owner_department"],
            owner=owner,
            target=data.get("target") or "",
            due_date=data.get("due_date"),
            product_line=data.get("product_line"),
            product=product,
            complaint_type=data.get("complaint_type"),
            root_cause=data.get("root_cause") or "",
            cause_category=data.get("cause_category"),
            window_days=data["window_days"],
            **refs,
        )


def _initial_from(prefill: dict[str, Any]) -> dict[str, Any]:
    initial: dict[str, Any] = {"target": "20wd"}
    for name, value in prefill.items():
        if name == "product":
            initial[name] = value.model if value is not None else ""
        elif name in SOURCE_PARAMS:
            initial[name] = value.pk if value is not None else None
        else:
            initial[name] = value
    return initial


class CompleteForm(forms.Form):
    done_note = forms.CharField(
        label=gettext_lazy("What was done"),
        max_length=services.TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class JudgeForm(forms.Form):
    effective = forms.TypedChoiceField(
        label=gettext_lazy("Was the action effective?"),
        choices=[("yes", gettext_lazy("effective")), ("no", gettext_lazy("not effective"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=gettext_lazy("Note"), max_length=services.TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3})
    )


# --- helpers -------------------------------------------------------------------------------------------------


def _person(user: Any) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _visible_action(request: HttpRequest, pk: int) -> ImprovementAction:
    try:
        return selectors.action_get(user=request.user, pk=pk)
    except ImprovementAction.DoesNotExist:
        raise Http404(_("No such improvement action.")) from None


def _span(length: datetime.timedelta) -> str:
    hours = int(length.total_seconds() // 3600)
    days, hours = divmod(hours, 24)
    if days and hours:
        return _("%(days)s days %(hours)s hours") % {"days": days, "hours": hours}
    if days:
        return _("%(days)s days") % {"days": days}
    return _("%(hours)s hours") % {"hours": hours}


def _try_reverse(names: tuple[str, ...], pk: int) -> str | None:
    for name in names:
        try:
            return reverse(name, args=[pk])
        except NoReverseMatch:
            continue
    return None


def _source(action: ImprovementAction) -> dict[str, Any] | None:
    """The record the action comes from, as a label and a link (None when there is none)."""
    if action.feedback_form:
        form = action.feedback_form
        return {
            "label": _("Feedback form of %(number)s") % {"number": form.complaint.number},
            "url": reverse("handling:feedback_detail", args=[form.pk]),
        }
    if action.followup:
        followup = action.followup
        return {
            "label": _("Follow-up (round %(round)s) of %(number)s")
            % {"round": followup.round, "number": followup.complaint.number},
            "url": reverse("desk:detail", args=[followup.complaint.number]) + f"#followup-{followup.pk}",
        }
    if action.incident:
        incident = action.incident
        return {
            "label": f"{incident.number} {incident.title}",
            "url": _try_reverse(("defects:incident",), incident.pk),
        }
    if action.report:
        report = action.report
        return {
            "label": _("Report %(start)s – %(end)s")
            % {"start": report.period_start.isoformat(), "end": report.period_end.isoformat()},
            "url": _try_reverse(("insight:report",), report.pk),
        }
    if action.complaint:
        return {"label": action.complaint.number, "url": reverse("desk:detail", args=[action.complaint.number])}
    return None


def _targets(action: ImprovementAction) -> str:
    """ "XD-100 · 质量 · “驱动电源”": what the action targets, in one line."""
    parts = [
        action.product.model if action.product else (action.product_line.label if action.product_line else ""),
        action.complaint_type.label if action.complaint_type else "",
        f"“{action.root_cause}”" if action.root_cause else "",
    ]
    return " · ".join(part for part in parts if part)


def _evaluation_rows(evaluation: Evaluation) -> list[dict[str, Any]]:
    """The three measures side by side, prepared here so that the template stays free of logic."""
    before, after = evaluation.before, evaluation.after
    return [
        {
            "key": "complaints",
            "label": _("Complaint count"),
            "before": str(before.complaints),
            "after": str(after.complaints),
            "change": f"{evaluation.complaints_change:+d}",
            "better": evaluation.complaints_better,
        },
        {
            "key": "complaint_rate",
            "label": _("Complaint rate"),
            "before": _percent(before.complaint_rate),
            "before_counts": f"{before.complaints} / {before.all_complaints}",
            "after": _percent(after.complaint_rate),
            "after_counts": f"{after.complaints} / {after.all_complaints}",
            "change": _points(evaluation.rate_change),
            "better": evaluation.rate_better,
        },
        {
            "key": "satisfaction",
            "label": _("Satisfaction"),
            "before": _percent(before.satisfaction),
            "before_counts": f"{before.satisfied} / {before.rated}",
            "after": _percent(after.satisfaction),
            "after_counts": f"{after.satisfied} / {after.rated}",
            "change": _points(evaluation.satisfaction_change),
            "better": evaluation.satisfaction_better,
        },
    ]


def _percent(value: Any) -> str:
    return "—" if value is None else f"{value} %"


def _points(value: Any) -> str:
    return "—" if value is None else _("%(value)s points") % {"value": f"{value:+}"}


def _timeline(events: list[ActionEvent]) -> list[dict[str, Any]]:
    return [
        {
            "at": event.at,
            "label": EVENT_LABELS.get(event.kind, event.kind),
            "actor": _person(event.actor) or _("system"),
            "note": event.note,
            "effective": event.after.get("effective") if event.kind.startswith("judged_") else None,
        }
        for event in events
    ]


def _detail_page(
    request: HttpRequest,
    action: ImprovementAction,
    *,
    bound: dict[str, forms.Form] | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    bound = bound or {}
    allowed = services.action_allowed(action=action, user=request.user)
    evaluation = action_evaluate(action)
    action_forms: dict[str, Any] = {}
    if allowed.start:
        action_forms["start"] = bound.get("start") or forms.Form()
    if allowed.complete:
        action_forms["complete"] = bound.get("complete") or CompleteForm(auto_id="complete_%s")
    if allowed.judge_owner:
        action_forms["owner"] = bound.get("owner") or JudgeForm(auto_id="owner_%s")
    if allowed.judge_quality:
        action_forms["quality"] = bound.get("quality") or JudgeForm(auto_id="quality_%s")
    now = timezone.now()
    context = {
        "action": action,
        "source": _source(action),
        "overdue": action.done_at is None and action.due_at <= now,
        "evaluation": evaluation,
        "evaluation_rows": _evaluation_rows(evaluation) if evaluation else [],
        "window_span": _span(evaluation.length) if evaluation else "",
        "timeline": _timeline(list(selectors.action_events(action))),
        "action_forms": action_forms,
        "page_error": error,
        "people": {
            "owner": _person(action.owner),
            "created_by": _person(action.created_by),
            "owner_judged_by": _person(action.owner_judged_by),
            "quality_judged_by": _person(action.quality_judged_by),
        },
    }
    return render(request, "improvement/detail.html", context, status=status)


# --- pages ---------------------------------------------------------------------------------------------------


@login_required
@require_GET
def action_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not selectors.can_view(request.user):
        raise PermissionDenied
    form = FilterForm(request.GET, user=request.user)
    queryset = selectors.action_list(user=request.user, filters=form.filters())
    page = Paginator(queryset, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = [
        {"action": a, "overdue": a.done_at is None and a.due_at <= now, "targets": _targets(a)}
        for a in page.object_list
    ]
    context = {"form": form, "page": page, "rows": rows, "may_create": services.can_create(request.user)}
    return render(request, "improvement/list.html", context)


@login_required
@require_GET
def action_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _detail_page(request, _visible_action(request, pk))


@login_required
@require_http_methods(["GET", "POST"])
def action_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not services.can_create(request.user):
        raise PermissionDenied
    if request.method == "POST":
        form = ActionForm(request.POST)
        if form.is_valid():
            try:
                action = services.action_create(data=form.service_input(request.user), actor=request.user, via=Via.DESK)
            except DomainError as exc:
                add_domain_errors(form, exc)
            else:
                messages.success(request, _("Improvement action %(number)s created.") % {"number": action.number})
                return redirect("improvement:detail", pk=action.pk)
        return render(request, "improvement/form.html", {"form": form}, status=422)
    refs: dict[str, Any] = {}
    for name in SOURCE_PARAMS:
        value = request.GET.get(name, "")
        if value:
            if not value.isdigit() or len(value) > 18:
                raise Http404(_("No such record."))
            try:
                refs[name] = selectors.SOURCE_LOOKUPS[name](user=request.user, pk=int(value))
            except ObjectDoesNotExist:
                raise Http404(_("No such record.")) from None
    form = ActionForm(initial=_initial_from(services.action_prefill(**refs)))
    return render(request, "improvement/form.html", {"form": form})


def _act(request: HttpRequest, pk: int, key: str, form: forms.Form, call: Any) -> HttpResponse:
    """Run one step; a refusal re-renders the page with the bound form (422) or the reason (403)."""
    action = _visible_action(request, pk)
    if form.is_valid():
        try:
            call(action, form.cleaned_data)
        except PermissionDeniedError as exc:
            return _detail_page(request, _visible_action(request, pk), error=str(exc.message), status=403)
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("improvement:detail", pk=pk)
    action = _visible_action(request, pk)  # re-read: the refusal may be due to a change meanwhile
    offered = services.action_allowed(action=action, user=request.user)
    on_page = {"start": offered.start, "complete": offered.complete, "owner": offered.judge_owner}.get(
        key, offered.judge_quality
    )
    error = "" if on_page else " ".join(str(e) for errors in form.errors.values() for e in errors)
    return _detail_page(request, action, bound={key: form}, error=error, status=422)


@login_required
@require_POST
def action_start(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        "start",
        forms.Form(request.POST),
        lambda action, data: services.action_start(action=action, actor=request.user, via=Via.DESK),
    )


@login_required
@require_POST
def action_complete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        "complete",
        CompleteForm(request.POST, auto_id="complete_%s"),
        lambda action, data: services.action_complete(
            action=action, actor=request.user, done_note=data["done_note"], via=Via.DESK
        ),
    )


@login_required
@require_POST
def action_judge(request: AuthenticatedHttpRequest, pk: int, side: str) -> HttpResponse:
    if side not in services.Side.ALL:
        raise Http404(_("Unknown action."))
    return _act(
        request,
        pk,
        side,
        JudgeForm(request.POST, auto_id=f"{side}_%s"),
        lambda action, data: services.action_judge(
            action=action,
            actor=request.user,
            side=side,
            effective=data["effective"],
            note=data["note"],
            via=Via.DESK,
        ),
    )


# --- the panel on the complaint page -------------------------------------------------------------------------


def panel(request: HttpRequest, complaint: Complaint) -> Panel | None:
    """The improvement actions raised from the complaint, with a link to raise one; nothing for those who
    neither see nor raise actions."""
    may_create = services.can_create(request.user)
    if not selectors.can_view(request.user) and not may_create:
        return None
    actions = selectors.actions_for_complaint(user=request.user, complaint=complaint)
    if not actions and not may_create:
        return None
    create_url = f"{reverse('improvement:create')}?complaint={complaint.pk}" if may_create else ""
    return Panel(
        template="improvement/panel.html",
        context={"actions": actions, "create_url": create_url},
        order=90,
        column="main",
    )


urlpatterns: list[URLPattern] = [
    path("", action_list, name="list"),
    path("new/", action_create, name="create"),
    path("<int:pk>/", action_detail, name="detail"),
    path("<int:pk>/start/", action_start, name="start"),
    path("<int:pk>/complete/", action_complete, name="complete"),
    path("<int:pk>/judge/<str:side>/", action_judge, name="judge"),
]
