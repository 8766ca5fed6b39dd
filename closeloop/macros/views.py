"""Desk pages of canned replies (/desk/macros/): the list (mine and shared) with the form to add or change
one, and the complaint page's picker (loaded into macros/_complaint_macros.html) with the message to edit
and send. Thin: services write."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from closeloop.complaints.models import Complaint, Via
from closeloop.complaints.selectors import complaint_get
from closeloop.core.errors import DomainError
from closeloop.core.forms_ui import add_domain_errors, refusal_status
from closeloop.core.types import AuthenticatedHttpRequest
from closeloop.macros import services
from closeloop.macros.forms import MacroForm, SendForm
from closeloop.macros.models import Macro
from closeloop.macros.placeholders import PLACEHOLDERS
from closeloop.notifications.models import Method


def _require_use(request: AuthenticatedHttpRequest) -> None:
    if not services.may_use(request.user):
        raise PermissionDenied(_("Only customer-service agents and CS supervisors use canned replies."))


def _macro(request: AuthenticatedHttpRequest, pk: int) -> Macro:
    macro = services.macros_for(request.user).filter(pk=pk).first()
    if macro is None:
        raise Http404
    return macro


def _placeholders() -> list[tuple[str, object]]:
    return [("{" + name + "}", label) for name, (label, _value) in PLACEHOLDERS.items()]


@login_required
@require_http_methods(["GET", "POST"])
def macro_list(request: AuthenticatedHttpRequest, pk: int | None = None) -> HttpResponse:
    """The replies the agent may use, and the form: a new one, or `pk` to change. Errors come back on the
    form's fields with the text as typed."""
    _require_use(request)
    macro = _macro(request, pk) if pk is not None else None
    status = 200
    if request.method == "POST":
        form = MacroForm(request.POST)
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            try:
                if macro is None:
                    services.macro_create(
                        actor=request.user,
                        title=data["title"],
                        subject=data["subject"],
                        text=data["text"],
                        shared=data["shared"],
                    )
                else:
                    services.macro_update(
                        actor=request.user, macro=macro, title=data["title"], subject=data["subject"], text=data["text"]
                    )
            except DomainError as exc:
                add_domain_errors(form, exc)
                status = refusal_status(exc)
            else:
                messages.success(request, _("The canned reply is saved."))
                return redirect("macros:list")
    elif macro is not None:
        form = MacroForm(
            initial={
                "title": macro.title,
                "subject": macro.subject,
                "text": macro.text,
                "shared": macro.owner_id is None,
            }
        )
    else:
        form = MacroForm()
    rows = [(m, services.may_edit(request.user, m)) for m in services.macros_for(request.user)]
    context = {
        "rows": rows,
        "form": form,
        "macro": macro,
        "may_share": services.may_share(request.user),
        "placeholders": _placeholders(),
    }
    return render(request, "macros/list.html", context, status=status)


@login_required
@require_POST
def macro_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _require_use(request)
    try:
        services.macro_delete(actor=request.user, macro=_macro(request, pk))
    except DomainError as exc:
        raise PermissionDenied(str(exc.message)) from None
    messages.success(request, _("The canned reply is removed."))
    return redirect("macros:list")


def _complaint(request: AuthenticatedHttpRequest, number: str) -> Complaint:
    try:
        return complaint_get(user=request.user, number=number)
    except Complaint.DoesNotExist:
        raise Http404 from None


@login_required
@require_GET
def complaint_picker(request: AuthenticatedHttpRequest, number: str) -> HttpResponse:
    """The complaint page's list of replies (htmx), each opening the message to edit."""
    complaint = _complaint(request, number)
    if not services.may_use(request.user):
        return HttpResponse("")
    macros = list(services.macros_for(request.user))
    return render(request, "macros/_picker.html", {"complaint": complaint, "macros": macros})


@login_required
@require_http_methods(["GET", "POST"])
def complaint_send(request: AuthenticatedHttpRequest, number: str) -> HttpResponse:
    """GET: the reply chosen (`macro`) filled in with the complaint's values, to edit; POST: send it by SMS or
    e-mail through the outbox, on the complaint's timeline, and back to the complaint."""
    _require_use(request)
    complaint = _complaint(request, number)
    macro_id = request.GET.get("macro") or request.POST.get("macro") or ""
    macro = _macro(request, int(macro_id)) if macro_id.isdigit() else None
    status = 200
    if request.method == "POST":
        form = SendForm(request.POST)
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.macro_send(
                    actor=request.user,
                    complaint=complaint,
                    method=data["method"],
                    subject=data["subject"],
                    text=data["text"],
                    macro=macro,
                    via=Via.DESK,
                )
            except DomainError as exc:
                add_domain_errors(form, exc)
                status = refusal_status(exc)
            else:
                label = Method(data["method"]).label
                messages.success(request, _("Your %(method)s to the customer is on its way.") % {"method": label})
                return redirect("desk:detail", number=complaint.number)
    else:
        subject, text = (
            services.macro_draft(macro=macro, complaint=complaint, actor=request.user) if macro else ("", "")
        )
        form = SendForm(initial={"method": Method.SMS, "subject": subject, "text": text})
    context = {"complaint": complaint, "form": form, "macro": macro}
    return render(request, "macros/send.html", context, status=status)
