"""The desk's login: password, then — for a user with an authenticator — a code. The session is
logged in only after both; in between it holds who passed the password, for a few minutes."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import load_backend
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render, resolve_url
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice

from closeloop.accounts.events import security_event_record
from closeloop.accounts.forms import CodeForm
from closeloop.accounts.lockout import is_locked_out
from closeloop.accounts.models import SecurityEventKind
from closeloop.accounts.twofactor import (
    SECOND_FACTOR_OWED,
    has_device,
    recovery_codes_left,
    second_factor_passed,
    verify_code,
)
from closeloop.core.types import User

PENDING = "accounts_pending_login"
# Time between the password step and the code step.
PENDING_SECONDS = 5 * 60


def locked_out(
    request: HttpRequest, response: HttpResponse | None = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    """axes' lockout answer (AXES_LOCKOUT_CALLABLE): the login page saying why, with 429."""
    request.session.pop(PENDING, None)
    message = _(
        "Too many failed attempts: logging in to this account, or from this address, is blocked for "
        "%(minutes)d minutes. Wait, reset your password, or ask an administrator to unlock it."
    ) % {"minutes": settings.LOGIN_LOCKOUT_MINUTES}
    context = {"form": AuthenticationForm(request), "locked_out": message}
    return render(request, "registration/login.html", context, status=429)


class LoginView(auth_views.LoginView):
    """Django's login (axes counts its failures); a user with a device goes on to the code step."""

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        user = form.get_user()
        if has_device(user):
            self.request.session[PENDING] = {
                "user": user.pk,
                "backend": user.backend,  # type: ignore[attr-defined]  # set by authenticate()
                "at": timezone.now().timestamp(),
                "next": self.get_success_url(),
            }
            return redirect("accounts:login_code")
        return super().form_valid(form)


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _pending_login(request: HttpRequest) -> tuple[User, str, str] | None:
    pending = request.session.get(PENDING)
    if not pending or timezone.now().timestamp() - pending["at"] > PENDING_SECONDS:
        request.session.pop(PENDING, None)
        return None
    # get_user() refuses an account deactivated since the password step.
    user = load_backend(pending["backend"]).get_user(pending["user"])
    if user is None:
        return None
    return user, pending["backend"], pending["next"]


@sensitive_post_parameters("code")
@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def login_code(request: HttpRequest) -> HttpResponseBase:
    """The second step: after the password, or for a logged-in session that still owes it."""
    backend = None
    if request.user.is_authenticated:
        user: User = request.user
        next_url = _safe_next(request, request.GET.get("next") or request.POST.get("next"))
        if second_factor_passed(request):
            return redirect(next_url)
    else:
        pending = _pending_login(request)
        if pending is None:
            messages.info(request, _("Please log in again."))
            return redirect("login")
        user, backend, next_url = pending
    credentials = {"username": user.get_username()}
    if is_locked_out(request, user.get_username()):
        return locked_out(request)
    form = CodeForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        device = verify_code(user=user, code=form.cleaned_data["code"])
        if device is not None:
            return _complete(request, user=user, backend=backend, device=device, next_url=next_url)
        # A wrong code counts as a failed login: axes locks the account after the limit.
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        form.add_error("code", _("That code is not right. Enter the code the app shows now."))
    return render(request, "registration/login_code.html", {"form": form, "next": next_url}, status=200)


def _complete(request: HttpRequest, *, user: User, backend: str | None, device: Any, next_url: str) -> HttpResponse:
    request.session.pop(PENDING, None)
    if not request.user.is_authenticated:
        user.otp_device = device  # type: ignore[attr-defined]  # tells the login receivers it was used
        auth_login(request, user, backend=backend)
    otp_login(request, device)
    request.session.pop(SECOND_FACTOR_OWED, None)
    if isinstance(device, StaticDevice):
        left = recovery_codes_left(user)
        security_event_record(kind=SecurityEventKind.RECOVERY_CODE_USED, user=user, actor=user, left=left)
        messages.warning(
            request,
            _("You logged in with a recovery code; %(count)d are left. Create new ones on your account page.")
            % {"count": left},
        )
    return redirect(next_url)
