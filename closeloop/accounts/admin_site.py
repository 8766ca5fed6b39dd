"""The admin site: the desk's login page (one password form, one lockout, one second factor) and a
verified session (password and second factor) for every page."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _


class AdminSite(admin.AdminSite):
    site_header = _("CloseLoop administration")
    site_title = _("CloseLoop administration")
    index_title = _("Settings and records")

    def has_permission(self, request: HttpRequest) -> bool:
        # Not at import: the app registry loads this module before django-otp's models.
        from closeloop.accounts.twofactor import second_factor_passed

        return super().has_permission(request) and second_factor_passed(request)

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        from django.contrib.auth.views import redirect_to_login  # not at import: the app registry loads this

        target = request.GET.get(REDIRECT_FIELD_NAME, "")
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            target = reverse("admin:index", current_app=self.name)
        return redirect_to_login(target, resolve_url("login"))


class AccountsAdminConfig(AdminConfig):
    """Django's admin with the site above."""

    default_site = "closeloop.accounts.admin_site.AdminSite"
