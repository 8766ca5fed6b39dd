"""Riding out a database outage (PostgreSQL restarting, a fail-over) without answering 500."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse

log = logging.getLogger(__name__)


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
    """A view that meets a lost database connection waits for the database to come back and runs once
    more. Safe because every action is one transaction: the failed attempt committed nothing (the view's
    atomic blocks have rolled back by the time the exception reaches this hook)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OperationalError | InterfaceError) or getattr(request, "_db_retried", False):
            return None
        if connection.vendor != "postgresql" or connection.in_atomic_block:
            return None
        if connection.connection is not None and connection.is_usable():
            return None  # the connection is fine: a real error, not an outage
        request._db_retried = True  # type: ignore[attr-defined]
        log.warning("database connection lost during %s %s; waiting to retry", request.method, request.path)
        if not _wait_for_database(settings.DB_OUTAGE_WAIT_SECONDS):
            return None
        match = request.resolver_match
        if match is None:
            return None
        return match.func(request, *match.args, **match.kwargs)
