"""The change feed: every complaint event, in an order a reader can resume without gaps or repeats.

`GET /api/v1/events?after=<cursor>` and the webhook fan-out read it. The order is (txid, id): the
writing transaction's id, then the event's (closeloop/core/events.py, TransactionId, says why the id
alone is not enough on PostgreSQL), and only rows below the oldest transaction still running are
shown, so a row committed late can never appear behind a cursor already handed out. The cursor is
opaque to clients: base64 of "txid.id".

Masked like the rest of the API: a reader sees the events of the complaints they may open, and the
texts of an event with phone numbers and e-mail addresses masked unless they may see personal data.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _

from closeloop.complaints.models import Event
from closeloop.complaints.selectors import complaints_visible_to
from closeloop.core.errors import DomainError
from closeloop.core.events import FEED_HORIZON_SQL
from closeloop.core.masking import can_see_personal_data, mask_log_text
from closeloop.core.types import User

KIND_PREFIX = "complaint."
MAX_LIMIT = 1000


@dataclass(frozen=True, order=True)
class Cursor:
    txid: int
    id: int

    def encode(self) -> str:
        return base64.urlsafe_b64encode(f"{self.txid}.{self.id}".encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor | None:
        """None for an empty cursor (the beginning); DomainError for one we did not hand out."""
        if not text:
            return None
        try:
            txid, _dot, row_id = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode().partition(".")
            return cls(int(txid), int(row_id))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise DomainError(_("This is not a cursor of the change feed."), field="after") from None


def event_kind(action: str) -> str:
    return f"{KIND_PREFIX}{action}"


def _settled() -> Q:
    sql = FEED_HORIZON_SQL.get(connection.vendor)
    if sql is None:  # SQLite: one writer at a time, ids follow commit order
        return Q()
    # Our own SQL with our own table name: no input of anyone's in it.
    return Q(RawSQL(sql.format(table=Event._meta.db_table), [], output_field=BooleanField()))  # noqa: S611


def feed_events(*, user: User, after: Cursor | None, kinds: list[str], limit: int) -> list[Event]:
    """The next `limit` events after the cursor that `user` may see, of the given kinds (all when empty)."""
    queryset: QuerySet[Event] = Event.objects.filter(_settled())
    if not user.has_perm("complaints.view_all_complaints"):
        queryset = queryset.filter(complaint__in=complaints_visible_to(user))
    if after is not None:
        queryset = queryset.filter(Q(txid__gt=after.txid) | Q(txid=after.txid, id__gt=after.id))
    if kinds:
        queryset = queryset.filter(action__in=[kind.removeprefix(KIND_PREFIX) for kind in kinds])
    return list(queryset.select_related("complaint", "actor").order_by("txid", "id")[: min(limit, MAX_LIMIT)])


def feed_head() -> Cursor | None:
    """The cursor of the newest settled event: where a new reader (a new webhook) starts."""
    last = Event.objects.filter(_settled()).order_by("-txid", "-id").values_list("txid", "id").first()
    return Cursor(*last) if last else None


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_log_text(value)
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_masked(item) for item in value]
    return value


def feed_item(event: Event, *, user: User) -> dict[str, Any]:
    """One event as `user` may see it: the body of a feed entry and of a webhook delivery."""
    item = {
        "cursor": Cursor(event.txid, event.pk).encode(),
        "id": event.pk,
        "kind": event_kind(event.action),
        "at": event.at,
        "complaint": event.complaint.number,
        "action": event.action,
        "actor": event.actor.get_username() if event.actor is not None else None,
        "via": event.via,
        "before": event.before,
        "after": event.after,
        "note": event.note,
    }
    if not can_see_personal_data(user):
        for key in ("before", "after", "note"):
            item[key] = _masked(item[key])
    return item
