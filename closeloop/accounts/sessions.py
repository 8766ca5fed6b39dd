"""The session engine (SESSION_ENGINE): Django's database sessions, with the session's row read by a
statement built once per process (core/prepared.py): every request of the desk reads it, and building
the look-up through the ORM each time cost more than SQLite's answer (issue 20). Writing, keys and
expiry are Django's."""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends import db
from django.utils import timezone

from closeloop.core.prepared import Param, Prepared, db_datetime


def _session_row() -> Any:
    from django.contrib.sessions.models import Session

    return Session.objects.filter(session_key=Param("key"), expire_date__gt=Param("now"))[:1]


_SESSION = Prepared(_session_row)


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> Any:
        session = _SESSION.first(key=self.session_key, now=db_datetime(timezone.now()))
        if session is None:
            self._session_key = None
        return session
