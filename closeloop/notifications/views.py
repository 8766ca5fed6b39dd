"""The notification centre: the inbox (each notice a link to its thing, read or unread, done or still
asked for), opening one (marks it read), marking read, the badge the navigation polls, and the
person's channel."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from closeloop.core.errors import DomainError
from closeloop.core.types import AuthenticatedHttpRequest
from closeloop.notifications.channels import staff_channel_of, staff_channel_set
from closeloop.notifications.forms import StaffChannelForm
from closeloop.notifications.models import Method, Notification
from closeloop.notifications.selectors import notifications_for, unread_count
from closeloop.notifications.services import notification_mark_read


@login_required
@require_GET
def inbox(request: AuthenticatedHttpRequest) -> HttpResponse:
    queryset = notifications_for(user=request.user)
    if request.GET.get("show") == "unread":
        queryset = queryset.filter(read_at__isnull=True, done_at__isnull=True)
    page = Paginator(queryset, 50).get_page(request.GET.get("page"))
    context = {"page": page, "show": request.GET.get("show", ""), "unread": unread_count(user=request.user)}
    return render(request, "notifications/inbox.html", context)


@login_required
@require_GET
def open_one(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Follow a notice to its thing, marking it read: the link every notice is."""
    row = (
        Notification.objects.select_related("complaint")
        .filter(pk=pk, recipient=request.user, method=Method.IN_APP)
        .first()
    )
    if row is None:
        raise Http404(_("No such notification."))
    notification_mark_read(user=request.user, ids=[row.pk])
    return redirect(row.target or reverse("notifications:inbox"))


def _back(request: AuthenticatedHttpRequest) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("notifications:inbox")


@login_required
@require_POST
def mark_read(request: AuthenticatedHttpRequest) -> HttpResponse:
    """One (`id`), several, or all (no `id`) of the person's notices read."""
    ids = [int(i) for i in request.POST.getlist("id") if i.isdigit()] or None
    marked = notification_mark_read(user=request.user, ids=ids)
    if request.htmx:
        return badge(request)
    if ids is None:
        messages.success(request, _("%(count)d notifications marked read.") % {"count": marked})
    return _back(request)


@login_required
@require_GET
def badge(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The navigation's count of unread notices, polled by htmx (notifications/_badge.html): one indexed
    count per poll (docs/decisions.md, issue 17, has its cost)."""
    context = {"unread_notifications": unread_count(user=request.user), "poll_seconds": settings.LIVE_POLL_SECONDS}
    return render(request, "notifications/_badge.html", context)


@login_required
@require_POST
def channel_set(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The form on "My account" (notifications/_channel_form.html); back there with what happened."""
    _own, role_channel = staff_channel_of(request.user)
    form = StaffChannelForm(request.POST, role_channel=role_channel)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for e in form.errors.get("channel", [])))
    else:
        try:
            staff_channel_set(user=request.user, channel=form.cleaned_data["channel"], actor=request.user)
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("Your notification channel is saved."))
    return redirect(reverse("accounts:account") + "#notifications")
