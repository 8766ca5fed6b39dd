"""Response headers for pages that carry personal data.

The rule: every response a view makes is `Cache-Control: no-store` unless the view chose its own
caching. Desk pages, API answers, portal status pages and downloads all may show a customer's name,
phone or complaint; a shared browser, a proxy or a "back" after logging out must not keep them.
Static files never reach this middleware (WhiteNoise answers them above it, with long caching).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase


class NoStoreMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store"
        return response
