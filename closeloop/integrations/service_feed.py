"""The service orders' change feed: their events by the complaint feed's cursor and rules (feed.py) —
(txid, id) order, only settled transactions, masked for masked roles, only orders the reader sees."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _

from closeloop.core.errors import DomainError
from closeloop.core.events import FEED_HORIZON_SQL
from closeloop.core.masking import can_see_personal_data
from closeloop.core.types import User
from closeloop.integrations.feed import MAX_LIMIT, _masked, kind_canonical
from closeloop.serviceorders.models import ServiceEvent
from closeloop.serviceorders.selectors import orders_visible_to

KIND_PREFIX = "service_order."


@dataclass(frozen=True, order=True)
class Cursor:
    """(txid, id) of the last service-order event read, as base64 of "txid.id" (the complaint feed's
    cursor before it took several sources)."""

    txid: int
    id: int

    def encode(self) -> str:
        return base64.urlsafe_b64encode(f"{self.txid}.{self.id}".encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor | None:
        if not text:
            return None
        try:
            txid, _dot, row_id = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode().partition(".")
            return cls(int(txid), int(row_id))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise DomainError(_("This is not a cursor of the change feed."), field="after") from None


def _settled() -> Q:
    sql = FEED_HORIZON_SQL.get(connection.vendor)
    if sql is None:  # SQLite: one writer at a time, ids follow commit order
        return Q()
    # Our own SQL with our own table name: no input of anyone's in it.
    return Q(RawSQL(sql.format(table=ServiceEvent._meta.db_table), [], output_field=BooleanField()))  # noqa: S611


def service_feed_events(*, user: User, after: Cursor | None, kinds: list[str], limit: int) -> list[ServiceEvent]:
    queryset = ServiceEvent.objects.filter(_settled(), order__in=orders_visible_to(user))
    if after is not None:
        queryset = queryset.filter(Q(txid__gt=after.txid) | Q(txid=after.txid, id__gt=after.id))
    if kinds:
        queryset = queryset.filter(action__in=[kind_canonical(kind).removeprefix(KIND_PREFIX) for kind in kinds])
    return list(queryset.select_related("order", "actor").order_by("txid", "id")[: min(limit, MAX_LIMIT)])


def service_feed_item(event: ServiceEvent, *, user: User) -> dict[str, Any]:
    item = {
        "cursor": Cursor(event.txid, event.pk).encode(),
        "id": event.pk,
        "kind": f"{KIND_PREFIX}{event.action}",
        "at": event.at,
        "service_order": event.order.number,
        "action": event.action,
        "actor": event.actor.get_username() if event.actor is not None else None,
        "via": event.via,
        "after": event.after,
        "note": event.note,
    }
    if not can_see_personal_data(user):
        item["after"], item["note"] = _masked(item["after"]), _masked(item["note"])
    return item
