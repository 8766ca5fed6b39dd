"""Forgotten password: Django's reset views, throttled per client address and per typed e-mail
address, the same answer whether or not an account has that address."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import SetPasswordForm
from django.http import HttpResponse
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from closeloop.accounts.events import security_event_record
from closeloop.accounts.forms import PasswordResetForm
from closeloop.accounts.lockout import password_reset_throttled, unlock
from closeloop.accounts.models import SecurityEventKind
from closeloop.core.links import absolute_url


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PasswordResetForm
    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    @property
    def extra_email_context(self) -> dict[str, str]:
        # The link starts with SITE_URL, never the request's Host header, which a requester could forge
        # to receive someone else's reset link on a host of their own (core/links.py).
        return {"reset_url_base": absolute_url("/").rstrip("/")}

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        email = form.cleaned_data["email"]
        if password_reset_throttled(self.request, email):
            form.add_error(
                None,
                _("Too many reset requests. Try again in %(minutes)d minutes.")
                % {"minutes": settings.LOGIN_LOCKOUT_MINUTES},
            )
            return self.render_to_response(self.get_context_data(form=form), status=429)
        for user in form.get_users(email):
            security_event_record(kind=SecurityEventKind.PASSWORD_RESET_REQUESTED, user=user)
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "registration/password_reset_done.html"


@method_decorator(never_cache, name="dispatch")
class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form: SetPasswordForm) -> HttpResponse:
        response = super().form_valid(form)
        # The link proved the mailbox: the account's failed logins are forgiven (not the address's).
        unlock(username=form.user.get_username())
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "registration/password_reset_complete.html"
