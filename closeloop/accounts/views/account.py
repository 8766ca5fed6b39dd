"""The desk's "My account" page: password, two-factor, sessions and the user's own API tokens."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from closeloop.accounts import selectors, services
from closeloop.accounts.forms import EnrolForm, PasswordConfirmForm, TokenCreateForm
from closeloop.accounts.models import SessionEnd
from closeloop.accounts.twofactor import (
    SECOND_FACTOR_OWED,
    format_recovery_code,
    has_device,
    qr_svg,
    secret_text,
    two_factor_required,
)
from closeloop.accounts.useragent import user_agent_label
from closeloop.accounts.views.login import _safe_next
from closeloop.core.errors import DomainError
from closeloop.core.types import AuthenticatedHttpRequest


def _page(request: HttpRequest, *, status: int = 200, **extra: Any) -> HttpResponse:
    user = request.user
    current_key = request.session.session_key
    sessions = [
        {"row": row, "label": user_agent_label(row.user_agent), "current": row.session_key == current_key}
        for row in selectors.sessions_open(user=user)  # type: ignore[arg-type]  # signed in (login_required)
    ]
    context: dict[str, Any] = {
        "two_factor": selectors.two_factor_status(user=user),  # type: ignore[arg-type]  # signed in (login_required)
        "sessions": sessions,
        "others": sum(1 for s in sessions if not s["current"]),
        "tokens": selectors.tokens_of(user=user),  # type: ignore[arg-type]  # signed in (login_required)
        "events": selectors.security_events_recent(user=user),  # type: ignore[arg-type]  # signed in (login_required)
        "token_form": TokenCreateForm(),
        "disable_form": PasswordConfirmForm(),
        "now": timezone.now(),
    }
    context.update(extra)
    return render(request, "accounts/account.html", context, status=status)


@never_cache
@login_required
def account(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _page(request)


@login_required
@require_POST
def session_end(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    if selectors.sessions_open(user=request.user).filter(pk=session_id, session_key=request.session.session_key):
        logout(request)  # ending this very session is logging out
        return redirect("login")
    try:
        services.session_end(user=request.user, session_id=session_id, actor=request.user)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The session has ended."))
    return redirect("accounts:account")


@login_required
@require_POST
def sessions_end_others(request: AuthenticatedHttpRequest) -> HttpResponse:
    count = services.sessions_end_all(
        user=request.user,
        actor=request.user,
        reason=SessionEnd.BY_USER,
        keep_session_key=request.session.session_key,
    )
    messages.success(request, _("%(count)d other session(s) ended.") % {"count": count})
    return redirect("accounts:account")


@never_cache
@login_required
@require_POST
def token_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = TokenCreateForm(request.POST)
    if form.is_valid():
        try:
            token, raw_key = services.own_token_create(
                user=request.user,
                name=form.cleaned_data["name"],
                expires_days=form.cleaned_data["expires_days"],
                scopes=form.cleaned_data["scopes"] or None,
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        else:
            # Rendered, not redirected: the key exists only in this answer.
            return _page(request, new_token=token, new_key=raw_key)
    return _page(request, token_form=form, status=400)


@login_required
@require_POST
def token_revoke(request: AuthenticatedHttpRequest, token_id: int) -> HttpResponse:
    try:
        token = services.own_token_revoke(user=request.user, token_id=token_id)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("accounts:account")


@method_decorator(never_cache, name="dispatch")
class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's view (its form checks the old password and the policy); ending the other sessions
    and revoking the tokens happens wherever a password changes (accounts.receivers)."""

    form_class = PasswordChangeForm
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:account")

    def form_valid(self, form: PasswordChangeForm) -> HttpResponse:
        response = super().form_valid(form)
        messages.success(
            self.request,
            _("Your password has been changed. Your other sessions have ended and your API tokens were revoked."),
        )
        return response


@sensitive_post_parameters("code")
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def twofactor_enrol(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Set up an authenticator app: scan the QR code (or type the key), confirm with a code."""
    user = request.user
    next_url = _safe_next(request, request.GET.get("next") or request.POST.get("next") or reverse("accounts:account"))
    if not user.is_verified() and has_device(user):  # type: ignore[attr-defined]  # added by django-otp's middleware
        # Adding a device is only for a session that already passed the existing one.
        return redirect(f"{reverse('accounts:login_code')}?{urlencode({'next': request.get_full_path()})}")
    device = services.twofactor_enrolment_start(user=user)
    form = EnrolForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            device, codes = services.twofactor_enrolment_confirm(
                user=user,
                device_id=device.pk,
                code=form.cleaned_data["code"],
                keep_session_key=request.session.session_key,
            )
        except DomainError as exc:
            form.add_error("code", str(exc.message))
        else:
            otp_login(request, device)
            request.session.pop(SECOND_FACTOR_OWED, None)
            return _recovery_codes_page(request, codes, next_url=next_url, enrolled=True)
    context = {
        "form": form,
        "qr_svg": qr_svg(device),
        "secret": secret_text(device),
        "required": two_factor_required(user),
        "next": next_url,
    }
    return render(request, "accounts/enrol.html", context, status=400 if form.is_bound else 200)


def _recovery_codes_page(request: HttpRequest, codes: list[str], *, next_url: str, enrolled: bool) -> HttpResponse:
    context = {"codes": [format_recovery_code(c) for c in codes], "next": next_url, "enrolled": enrolled}
    return render(request, "accounts/recovery_codes.html", context)


@never_cache
@login_required
@require_POST
def recovery_codes_issue(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not request.user.is_verified():  # type: ignore[attr-defined]  # added by django-otp's middleware
        return redirect("accounts:account")
    try:
        codes = services.recovery_codes_issue(user=request.user)
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("accounts:account")
    return _recovery_codes_page(request, codes, next_url=reverse("accounts:account"), enrolled=False)


@sensitive_post_parameters("password")
@login_required
@require_POST
def twofactor_disable(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = PasswordConfirmForm(request.POST)
    if form.is_valid():
        try:
            services.twofactor_disable(user=request.user, password=form.cleaned_data["password"])
        except DomainError as exc:
            form.add_error("password", str(exc.message))
        else:
            messages.success(request, _("Two-factor authentication is off."))
            return redirect("accounts:account")
    return _page(request, disable_form=form, status=400)
