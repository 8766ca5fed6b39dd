"""Who acts: the types every service, selector and view names its actor with.

`User` is the account model (Django's own; AUTH_USER_MODEL is not changed), so a function typed with it
may use `groups`, `has_perm`, `get_full_name`… without a cast. `AnyUser` is what `request.user` can be:
a signed-in account or the anonymous visitor. A view behind `login_required` (or a check that does the
same) takes an `AuthenticatedHttpRequest`, whose `user` is a `User`.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

__all__ = ["AnyUser", "AuthenticatedHttpRequest", "User"]

AnyUser = User | AnonymousUser


class AuthenticatedHttpRequest(HttpRequest):
    """Only a type: the request a signed-in person's view receives (never instantiated), with the
    `htmx` details django-htmx's middleware adds to every request."""

    user: User
    htmx: HtmxDetails
