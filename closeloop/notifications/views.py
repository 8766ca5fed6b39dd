from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from closeloop.notifications.selectors import notifications_for
from closeloop.notifications.services import notification_mark_read


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    page = Paginator(notifications_for(user=request.user), 50).get_page(request.GET.get("page"))
    return render(request, "notifications/inbox.html", {"page": page})


@login_required
@require_POST
def mark_read(request: HttpRequest) -> HttpResponse:
    ids = [int(i) for i in request.POST.getlist("id") if i.isdigit()] or None
    notification_mark_read(user=request.user, ids=ids)
    return redirect("notifications:inbox")
