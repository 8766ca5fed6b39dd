"""Session lifetime (idle and absolute limits, activity) and the two-factor gate.

Both read only the session and the user's cached roles on an ordinary request: no query, except
the one-a-minute activity write and the redirect of a session that still owes a second factor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from closeloop.accounts import services
from closeloop.accounts.current import CurrentSession, current_session
from closeloop.accounts.models import SessionEnd
from closeloop.accounts.twofactor import has_device, second_factor_passed, session_needs_second_factor

# The REST API answers 401 instead of redirecting; bearer tokens never have a session.
API_PATH_PREFIX = "/api/"

# What a session that still owes its second factor may open: the steps to provide it, logging out,
# the language switch, and the public portal.
OPEN_VIEWS = frozenset(
    {
        "login",
        "logout",
        "set_language",
        "accounts:login_code",
        "accounts:twofactor_enrol",
        "accounts:password_reset",
        "accounts:password_reset_done",
        "accounts:password_reset_confirm",
        "accounts:password_reset_complete",
    }
)
OPEN_APPS = frozenset({"portal"})


def is_api_request(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PATH_PREFIX)


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    """A full-page redirect, also from inside an htmx request (which would otherwise swap the
    login page into a fragment of the page)."""
    if getattr(request, "htmx", False):
        return HttpResponse(status=204, headers={"HX-Redirect": url})
    return redirect(url)


class SessionLifetimeMiddleware:
    """Ends a session SESSION_IDLE_MINUTES after its last request or SESSION_MAX_HOURS after its
    login, notes activity at most once a minute, keeps the session's row on Django's key rotations,
    and tells the services which session is the current one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key_before = request.session.session_key
        ended = self._end_if_over(request)
        if ended is not None:
            return ended
        user = request.user
        marker = None
        if user.is_authenticated and key_before:
            marker = current_session.set(CurrentSession(user=user, user_id=user.pk, session_key=key_before))
        try:
            response = self.get_response(request)
        finally:
            if marker is not None:
                current_session.reset(marker)
        key_after = request.session.session_key
        if key_before and key_after and key_before != key_after:
            services.session_key_rotated(old_key=key_before, new_key=key_after)
        return response

    def _end_if_over(self, request: HttpRequest) -> HttpResponse | None:
        if not request.user.is_authenticated:
            return None
        now = timezone.now()
        stamps = request.session.get(services.SESSION_STAMPS)
        reason = None
        if not stamps:
            reason = SessionEnd.EXPIRED  # a session from before these limits existed
        elif now.timestamp() - stamps[1] > settings.SESSION_IDLE_MINUTES * 60:
            reason = SessionEnd.IDLE
        elif now.timestamp() - stamps[0] > settings.SESSION_MAX_HOURS * 3600:
            reason = SessionEnd.EXPIRED
        if reason is None:
            # reason is None only when the stamps were read
            if now.timestamp() - stamps[1] >= services.ACTIVITY_RESOLUTION.total_seconds():  # type: ignore[index]
                services.session_touch(request=request, now=now)
            return None
        services.session_closed(session_key=request.session.session_key or "", reason=reason)
        logout(request)
        if is_api_request(request):
            return None  # carries on unauthenticated: 401
        if reason == SessionEnd.IDLE:
            text = _("You were logged out after %(minutes)d minutes without activity. Please log in again.") % {
                "minutes": settings.SESSION_IDLE_MINUTES
            }
        else:
            text = _("Your session reached its maximum length of %(hours)d hours. Please log in again.") % {
                "hours": settings.SESSION_MAX_HOURS
            }
        messages.info(request, text)
        return _redirect(request, redirect_to_login(request.get_full_path()).url)


class TwoFactorMiddleware:
    """A session that owes its second factor (required role, a device the login did not use, or the
    admin) may open only the views that let it provide one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        if is_api_request(request) or not request.user.is_authenticated:
            return None
        match = request.resolver_match
        if match is not None and (match.view_name in OPEN_VIEWS or match.app_name in OPEN_APPS):
            return None
        for_admin = match is not None and match.app_name == "admin" and not second_factor_passed(request)
        if not (for_admin or session_needs_second_factor(request)):
            return None
        step = "accounts:login_code" if has_device(request.user) else "accounts:twofactor_enrol"
        return _redirect(request, f"{reverse(step)}?{urlencode({'next': request.get_full_path()})}")
