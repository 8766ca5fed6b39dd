"""Django's error handlers for what no view answered (`handler400`, `handler500` in closeloop/urls.py)."""

from __future__ import annotations

import sys

from django.http import HttpRequest, HttpResponse
from django.views.defaults import bad_request as django_bad_request

from closeloop.core.answers import bad_request_response, is_api, outage_response, server_error_response
from closeloop.core.outage import outage_of


def server_error(request: HttpRequest) -> HttpResponse:
    """An unhandled exception — raised by a view or by a middleware (the session saved after the
    view, a cache write). Django calls this while the exception is being handled, so it is at hand:
    an outage is a 503 like any other; anything else a 500 in the caller's format."""
    outage = outage_of(sys.exc_info()[1])
    if outage is not None:
        return outage_response(request, outage)
    return server_error_response(request)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """A request Django could not even parse (a broken multipart body, a body over the size limit):
    JSON for the API, as its other errors; Django's page otherwise."""
    if is_api(request):
        return bad_request_response(request)
    return django_bad_request(request, exception)
