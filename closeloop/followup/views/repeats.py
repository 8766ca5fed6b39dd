"""Desk side of repeat complaints and merged duplicates: the panel on the complaint page and its three
forms (link as a repeat, unlink, merge another complaint into this one). Rules live in
followup.services.repeats; a refused form is shown again with its message on the field."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from closeloop import authz
from closeloop.complaints.lifecycle import Status
from closeloop.complaints.models import Attachment, Complaint, Via
from closeloop.complaints.panels import Panel
from closeloop.complaints.selectors import complaint_get, complaints_visible_to
from closeloop.core.errors import DomainError
from closeloop.core.forms_ui import form_page_refused
from closeloop.core.types import AuthenticatedHttpRequest
from closeloop.followup.services import repeats as services

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def _reason_field(label: StrOrPromise) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,  # the service's rule, so that desk and API say the same
        max_length=services.REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RepeatLinkForm(forms.Form):
    earlier = forms.CharField(
        label=gettext_lazy("number of the earlier complaint"),
        max_length=20,
        widget=forms.TextInput(attrs={"placeholder": "TS20260101-0001"}),
    )
    reason = _reason_field(gettext_lazy("why it is a repeat"))


class RepeatUnlinkForm(forms.Form):
    reason = _reason_field(gettext_lazy("why it is not a repeat"))


class MergeForm(forms.Form):
    duplicate = forms.CharField(
        label=gettext_lazy("number of the duplicate to merge into this complaint"),
        max_length=20,
        widget=forms.TextInput(attrs={"placeholder": "TS20260101-0001"}),
    )
    reason = _reason_field(gettext_lazy("why it is the same complaint"))


def _visible_complaint(request: HttpRequest, number: str) -> Complaint:
    try:
        return complaint_get(user=request.user, number=number)
    except Complaint.DoesNotExist:
        raise Http404(_("No such complaint.")) from None


def _named_complaint(request: HttpRequest, number: str, *, field: str) -> Complaint:
    """A complaint typed into a form: unknown or out of scope is a field error (never a hint it exists)."""
    try:
        return complaint_get(user=request.user, number=number.strip().upper())
    except Complaint.DoesNotExist:
        raise DomainError(_("There is no complaint with this number."), field=field) from None


@login_required
@require_POST
def link(request: AuthenticatedHttpRequest, number: str) -> HttpResponse:
    complaint = _visible_complaint(request, number)
    form = RepeatLinkForm(request.POST, prefix="repeat-link")
    exc: DomainError | None = None
    if form.is_valid():
        try:
            earlier = _named_complaint(request, form.cleaned_data["earlier"], field="earlier")
            services.complaint_link_repeat(
                complaint=complaint,
                earlier=earlier,
                reason=form.cleaned_data["reason"],
                actor=request.user,
                via=Via.DESK,
            )
        except DomainError as error:
            exc = error
        else:
            messages.success(request, _("Linked as a repeat of %(number)s.") % {"number": earlier.number})
            return redirect("desk:detail", number=complaint.number)
    return form_page_refused(request, complaint=complaint, form=form, exc=exc, title=_("Link as a repeat complaint"))


@login_required
@require_POST
def unlink(request: AuthenticatedHttpRequest, number: str) -> HttpResponse:
    complaint = _visible_complaint(request, number)
    form = RepeatUnlinkForm(request.POST, prefix="repeat-unlink")
    exc: DomainError | None = None
    if form.is_valid():
        try:
            services.complaint_unlink_repeat(
                complaint=complaint,
                reason=form.cleaned_data["reason"],
                actor=request.user,
                via=Via.DESK,
            )
        except DomainError as error:
            exc = error
        else:
            messages.success(request, _("No longer marked as a repeat complaint."))
            return redirect("desk:detail", number=complaint.number)
    return form_page_refused(request, complaint=complaint, form=form, exc=exc, title=_("Not a repeat complaint"))


@login_required
@require_POST
def merge(request: AuthenticatedHttpRequest, number: str) -> HttpResponse:
    into = _visible_complaint(request, number)
    form = MergeForm(request.POST, prefix="merge")
    exc: DomainError | None = None
    if form.is_valid():
        try:
            duplicate = _named_complaint(request, form.cleaned_data["duplicate"], field="duplicate")
            services.complaint_merge(
                duplicate=duplicate,
                into=into,
                reason=form.cleaned_data["reason"],
                actor=request.user,
                via=Via.DESK,
            )
        except DomainError as error:
            exc = error
        else:
            messages.success(request, _("%(number)s merged into this complaint.") % {"number": duplicate.number})
            return redirect("desk:detail", number=into.number)
    return form_page_refused(
        request, complaint=into, form=form, exc=exc, title=_("Merge a duplicate into this complaint")
    )


urlpatterns: list[URLPattern] = [
    path("repeats/<str:number>/link/", link, name="repeat_link"),
    path("repeats/<str:number>/unlink/", unlink, name="repeat_unlink"),
    path("repeats/<str:number>/merge/", merge, name="repeat_merge"),
]


def panel(request: HttpRequest, complaint: Complaint) -> Panel | None:
    """What this complaint repeats, what repeats it, the duplicates merged into it (with their files),
    and the forms of the desk. Only complaints the user can see are named."""
    visible = complaints_visible_to(request.user)
    repeats = list(
        visible.filter(repeat_of=complaint).order_by("received_at", "id").only("number", "received_at", "status")
    )
    duplicates = list(
        visible.filter(duplicate_of=complaint).order_by("received_at", "id").only("number", "received_at", "status")
    )
    attachments: list[Attachment] = []
    if duplicates:
        attachments = list(
            Attachment.objects.filter(complaint__in=duplicates).select_related("complaint").order_by("uploaded_at")
        )
    repeat_of = complaint.repeat_of if complaint.repeat_of_id else None
    repeat_of_visible = repeat_of is not None and visible.filter(pk=repeat_of.pk).exists()
    may_edit = authz.allowed(request.user, "followup.link_repeats") and complaint.status != Status.ARCHIVED
    context: dict[str, Any] = {
        "repeat_of": repeat_of,
        "repeat_of_visible": repeat_of_visible,
        "repeat_reason": complaint.repeat_reason,
        "repeats": repeats,
        "duplicates": duplicates,
        "attachments": attachments,
        "link_form": RepeatLinkForm(prefix="repeat-link") if may_edit else None,
        "unlink_form": RepeatUnlinkForm(prefix="repeat-unlink") if may_edit and repeat_of is not None else None,
        "merge_form": MergeForm(prefix="merge") if may_edit and complaint.status not in services.NOT_TARGETS else None,
    }
    if not (repeat_of or repeats or duplicates or may_edit):
        return None
    return Panel(template="followup/repeats/_panel.html", context=context, order=85, column="main")
