"""The queue's bulk actions (the form is templates/desk/_bulk_actions.html): read the form, call
handling.services.bulk, show one result per complaint."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from closeloop import authz
from closeloop.core.types import AuthenticatedHttpRequest
from closeloop.directory.models import Department
from closeloop.handling.services.bulk import ACTIONS, complaints_bulk


def _pk(value: str | None) -> int:
    """A primary key from a select, 0 (matching nothing) for anything else."""
    return int(value) if value and value.isdigit() and len(value) < 12 else 0


def _data(request: AuthenticatedHttpRequest, action: str) -> tuple[dict[str, Any], str]:
    """What the action needs from the form, or the reason it cannot run at all."""
    post = request.POST
    if action == "priority":
        if post.get("priority", "") not in {"1", "2", "3"}:
            return {}, _("Choose the new priority.")
        if not post.get("reason", "").strip():
            return {}, _("Say why the priority changes.")
        return {"priority": int(post["priority"]), "reason": post["reason"].strip()}, ""
    if action == "dispatch":
        department = Department.objects.filter(pk=_pk(post.get("department")), is_active=True).first()
        return ({"department": department}, "") if department else ({}, _("Choose the department."))
    if action == "assign":
        handler = get_user_model().objects.filter(pk=_pk(post.get("handler")), is_active=True).first()
        return ({"handler": handler}, "") if handler else ({}, _("Choose the handler."))
    return {}, ""


@login_required
@require_POST
def bulk(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not authz.allowed(request.user, "complaints.reprioritise_complaint"):
        raise PermissionDenied
    action = request.POST.get("action", "")
    numbers = request.POST.getlist("n")
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = ""
    error = ""
    if action not in ACTIONS:
        error = _("Choose an action.")
    elif not numbers:
        error = _("Tick at least one complaint.")
    data, problem = _data(request, action) if not error else ({}, "")
    error = error or problem
    results = [] if error else complaints_bulk(numbers=numbers, action=action, data=data, actor=request.user)
    context = {
        "results": results,
        "error": error,
        "done": sum(r.ok for r in results),
        "refused": sum(not r.ok for r in results),
        "back": back,
    }
    return render(request, "handling/bulk_results.html", context, status=422 if error else 200)


urlpatterns: list[URLPattern] = [path("bulk/", bulk, name="bulk")]
