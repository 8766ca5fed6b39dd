"""A form a service refused, shown again: the service's errors go on the fields of the same name
(`add_domain_errors`), the page answers 403 for a role that may not act and 422 for anything else
(`refusal_status`), and what was typed stays in the form. Views of every package use these; the desk's
small forms about one complaint (postponements, disputes, repeats…) share one page, `form_page_refused`."""

from __future__ import annotations

from django import forms
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from closeloop.core.errors import DomainError, PermissionDeniedError, ValidationFailed


def add_domain_errors(form: forms.Form, exc: DomainError) -> None:
    """Put a service's errors on the form fields of the same name; others become form-wide errors."""
    errors = exc.errors if isinstance(exc, ValidationFailed) else {exc.field or "": [str(exc.message)]}
    for name, messages in errors.items():
        field = name if name in form.fields else None
        for message in messages:
            form.add_error(field, str(message))


def refusal_status(exc: DomainError | None) -> int:
    """403 when the actor's role may not act; 422 for a refused or invalid form."""
    return 403 if isinstance(exc, PermissionDeniedError) else 422


def form_page_refused(
    request: HttpRequest, *, complaint: models.Model, form: forms.Form, exc: DomainError | None, title: str
) -> HttpResponse:
    """The form of a complaint's panel shown again on a page of its own (`desk/form_refused.html`,
    linking back to `complaint`), with the service's error, or the form's own when `exc` is None;
    it posts to the same address again."""
    if exc is not None:
        add_domain_errors(form, exc)
    context = {"complaint": complaint, "form": form, "title": title, "action": request.path}
    return render(request, "desk/form_refused.html", context, status=refusal_status(exc))
