"""Requests the database cannot serve, answered clearly instead of with a bare 500:

- DatabaseOutageMiddleware: a database that is locked, read-only or unreachable (`core/outage.py`
  says which) answers 503 with Retry-After; a lost PostgreSQL connection is first waited for and
  the view run once more.
- NulCharacterMiddleware: a NUL character (U+0000) in the path, the query string or the body is
  refused with a 422 before any view runs. PostgreSQL cannot store it in a text column or compare it
  in a query (psycopg raises), SQLite stores it and truncates what reads it, and no person types it.
The answers themselves (JSON for the API, the form again with what was typed) are `core/answers.py`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from closeloop.core.answers import is_api, kept_input_page, outage_response
from closeloop.core.outage import outage_of

log = logging.getLogger(__name__)

NUL = "\x00"


def _wait_for_database(timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        connection.close()
        try:
            connection.ensure_connection()
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            return True
        except DatabaseError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.25)


class DatabaseOutageMiddleware:
    """A view that meets a lost PostgreSQL connection waits for the database to come back and runs
    once more: safe because every action is one transaction, and the failed attempt committed nothing
    (the view's atomic blocks have rolled back by the time the exception reaches this hook). Any other
    outage, or one that outlasts DB_OUTAGE_WAIT_SECONDS, is answered with a 503."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        outage = outage_of(exception)
        if outage is None:
            return None
        if self._connection_lost(request, exception):
            request._db_retried = True  # type: ignore[attr-defined]  # a per-request attribute of our own
            log.warning("database connection lost during %s %s; waiting to retry", request.method, request.path)
            match = request.resolver_match
            if match is not None and _wait_for_database(settings.DB_OUTAGE_WAIT_SECONDS):
                try:
                    response: HttpResponse = match.func(request, *match.args, **match.kwargs)
                    return response
                except DatabaseError as again:
                    outage = outage_of(again)
                    if outage is None:
                        raise
        log.warning("%s during %s %s: answered 503", outage, request.method, request.path)
        return outage_response(request, outage)

    @staticmethod
    def _connection_lost(request: HttpRequest, exception: Exception) -> bool:
        if not isinstance(exception, OperationalError | InterfaceError) or getattr(request, "_db_retried", False):
            return False
        if connection.vendor != "postgresql" or connection.in_atomic_block:
            return False
        # A usable connection means a real error, not an outage.
        return connection.connection is None or not connection.is_usable()


def _nul_in_json(value: Any, loc: list[str | int]) -> Iterator[list[str | int]]:
    if isinstance(value, str):
        if NUL in value:
            yield loc
    elif isinstance(value, dict):
        for key, item in value.items():
            if NUL in str(key):
                yield [*loc, str(key).replace(NUL, "")]
            yield from _nul_in_json(item, [*loc, key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nul_in_json(item, [*loc, index])


def nul_locations(request: HttpRequest) -> list[list[str | int]]:
    """Where the request carries a NUL character, as API error locations (["query", "q"], ["body",
    "description"], ["path"]). Files are not looked at: binary content is theirs to have."""
    found: list[list[str | int]] = []
    if NUL in request.path_info:
        found.append(["path"])
    for name, values in request.GET.lists():
        if NUL in name or any(NUL in v for v in values):
            found.append(["query", name.replace(NUL, "")])
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        content_type = request.content_type or ""
        if content_type == "application/json":
            try:
                body = json.loads(request.body or b"null")
            except ValueError:
                body = None  # not JSON: the endpoint answers 400 as it always did
            found.extend(_nul_in_json(body, ["body"]))
        elif request.method == "POST" and content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            for name, values in request.POST.lists():
                if NUL in name or any(NUL in v for v in values):
                    found.append(["body", name.replace(NUL, "")])
    return found


class NulCharacterMiddleware:
    """Refuses, with a 422, any request with a NUL character where text goes (see the module's
    docstring). Placed after the authentication and CSRF middleware, so that the refusal page has a
    user, a language and a CSRF cookie."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        locations = nul_locations(request)
        if not locations:
            return self.get_response(request)
        log.info("request refused: NUL character in %s of %s %s", locations, request.method, request.path)
        message = _("The text contains a NUL character (U+0000), an invisible control character that cannot be stored.")
        if is_api(request):
            detail = [{"loc": loc, "msg": message, "type": "null_character"} for loc in locations]
            return JsonResponse({"detail": detail}, status=422)
        if request.method == "POST":
            removed = _("It has been removed from what you typed below: check it and send it again.")
            message = f"{message} {removed}"
        return kept_input_page(request, title=_("Not accepted"), message=message, status=422)
