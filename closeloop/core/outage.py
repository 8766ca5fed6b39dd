"""A database that cannot serve a request: recognised here, and nowhere else.

Three kinds, each with the Retry-After a client is given:
- locked: another writer held the database longer than the busy timeout (SQLite "database is
  locked"; PostgreSQL lock_not_available or a deadlock victim). Seconds.
- read_only: writes are refused (SQLite file or connection read-only, a PostgreSQL standby or
  default_transaction_read_only during maintenance). Minutes.
- unavailable: no connection (refused, lost, server starting or shutting down, too many clients;
  SQLite file missing or the disk failing). Half a minute.
Anything else — an IntegrityError, a syntax error — is a bug and stays a 500.

`core/middleware.py` turns an outage into the answer; `core/views.py` does the same for one raised
outside a view (a middleware writing the session).
"""

from __future__ import annotations

from enum import StrEnum

from django.db import DatabaseError, InterfaceError, InternalError, OperationalError
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class Outage(StrEnum):
    LOCKED = "database_locked"
    READ_ONLY = "database_read_only"
    UNAVAILABLE = "database_unavailable"


RETRY_AFTER_SECONDS = {Outage.LOCKED: 5, Outage.READ_ONLY: 120, Outage.UNAVAILABLE: 30}

MESSAGES: dict[Outage, Promise] = {
    Outage.LOCKED: _("The database is busy. Nothing was saved; please send it again in a few seconds."),
    Outage.READ_ONLY: _(
        "The system is in maintenance and cannot save anything at the moment. Nothing was saved; "
        "please send it again in a few minutes."
    ),
    Outage.UNAVAILABLE: _(
        "The database is not available at the moment. Nothing was saved; please send it again in a minute."
    ),
}


class OutageError(DatabaseError):
    """Raised by our own code when a write it depends on silently did not happen (the database cache
    drops writes it cannot make instead of raising)."""

    def __init__(self, outage: Outage, message: str) -> None:
        super().__init__(message)
        self.outage = outage


# SQLSTATEs (PostgreSQL, via psycopg's `sqlstate`): class 08 is "connection exception".
_SQLSTATES = {
    "25006": Outage.READ_ONLY,  # read_only_sql_transaction
    "55P03": Outage.LOCKED,  # lock_not_available (lock_timeout)
    "40P01": Outage.LOCKED,  # deadlock_detected: the victim may simply try again
    "53300": Outage.UNAVAILABLE,  # too_many_connections
    "57P01": Outage.UNAVAILABLE,  # admin_shutdown
    "57P02": Outage.UNAVAILABLE,  # crash_shutdown
    "57P03": Outage.UNAVAILABLE,  # cannot_connect_now (starting up, recovering)
}
# Messages without a SQLSTATE: SQLite's, and the client library's when there is no connection at all.
_MESSAGES = (
    ("database is locked", Outage.LOCKED),
    ("database table is locked", Outage.LOCKED),
    ("readonly database", Outage.READ_ONLY),
    ("read-only transaction", Outage.READ_ONLY),
    ("unable to open database file", Outage.UNAVAILABLE),
    ("disk i/o error", Outage.UNAVAILABLE),
    ("database or disk is full", Outage.UNAVAILABLE),
    ("connection refused", Outage.UNAVAILABLE),
    ("could not connect", Outage.UNAVAILABLE),
    ("connection failed", Outage.UNAVAILABLE),
    ("server closed the connection", Outage.UNAVAILABLE),
    ("connection already closed", Outage.UNAVAILABLE),
    ("the connection is closed", Outage.UNAVAILABLE),
    ("terminating connection", Outage.UNAVAILABLE),
    ("no route to host", Outage.UNAVAILABLE),
    ("timeout expired", Outage.UNAVAILABLE),
)
# Only these (and the driver errors they wrap) can be an outage; IntegrityError, DataError and
# ProgrammingError are about the statement, not the database.
_OUTAGE_TYPES = (OperationalError, InterfaceError, InternalError, OutageError)


def _one(exc: BaseException) -> Outage | None:
    if isinstance(exc, OutageError):
        return exc.outage
    sqlstate = getattr(exc, "sqlstate", None)
    if sqlstate:
        if sqlstate in _SQLSTATES:
            return _SQLSTATES[sqlstate]
        if sqlstate.startswith("08"):
            return Outage.UNAVAILABLE
    message = str(exc).lower()
    for fragment, outage in _MESSAGES:
        if fragment in message:
            return outage
    return None


def outage_of(exc: BaseException | None) -> Outage | None:
    """The kind of outage `exc` reports, or None when it is not one. Django wraps the driver's error
    (its __cause__), which carries the SQLSTATE; both are looked at."""
    if exc is None or not isinstance(exc, _OUTAGE_TYPES):
        return None
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        outage = _one(current)
        if outage is not None:
            return outage
        current = current.__cause__ or current.__context__
    return None
