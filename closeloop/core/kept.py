"""No dead ends after a refused form (issue 17): Post/Redirect/Get for the desk's and the portal's pages.

A browser that sends a form and gets it back refused (a 4xx page: the form again, with its errors and
what was typed) would otherwise show that page at the address it posted to — which answers only POST:
a reload asks to send the form again, a bookmark or a language switch lands on "405". So when a
browser's navigation (`Sec-Fetch-Mode: navigate`) posts a form and the answer is a refused page, the
page is kept in the session under a token and the browser is sent (303) to the page the form was on
(its Referer, same site), with `?kept=<token>`. That address reloads safely: while the token lives
(KEPT_SECONDS) a GET of it shows the kept page — errors, summary and input — and afterwards, or in
another language, the page itself (the language switch's script, closeloop/live.js, carries what was
typed across). htmx requests, the API and programs (no `Sec-Fetch-Mode: navigate`) get the refusal as
before.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language

SESSION_KEY = "_closeloop_kept_pages"
PARAM = "kept"
# How long a refused page stays at its address; and how many one person keeps at once (the newest).
KEPT_SECONDS = 3600
KEPT_MAX = 5
# Where forms are: the desk and the portal. The API, the admin (its own forms), sign-in and the language
# switch itself are left alone.
PREFIXES = ("/desk/", "/portal/", "/account/")
# A POST answered with a page (not a redirect): a form shown again — refused (4xx), or with 200 by views
# that show their form again that way.
REFUSED = frozenset({200, 400, 403, 409, 422, 429})


def _wanted(request: HttpRequest, response: HttpResponseBase) -> bool:
    return (
        request.method == "POST"
        and request.path_info.startswith(PREFIXES)
        and request.headers.get("Sec-Fetch-Mode") == "navigate"
        and not request.headers.get("HX-Request")
        and response.status_code in REFUSED
        and isinstance(response, HttpResponse)
        and not response.streaming
        and response.get("Content-Type", "").startswith("text/html")
        and hasattr(request, "session")
    )


def _page_of(request: HttpRequest) -> str:
    """The page the form was on: the Referer when it is ours, else the address posted to."""
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()}):
        parts = urlsplit(referer)
        query = "&".join(p for p in parts.query.split("&") if p and not p.startswith(f"{PARAM}="))
        return parts.path + (f"?{query}" if query else "")
    return request.path


def _address(page: str, token: str) -> str:
    return f"{page}{'&' if '?' in page else '?'}{urlencode({PARAM: token})}"


def _kept(request: HttpRequest) -> dict[str, dict[str, Any]]:
    now = time.time()
    pages: dict[str, dict[str, Any]] = request.session.get(SESSION_KEY) or {}
    return {k: v for k, v in pages.items() if now - float(v.get("at", 0)) < KEPT_SECONDS}


def keep(request: HttpRequest, response: HttpResponse) -> HttpResponseRedirect:
    """Keep the refused page and send the browser to an address that shows it again (303)."""
    token = secrets.token_urlsafe(9)
    address = _address(_page_of(request), token)
    html = response.content.decode(response.charset or "utf-8")
    # The language switch of the kept page comes back to where it is now shown, not to the POST's address.
    posted = escape(request.get_full_path())
    html = html.replace(f'name="next" value="{posted}"', f'name="next" value="{escape(address)}"')
    pages = _kept(request)
    pages[token] = {"html": html, "status": response.status_code, "language": get_language(), "at": time.time()}
    newest = sorted(pages.items(), key=lambda item: float(item[1]["at"]))[-KEPT_MAX:]
    request.session[SESSION_KEY] = dict(newest)
    redirect = HttpResponseRedirect(address)
    redirect.status_code = 303  # See Other: the browser GETs the address, whatever it posted
    return redirect


def kept_response(request: HttpRequest) -> HttpResponse | None:
    """The kept page for a GET naming its token, in the language it was drawn in; else None (the page
    itself answers)."""
    token = request.GET.get(PARAM, "")
    if request.method != "GET" or not token or not hasattr(request, "session"):
        return None
    page = _kept(request).get(token)
    if page is None or page.get("language") != get_language():
        return None
    response = HttpResponse(str(page["html"]), status=int(str(page["status"])))
    response["Cache-Control"] = "no-store"
    return response


class RefusedFormMiddleware:
    """After the session, locale and authentication middleware: a browser's refused form becomes a
    redirect to an address that reloads safely (this module's docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        shown = kept_response(request)
        if shown is not None:
            return shown
        response = self.get_response(request)
        if _wanted(request, response):
            assert isinstance(response, HttpResponse)
            return keep(request, response)
        return response
