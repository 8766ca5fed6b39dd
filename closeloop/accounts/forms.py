from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import forms as auth_forms
from django.utils.translation import gettext_lazy as _

from closeloop.core.models import Scope
from closeloop.core.services import MAX_EXPIRY_DAYS


class CodeForm(forms.Form):
    """The login's second step: a code from the authenticator app, or a recovery code."""

    code = forms.CharField(
        label=_("Code"),
        max_length=20,
        help_text=_("The 6-digit code from your authenticator app, or one of your recovery codes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True, "autocapitalize": "off"}),
    )


class EnrolForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the app"),
        max_length=10,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9 ]*", "autofocus": True}
        ),
    )


class PasswordConfirmForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class TokenCreateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80, help_text=_("What will use it, e.g. a script or a system."))
    expires_days = forms.IntegerField(
        label=_("Expires after (days)"),
        required=False,
        min_value=1,
        max_value=MAX_EXPIRY_DAYS,
        help_text=_("Leave empty for a token that does not expire."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("May be used for"),
        choices=Scope.choices,
        initial=[Scope.READ, Scope.INTAKE, Scope.WRITE],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("None ticked: all. Your roles still decide what the token may do; a scope only narrows it."),
    )


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's reset form; the e-mail leaves through the worker, so the answer takes as long for an
    address with an account as for one without (nothing to learn from the timing either)."""

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        from django.template import loader

        from closeloop.accounts.tasks import password_reset_email_send

        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        password_reset_email_send(subject=subject, body=body, to=to_email)
