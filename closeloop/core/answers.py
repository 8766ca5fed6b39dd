"""The answer to a request that cannot be completed — the database is out (503), the input holds a
character no database column can store (422), or a bug (500) — in the shape its caller reads:

- the API (`/api/`): JSON, `{"detail": "…", "code": "…"}` (or the 422 list of field errors);
- the desk and the portal: the form again with what was typed and the message. A form view says how
  to show itself again with `form_again_on_failure`; otherwise the fallback page lists every field
  that was sent, editable, with a button that sends them to the same address again.

Nothing here reads the database: the fallback page is rendered without context processors, so it
renders when the database cannot.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from closeloop.core.outage import MESSAGES, RETRY_AFTER_SECONDS, Outage

log = logging.getLogger(__name__)

API_PREFIX = "/api/"
_FORM_AGAIN = "_closeloop_form_again"
# Never echoed back: the CSRF token is issued afresh, a password is typed again.
_NOT_KEPT = ("csrfmiddlewaretoken",)


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def form_again_on_failure(request: HttpRequest, render: Callable[[str], HttpResponse]) -> None:
    """Declare, once the view has checked who may use it, how this request's form is shown again with
    what was typed and a message: `render(message)`. Used when the database fails under the view."""
    setattr(request, _FORM_AGAIN, render)


def kept_fields(request: HttpRequest) -> list[tuple[str, str]]:
    """What was typed into a POSTed form, in order, NUL characters removed (they are why some
    requests are refused, and the page shows the rest)."""
    if request.method != "POST":
        return []
    return [
        (name.replace("\x00", ""), value.replace("\x00", ""))
        for name, values in request.POST.lists()
        for value in values
        if name not in _NOT_KEPT and "password" not in name.lower()
    ]


def kept_input_page(request: HttpRequest, *, title: str, message: str, status: int) -> HttpResponse:
    """The fallback page: the message, and for a POST every field sent, ready to be sent again."""
    fields = kept_fields(request)
    context: dict[str, Any] = {
        "title": title,
        "message": message,
        "fields": fields,
        "files_lost": request.method == "POST" and bool(request.FILES),
        "action": request.get_full_path(),
        "csrf_token": get_token(request) if fields else "",
    }
    return HttpResponse(render_to_string("core/kept_input.html", context), status=status)


def _form_again(request: HttpRequest, message: str) -> HttpResponse | None:
    render = getattr(request, _FORM_AGAIN, None)
    if render is None:
        return None
    try:
        response: HttpResponse = render(message)
    except DatabaseError:
        # The form itself needs the database (its choices, the desk's menus): the fallback page does not.
        log.info("the form of %s could not be shown again; answering with the fallback page", request.path)
        return None
    return response


def outage_response(request: HttpRequest, outage: Outage) -> HttpResponse:
    """503 with Retry-After: JSON for the API, the form again (or the fallback page) otherwise."""
    message = str(MESSAGES[outage])
    response: HttpResponse
    if is_api(request):
        response = JsonResponse({"detail": message, "code": outage.value}, status=503)
    else:
        response = _form_again(request, message) or kept_input_page(
            request, title=_("Not saved: please try again"), message=message, status=503
        )
        response.status_code = 503
    response["Retry-After"] = str(RETRY_AFTER_SECONDS[outage])
    return response


def server_error_response(request: HttpRequest) -> HttpResponse:
    """A bug: 500, but still in the caller's format and with what was typed."""
    if is_api(request):
        return JsonResponse(
            {"detail": _("Server error. The error has been logged."), "code": "server_error"}, status=500
        )
    return kept_input_page(
        request,
        title=_("Something went wrong"),
        message=_(
            "Something went wrong on our side and the error has been logged. If you were sending a form, "
            "what you typed is below: check whether it was saved before you send it again."
        ),
        status=500,
    )


def bad_request_response(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"detail": _("The request could not be read."), "code": "bad_request"}, status=400)
