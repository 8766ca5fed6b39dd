"""Desk page of the early-warning rules: what applies to each product line (its own rule or the
default), and one form to set a rule — for quality (and administrators); read-only for the others
who see defect incidents. A refused form is shown again with its errors (422)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from closeloop.complaints.models import Via
from closeloop.core.errors import DomainError, PermissionDeniedError
from closeloop.core.types import AuthenticatedHttpRequest
from closeloop.defects.forms import RuleForm, RuleRemoveForm
from closeloop.defects.services import rules as services
from closeloop.defects.services.common import may_edit_rules, may_view
from closeloop.defects.views.common import refusal
from closeloop.directory.models import ProductLine


def _line(code: str) -> ProductLine | None:
    if code == services.DEFAULT_CODE:
        return None
    line = ProductLine.objects.filter(code=code).first()
    if line is None:
        raise DomainError(_("Choose a product line from the list."), field="product_line")
    return line


def _page(request: HttpRequest, *, form: RuleForm | None = None, status: int = 200) -> HttpResponse:
    rows = services.rules_overview()
    may_edit = may_edit_rules(request.user)
    if form is None and may_edit:
        chosen = request.GET.get("line", services.DEFAULT_CODE)
        row = next((r for r in rows if r.code == chosen), rows[0])
        initial: dict[str, Any] = {"product_line": row.code}
        if row.rule is not None:
            initial.update(threshold=row.rule.threshold, window_days=row.rule.window_days, is_active=row.rule.is_active)
        form = RuleForm(prefix="rule", initial=initial)
    context = {"rows": rows, "form": form if may_edit else None, "may_edit": may_edit}
    return render(request, "defects/rules.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def rules(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not (may_view(request.user) or may_edit_rules(request.user)):
        raise PermissionDenied
    if request.method == "GET":
        return _page(request)
    form = RuleForm(request.POST, prefix="rule")
    exc: DomainError | None = None
    if not may_edit_rules(request.user):
        exc = PermissionDeniedError(_("Only quality may change the early-warning rules."))
    elif form.is_valid():
        try:
            services.spike_rule_set(
                product_line=_line(form.cleaned_data["product_line"]),
                threshold=form.cleaned_data["threshold"],
                window_days=form.cleaned_data["window_days"],
                is_active=form.cleaned_data["is_active"],
                actor=request.user,
                via=Via.DESK,
            )
        except DomainError as error:
            exc = error
        else:
            messages.success(request, _("Early-warning rule saved."))
            return redirect("defects:rules")
    status = refusal(form, exc)
    if status == 403:
        raise PermissionDenied
    return _page(request, form=form, status=status)


@login_required
@require_POST
def rule_remove(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not may_edit_rules(request.user):
        raise PermissionDenied
    form = RuleRemoveForm(request.POST)
    if form.is_valid():
        try:
            line = _line(form.cleaned_data["product_line"])
            if line is None:
                raise DomainError(_("The default rule cannot be removed; switch it off instead."), field="product_line")
            services.spike_rule_remove(product_line=line, actor=request.user, via=Via.DESK)
        except DomainError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(request, _("The product line follows the default rule again."))
    return redirect("defects:rules")


urlpatterns: list[URLPattern] = [
    path("rules/", rules, name="rules"),
    path("rules/remove/", rule_remove, name="rule_remove"),
]
