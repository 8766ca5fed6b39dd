from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from closeloop.core.errors import DomainError
from closeloop.core.types import AuthenticatedHttpRequest
from closeloop.notifications.channels import staff_channel_of, staff_channel_set
from closeloop.notifications.forms import StaffChannelForm
from closeloop.notifications.selectors import notifications_for
from closeloop.notifications.services import notification_mark_read


@login_required
@require_GET
def inbox(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = Paginator(notifications_for(user=request.user), 50).get_page(request.GET.get("page"))
    return render(request, "notifications/inbox.html", {"page": page})


@login_required
@require_POST
def mark_read(request: AuthenticatedHttpRequest) -> HttpResponse:
    ids = [int(i) for i in request.POST.getlist("id") if i.isdigit()] or None
    notification_mark_read(user=request.user, ids=ids)
    return redirect("notifications:inbox")


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
