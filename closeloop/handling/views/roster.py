"""The responsibility roster page (责任岗位表): every desk role reads it; the managers of a department
edit its lines and record their people's leave. Changes go through `handling.services.roster`."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from closeloop import authz
from closeloop.core.errors import DomainError
from closeloop.core.forms_ui import add_domain_errors
from closeloop.core.types import AuthenticatedHttpRequest
from closeloop.directory.models import ComplaintType, Department, Membership, ProductLine, RosterEntry
from closeloop.handling import selectors
from closeloop.handling.services import roster as services

CHANGE_LABELS = {
    "created": gettext_lazy("line added"),
    "updated": gettext_lazy("line changed"),
    "ended": gettext_lazy("line ended"),
}


# The log stores codes and usernames (what the line was, whatever is renamed later); the page shows words.
FIELD_LABELS = {
    "department": gettext_lazy("department"),
    "handler": gettext_lazy("handler"),
    "complaint_type": gettext_lazy("complaint type"),
    "product_line": gettext_lazy("product line"),
    "province": gettext_lazy("province"),
    "valid_from": gettext_lazy("valid from"),
    "valid_to": gettext_lazy("valid to"),
    "note": gettext_lazy("note"),
}
CODED: dict[str, type[Department] | type[ComplaintType] | type[ProductLine]] = {
    "department": Department,
    "complaint_type": ComplaintType,
    "product_line": ProductLine,
}


def _change_rows(changes: list[Any]) -> list[dict[str, Any]]:
    """The log as the page shows it: what changed, before → after, in labels of the active language."""
    names = {key: {o.code: o.label for o in model._default_manager.all()} for key, model in CODED.items()}
    # Handlers are stored by username; shown by name (the username when they have none).
    usernames = {c.get("handler") for change in changes for c in (change.before, change.after)} - {None, ""}
    names["handler"] = {
        u.get_username(): u.get_full_name() or u.get_username()
        for u in get_user_model().objects.filter(username__in=usernames)
    }

    def word(key: str, value: Any) -> str:
        if value in (None, ""):
            return "*"
        return str(names[key].get(value, value)) if key in names else str(value)

    def label(key: str) -> str:
        return str(FIELD_LABELS.get(key, key))

    rows = []
    for c in changes:
        keys = [k for k in c.after if c.before.get(k) != c.after.get(k)] if c.before else []
        rows.append(
            {
                "change": c,
                "label": CHANGE_LABELS.get(c.action, c.action),
                "diff": [(label(k), word(k, c.before.get(k)), word(k, c.after.get(k))) for k in keys],
                "summary": _("; ").join(f"{label(k)}: {word(k, v)}" for k, v in c.after.items() if v)
                if not c.before
                else "",
            }
        )
    return rows


DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _editable_departments(user: Any) -> list[Department]:
    if authz.allowed(user, "handling.edit_every_roster"):
        return list(Department.objects.filter(is_active=True))
    ids = Membership.objects.filter(user=user, is_manager=True).values("department_id")
    return list(Department.objects.filter(pk__in=ids, is_active=True))


def _people(departments: list[Department]) -> list[Any]:
    ids = Membership.objects.filter(department__in=departments).values("user_id")
    return list(get_user_model().objects.filter(pk__in=ids, is_active=True).order_by("username"))


class RosterEntryForm(forms.Form):
    department = forms.ModelChoiceField(label=gettext_lazy("department"), queryset=Department.objects.none())
    handler = forms.ModelChoiceField(
        label=gettext_lazy("handler"), queryset=get_user_model().objects.none(), required=False
    )
    complaint_type = forms.ModelChoiceField(
        label=gettext_lazy("complaint type"), queryset=ComplaintType.objects.filter(is_active=True), required=False
    )
    product_line = forms.ModelChoiceField(
        label=gettext_lazy("product line"), queryset=ProductLine.objects.all(), required=False
    )
    province = forms.CharField(label=gettext_lazy("province"), max_length=30, required=False)
    valid_from = forms.DateField(label=gettext_lazy("valid from"), widget=DATE_INPUT)
    valid_to = forms.DateField(label=gettext_lazy("valid to"), widget=DATE_INPUT, required=False)
    note = forms.CharField(label=gettext_lazy("note"), max_length=200, required=False)

    def __init__(self, *args: Any, departments: list[Department], people: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["department"]).queryset = Department.objects.filter(
            pk__in=[d.pk for d in departments]
        )
        handler = cast(forms.ModelChoiceField, self.fields["handler"])
        handler.queryset = get_user_model().objects.filter(pk__in=[u.pk for u in people])
        handler.label_from_instance = lambda u: u.get_full_name() or u.get_username()  # type: ignore[method-assign,assignment]  # Django's documented way


class RosterEditForm(forms.Form):
    """Change one line. Choices are computed once per page and shared by every row's form, so the
    page costs the same number of queries however long the roster is."""

    handler = forms.TypedChoiceField(label=gettext_lazy("handler"), required=False, coerce=int, empty_value=None)
    complaint_type = forms.TypedChoiceField(
        label=gettext_lazy("complaint type"), required=False, coerce=int, empty_value=None
    )
    product_line = forms.TypedChoiceField(
        label=gettext_lazy("product line"), required=False, coerce=int, empty_value=None
    )
    province = forms.CharField(label=gettext_lazy("province"), max_length=30, required=False)
    valid_to = forms.DateField(label=gettext_lazy("valid to"), widget=DATE_INPUT, required=False)
    note = forms.CharField(label=gettext_lazy("note"), max_length=200, required=False)

    def __init__(self, *args: Any, choices: dict[str, list[tuple[Any, str]]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("handler", "complaint_type", "product_line"):
            field = cast(forms.ChoiceField, self.fields[name])
            field.choices = [("", "*" if name != "handler" else _("— department pool —")), *choices[name]]

    @staticmethod
    def initial_for(entry: RosterEntry) -> dict[str, Any]:
        return {
            "handler": entry.handler_id,
            "complaint_type": entry.complaint_type_id,
            "product_line": entry.product_line_id,
            "province": entry.province,
            "valid_to": entry.valid_to,
            "note": entry.note,
        }


def _edit_choices(people: list[Any]) -> dict[str, list[tuple[Any, str]]]:
    return {
        "handler": [(u.pk, u.get_full_name() or u.get_username()) for u in people],
        "complaint_type": [(t.pk, t.label) for t in ComplaintType.objects.filter(is_active=True)],
        "product_line": [(line.pk, line.label) for line in ProductLine.objects.all()],
    }


class RosterEndForm(forms.Form):
    on = forms.DateField(label=gettext_lazy("last day"), widget=DATE_INPUT)


class AbsenceForm(forms.Form):
    user = forms.ModelChoiceField(label=gettext_lazy("person"), queryset=get_user_model().objects.none())
    starts = forms.DateField(label=gettext_lazy("from"), widget=DATE_INPUT)
    ends = forms.DateField(label=gettext_lazy("to"), widget=DATE_INPUT)
    cover = forms.ModelChoiceField(
        label=gettext_lazy("covered by"), queryset=get_user_model().objects.none(), required=False
    )
    note = forms.CharField(label=gettext_lazy("note"), max_length=200, required=False)

    def __init__(self, *args: Any, people: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("user", "cover"):
            field = cast(forms.ModelChoiceField, self.fields[name])
            field.queryset = get_user_model().objects.filter(pk__in=[u.pk for u in people])
            field.label_from_instance = lambda u: u.get_full_name() or u.get_username()  # type: ignore[method-assign,assignment]  # Django's documented way


def _check_reader(request: HttpRequest) -> None:
    if not authz.allowed(request.user, "handling.view_roster"):
        raise PermissionDenied


def _page(request: HttpRequest, *, bound: dict[str, forms.Form] | None = None, status: int = 200) -> HttpResponse:
    bound = bound or {}
    departments = _editable_departments(request.user)
    people = _people(departments) if departments else []
    entries = list(selectors.roster_entries())
    editable_ids = {d.pk for d in departments}
    today = timezone.localdate()
    choices = _edit_choices(people) if departments else {}
    bound_edit = bound.get("edit")
    rows = []
    for e in entries:
        active = e.valid_to is None or e.valid_to >= today
        edit = None
        if e.department_id in editable_ids and active:
            if bound_edit is not None and getattr(bound_edit, "entry_id", None) == e.pk:
                edit = bound_edit
            else:
                edit = RosterEditForm(choices=choices, initial=RosterEditForm.initial_for(e), auto_id=f"id_e{e.pk}_%s")
        rows.append(
            {
                "entry": e,
                "active": e.valid_from <= today and active,
                "editable": e.department_id in editable_ids,
                "edit": edit,
            }
        )
    context = {
        "rows": rows,
        "changes": _change_rows(list(selectors.roster_changes(limit=50))),
        "absences": list(selectors.absences_current()),
        "entry_form": bound.get("entry")
        or (
            RosterEntryForm(departments=departments, people=people, initial={"valid_from": today})
            if departments
            else None
        ),
        "absence_form": bound.get("absence") or (AbsenceForm(people=people) if departments else None),
        "end_form": RosterEndForm(initial={"on": today}),
        "bound_end": bound.get("end"),
        "today": today,
    }
    return render(request, "handling/roster/page.html", context, status=status)


@login_required
@require_GET
def roster_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    _check_reader(request)
    return _page(request)


@login_required
@require_POST
def roster_entry_add(request: AuthenticatedHttpRequest) -> HttpResponse:
    _check_reader(request)
    departments = _editable_departments(request.user)
    form = RosterEntryForm(request.POST, departments=departments, people=_people(departments))
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.roster_entry_create(
                department=data["department"],
                handler=data["handler"],
                complaint_type=data["complaint_type"],
                product_line=data["product_line"],
                province=data["province"],
                valid_from=data["valid_from"],
                valid_to=data["valid_to"],
                note=data["note"],
                actor=request.user,
            )
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("Roster line added."))
            return redirect("handling:roster")
    return _page(request, bound={"entry": form}, status=422)


@login_required
@require_POST
def roster_entry_edit(request: AuthenticatedHttpRequest, entry_id: int) -> HttpResponse:
    _check_reader(request)
    entry = get_object_or_404(
        RosterEntry.objects.select_related("department", "handler", "complaint_type", "product_line"), pk=entry_id
    )
    departments = _editable_departments(request.user)
    form = RosterEditForm(request.POST, choices=_edit_choices(_people(departments)), auto_id=f"id_e{entry.pk}_%s")
    form.entry_id = entry.pk  # type: ignore[attr-defined]  # a per-request attribute of our own
    if form.is_valid():
        data = form.cleaned_data
        user_model = get_user_model()
        values = {
            "handler": user_model.objects.filter(pk=data["handler"]).first() if data["handler"] else None,
            "complaint_type": ComplaintType.objects.filter(pk=data["complaint_type"]).first()
            if data["complaint_type"]
            else None,
            "product_line": ProductLine.objects.filter(pk=data["product_line"]).first()
            if data["product_line"]
            else None,
            "province": data["province"],
            "valid_to": data["valid_to"],
            "note": data["note"],
        }
        try:
            services.roster_entry_update(entry=entry, values=values, actor=request.user)
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("Roster line changed."))
            return redirect("handling:roster")
    return _page(request, bound={"edit": form}, status=422)


@login_required
@require_POST
def roster_entry_end(request: AuthenticatedHttpRequest, entry_id: int) -> HttpResponse:
    _check_reader(request)
    entry = get_object_or_404(RosterEntry, pk=entry_id)
    form = RosterEndForm(request.POST)
    if form.is_valid():
        try:
            services.roster_entry_end(entry=entry, actor=request.user, on=form.cleaned_data["on"])
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("Roster line ended."))
            return redirect("handling:roster")
    messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return _page(request, bound={"end": form}, status=422)


@login_required
@require_POST
def absence_add(request: AuthenticatedHttpRequest) -> HttpResponse:
    _check_reader(request)
    form = AbsenceForm(request.POST, people=_people(_editable_departments(request.user)))
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.absence_create(
                user=data["user"],
                starts=data["starts"],
                ends=data["ends"],
                cover=data["cover"],
                note=data["note"],
                actor=request.user,
            )
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("Leave recorded."))
            return redirect("handling:roster")
    return _page(request, bound={"absence": form}, status=422)


urlpatterns = [
    path("roster/", roster_page, name="roster"),
    path("roster/add/", roster_entry_add, name="roster_add"),
    path("roster/<int:entry_id>/edit/", roster_entry_edit, name="roster_edit"),
    path("roster/<int:entry_id>/end/", roster_entry_end, name="roster_end"),
    path("roster/absences/add/", absence_add, name="absence_add"),
]
