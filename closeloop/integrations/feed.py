"""The change feed: the append-only events of every table that has them, in an order a reader can
resume without gaps or repeats.

`GET /api/v1/events?after=<cursor>` and the webhook fan-out read it. The sources (SOURCES below) are
the complaint events (tasks, solutions, postponements, disputes, feedback forms, follow-ups and contacts
are all written there, on their complaint), the defect alerts' and incidents' events, the improvement
actions' events, the reports' steps and the service orders' events. A new event table joins the feed with one row there.

Each table is read in (txid, id) order: the writing transaction's id, then the row's
(closeloop/core/events.py, TransactionId, says why the id alone is not enough on PostgreSQL), and only
rows below the oldest transaction still running are shown, so a row committed late can never appear
behind a position already handed out. The tables have no order in common (on SQLite every txid is 0),
so the cursor holds a position per table and a page is the merge of the tables' next rows: each table's
rows stay in their own order, and resuming from any entry's cursor continues every table right after
what was read. The cursor is opaque to clients (base64 of "source:txid.id,…"); a cursor of the
complaint-only feed ("txid.id") still reads, as a position in the complaint events.

Masked like the rest of the API: a reader sees the events of the records they may open, and the texts
of an event with phone numbers and e-mail addresses masked unless they may see personal data.
"""

from __future__ import annotations

import base64
import binascii
import heapq
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Model, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _

from closeloop.complaints.models import Event
from closeloop.complaints.selectors import complaints_visible_to
from closeloop.core.errors import DomainError
from closeloop.core.events import FEED_HORIZON_SQL
from closeloop.core.masking import can_see_personal_data, mask_log_text
from closeloop.core.types import User
from closeloop.defects.models import IncidentEvent
from closeloop.defects.services.common import may_view as may_view_defects
from closeloop.improvement.models import ActionEvent
from closeloop.improvement.selectors import actions_visible_to
from closeloop.insight.models import ReportStep
from closeloop.insight.services.reports import may_view as may_view_reports
from closeloop.serviceorders.models import ServiceEvent
from closeloop.serviceorders.selectors import orders_visible_to

MAX_LIMIT = 1000


# --- the sources ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """One append-only table in the feed. `kind_field` names what happened (`registered`), prefixed by
    `name` in the entry's kind (`complaint.registered`); `visible` narrows the rows to what `user` may
    see, or returns None when they see none of them."""

    name: str
    model: type[Model]
    kind_field: str
    related: tuple[str, ...]
    visible: Callable[[QuerySet[Any], User], QuerySet[Any] | None]
    describe: Callable[[Any], dict[str, Any]]


def _complaints(queryset: QuerySet[Any], user: User) -> QuerySet[Any]:
    if user.has_perm("complaints.view_all_complaints"):
        return queryset
    return queryset.filter(complaint__in=complaints_visible_to(user))


def _defects(queryset: QuerySet[Any], user: User) -> QuerySet[Any] | None:
    return queryset if may_view_defects(user) else None


def _actions(queryset: QuerySet[Any], user: User) -> QuerySet[Any]:
    return queryset.filter(action__in=actions_visible_to(user))


def _service_orders(queryset: QuerySet[Any], user: User) -> QuerySet[Any]:
    return queryset.filter(order__in=orders_visible_to(user))


def _reports(queryset: QuerySet[Any], user: User) -> QuerySet[Any] | None:
    return queryset if may_view_reports(user) else None


def _complaint_row(event: Event) -> dict[str, Any]:
    return {
        "complaint": event.complaint.number,
        "record": event.complaint.number,
        "record_type": "complaint",
        "via": event.via,
        "before": event.before,
        "after": event.after,
    }


def _defect_row(event: IncidentEvent) -> dict[str, Any]:
    if event.incident is not None:
        record = event.incident.number
    elif event.alert_id is not None:
        record = str(event.alert_id)
    else:
        record = ""  # an early-warning rule's change
    return {
        "complaint": None,
        "record": record,
        "record_type": "defect_incident" if event.incident_id else "defect_alert" if event.alert_id else "spike_rule",
        "via": "",
        "before": {},
        "after": event.data,
    }


def _action_row(event: ActionEvent) -> dict[str, Any]:
    return {
        "complaint": None,
        "record": event.action.number,
        "record_type": "improvement_action",
        "via": event.via,
        "before": event.before,
        "after": event.after,
    }


def _service_order_row(event: ServiceEvent) -> dict[str, Any]:
    return {
        "complaint": None,
        "record": event.order.number,
        "record_type": "service_order",
        "via": event.via,
        "before": {},
        "after": event.after,
    }


def _report_row(step: ReportStep) -> dict[str, Any]:
    return {
        "complaint": None,
        "record": str(step.report_id),
        "record_type": "report",
        "via": "",
        "before": {"status": step.before} if step.before else {},
        "after": {"status": step.after} if step.after else {},
    }


SOURCES = {
    source.name: source
    for source in (
        Source("complaint", Event, "action", ("complaint", "actor"), _complaints, _complaint_row),
        Source("defect", IncidentEvent, "kind", ("incident", "actor"), _defects, _defect_row),
        Source("improvement_action", ActionEvent, "kind", ("action", "actor"), _actions, _action_row),
        Source("report", ReportStep, "action", ("actor",), _reports, _report_row),
        Source("service_order", ServiceEvent, "action", ("order", "actor"), _service_orders, _service_order_row),
    )
}


# --- the cursor ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """A position (txid, id) per source; a source not named is read from its start."""

    positions: tuple[tuple[str, int, int], ...] = ()

    def of(self, source: str) -> tuple[int, int] | None:
        for name, txid, row_id in self.positions:
            if name == source:
                return txid, row_id
        return None

    def moved(self, source: str, txid: int, row_id: int) -> Cursor:
        others = tuple(p for p in self.positions if p[0] != source)
        return Cursor(tuple(sorted((*others, (source, txid, row_id)))))

    def encode(self) -> str:
        text = ",".join(f"{name}:{txid}.{row_id}" for name, txid, row_id in self.positions)
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor | None:
        """None for an empty cursor (the beginning); DomainError for one we did not hand out."""
        if not text:
            return None
        try:
            plain = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            positions = []
            for part in plain.split(","):
                name, colon, position = part.rpartition(":")
                if not colon:
                    name = "complaint"  # the complaint-only feed's cursor
                if name not in SOURCES:
                    raise ValueError(name)
                txid, _dot, row_id = position.partition(".")
                positions.append((name, int(txid), int(row_id)))
            return cls(tuple(sorted(positions)))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise DomainError(_("This is not a cursor of the change feed."), field="after") from None


@dataclass(frozen=True)
class FeedEntry:
    source: Source
    row: Any  # the event row
    cursor: Cursor  # where a reader is once it has read this entry

    @property
    def kind(self) -> str:
        return f"{self.source.name}.{getattr(self.row, self.source.kind_field)}"

    @property
    def txid(self) -> int:
        return int(self.row.txid)


# Other spellings of a source's name that a subscriber may write (issue 16 spelt the service orders'
# kinds `serviceorder.<action>`); read as the source's own name, which is what entries carry.
SOURCE_ALIASES = {"serviceorder": "service_order"}


def kind_canonical(kind: str) -> str:
    """`serviceorder.ship_in` → `service_order.ship_in`; any other kind as written."""
    name, dot, action = kind.partition(".")
    return f"{SOURCE_ALIASES.get(name, name)}{dot}{action}"


def kinds_known() -> list[str]:
    """The kinds' prefixes: `complaint.`, `defect.`, …"""
    return [f"{name}." for name in SOURCES]


def _settled(model: type[Model]) -> Q:
    sql = FEED_HORIZON_SQL.get(connection.vendor)
    if sql is None:  # SQLite: one writer at a time, ids follow commit order
        return Q()
    # Our own SQL with our own table name: no input of anyone's in it.
    return Q(RawSQL(sql.format(table=model._meta.db_table), [], output_field=BooleanField()))  # noqa: S611


def _rows(source: Source, *, user: User, after: tuple[int, int] | None, actions: list[str], limit: int) -> list[Any]:
    queryset = source.visible(source.model._default_manager.filter(_settled(source.model)), user)
    if queryset is None:
        return []
    if after is not None:
        queryset = queryset.filter(Q(txid__gt=after[0]) | Q(txid=after[0], id__gt=after[1]))
    if actions:
        queryset = queryset.filter(**{f"{source.kind_field}__in": actions})
    return list(queryset.select_related(*source.related).order_by("txid", "id")[:limit])


def _wanted(kinds: list[str]) -> dict[str, list[str]]:
    """Per source, the kinds asked for (an empty list: all of them); a source left out is not read."""
    if not kinds:
        return {name: [] for name in SOURCES}
    wanted: dict[str, list[str]] = {}
    for kind in kinds:
        name, dot, action = kind_canonical(kind).partition(".")
        if name in SOURCES:
            if not dot or not action or action == "*":
                wanted[name] = []
            elif name not in wanted or wanted[name]:
                wanted.setdefault(name, []).append(action)
    return wanted


def feed_events(*, user: User, after: Cursor | None, kinds: list[str], limit: int) -> list[FeedEntry]:
    """The next `limit` entries after the cursor that `user` may see, of the given kinds (all when empty;
    `defect` or `defect.*` for every kind of a source). One query per source read."""
    limit = min(limit, MAX_LIMIT)
    cursor = after or Cursor()
    streams = []
    for order, (name, actions) in enumerate(_wanted(kinds).items()):
        source = SOURCES[name]
        rows = _rows(source, user=user, after=cursor.of(name), actions=actions, limit=limit)
        # Merged by txid (then the source's place and id, for a stable page): each source's own order is kept.
        streams.append([(row.txid, order, row.pk, source, row) for row in rows])
    entries: list[FeedEntry] = []
    for _txid, _order, _pk, source, row in heapq.merge(*streams, key=lambda item: item[:3]):
        if len(entries) == limit:
            break
        cursor = cursor.moved(source.name, row.txid, row.pk)
        entries.append(FeedEntry(source, row, cursor))
    return entries


def feed_head() -> Cursor | None:
    """The cursor of the newest settled event of every source: where a new reader (a new webhook) starts."""
    cursor = Cursor()
    for name, source in SOURCES.items():
        last = (
            source.model._default_manager.filter(_settled(source.model))
            .order_by("-txid", "-id")
            .values_list("txid", "id")
            .first()
        )
        if last:
            cursor = cursor.moved(name, *last)
    return cursor if cursor.positions else None


def feed_entry(source: str, row_id: int, *, cursor: Cursor | None = None) -> FeedEntry:
    """One stored event again (a webhook delivery names it by source and id)."""
    table = SOURCES[source]
    row: Any = table.model._default_manager.select_related(*table.related).get(pk=row_id)
    return FeedEntry(table, row, cursor or Cursor(((source, int(row.txid), row.pk),)))


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_log_text(value)
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_masked(item) for item in value]
    return value


def feed_item(entry: FeedEntry, *, user: User) -> dict[str, Any]:
    """One entry as `user` may see it: the body of a feed entry and of a webhook delivery."""
    row = entry.row
    described = entry.source.describe(row)
    item = {
        "cursor": entry.cursor.encode(),
        "source": entry.source.name,
        "id": row.pk,
        "kind": entry.kind,
        "at": row.at,
        "record": described["record"],
        "record_type": described["record_type"],
        "complaint": described["complaint"],
        "action": getattr(row, entry.source.kind_field),
        "actor": row.actor.get_username() if row.actor is not None else None,
        "via": described["via"],
        "before": described["before"],
        "after": described["after"],
        "note": row.note,
    }
    if not can_see_personal_data(user):
        for key in ("before", "after", "note"):
            item[key] = _masked(item[key])
    return item
