from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from closeloop.sso.oidc import end_session_url


class LogoutView(auth_views.LogoutView):
    """Django's logout; after an OpenID Connect sign-in it also ends the session at the provider,
    which then sends the browser back to the login page."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        at_provider = end_session_url(request)  # read before logout empties the session
        response = super().post(request, *args, **kwargs)
        return HttpResponseRedirect(at_provider) if at_provider else response
