"""Writing events. Every service that changes a complaint or its records calls `event_record`
inside its own transaction, so the change and its event commit or roll back together."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.db import connection, models
from django.utils import timezone
from django.utils.translation import gettext

from closeloop.complaints.lifecycle import Status
from closeloop.complaints.models import Complaint, Event
from closeloop.core.errors import TransitionNotAllowed
from closeloop.core.types import User

# Domain rule 7: an archived complaint is read-only. Every write in CloseLoop records an event in
# its own transaction, so refusing the event here refuses every write path (UI, API, admin, jobs)
# and rolls back whatever the caller changed before. Only archiving itself and the retention job's
# anonymisation may still write.
WRITABLE_WHEN_ARCHIVED = frozenset({"archive", "anonymised"})


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def complaint_check_writable(complaint: Complaint, action: str = "") -> None:
    """Refuse any change to an archived complaint. The instance may be stale (a task's complaint read
    before the caller's lock), so the stored state decides."""
    if action in WRITABLE_WHEN_ARCHIVED:
        return
    archived = Status.ARCHIVED
    if complaint.status == archived or Complaint.objects.filter(pk=complaint.pk, status=archived).exists():
        raise TransitionNotAllowed(gettext("Archived complaints are read-only."), reason="archived")


def event_record(
    *,
    complaint: Complaint,
    action: str,
    actor: User | None,
    via: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str = "",
    at: datetime.datetime | None = None,
    created: bool = False,
) -> Event:
    """Append one event. `created`: the complaint was inserted in this very transaction (intake), so it
    cannot be archived and the stored state need not be read."""
    if not created:
        complaint_check_writable(complaint, action)
    return Event.objects.create(
        complaint=complaint,
        at=at or timezone.now(),
        action=action,
        actor=actor if actor is not None and actor.is_authenticated else None,
        via=via,
        before=_jsonable(before or {}),
        after=_jsonable(after or {}),
        note=note,
    )


# A row for `events_insert_many`: complaint_id, at, action, via, after, and optionally actor_id, before, note.
EventRow = dict[str, Any]


def event_row(
    *,
    complaint: Complaint,
    action: str,
    actor: User | None,
    via: str,
    at: datetime.datetime,
    after: dict[str, Any],
    note: str = "",
) -> EventRow:
    """One event as `event_record` would write it, as a row for `events_insert_many`."""
    return {
        "complaint_id": complaint.pk,
        "at": at,
        "action": action,
        "actor_id": actor.pk if actor is not None and actor.is_authenticated else None,
        "via": via,
        "after": after,
        "note": note,
    }


def events_insert_many(rows: list[EventRow]) -> None:
    """Append many events in one round trip: jobs that record thousands at once (the SLA sweep), and
    intake, whose events are its complaint's first (one statement inside SQLite's writer lock instead of
    a model save each, issue 20). Bypasses the model layer for speed, so the caller must not target
    archived complaints (the sweep never does: archiving cancels every clock; intake's complaint is new)."""
    if not rows:
        return
    meta = Event._meta
    quote = connection.ops.quote_name
    at_field, json_field = meta.get_field("at"), meta.get_field("after")
    columns = ["complaint_id", "at", "actor_id", "via", "action", "before", "after", "note"]
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608 - our identifiers
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    params = [
        (
            row["complaint_id"],
            at_field.get_db_prep_save(row["at"], connection),
            row.get("actor_id"),
            row["via"],
            row["action"],
            json_field.get_db_prep_save(_jsonable(row.get("before") or {}), connection),
            json_field.get_db_prep_save(_jsonable(row.get("after") or {}), connection),
            row.get("note", ""),
        )
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
