"""Append-only tables: the events, steps and audit rows written once and never changed or removed.

A correction is a new row. Saving a stored row again or deleting one raises AppendOnlyError, so a
slip in a service, the admin or a shell fails loudly instead of rewriting history.
"""

from __future__ import annotations

from typing import Any

from django.db import models


class AppendOnlyError(RuntimeError):
    pass


class AppendOnlyModel(models.Model):
    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError(f"{self._meta.label} rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError(f"{self._meta.label} rows are append-only")


class TransactionId(models.Func):
    """The writing transaction's id, as a column default: `pg_current_xact_id()` on PostgreSQL, 0 on
    SQLite (whose writers take turns, so ids already follow commit order).

    Why a change feed needs it: ids come from a sequence when a row is inserted, not when it commits, so
    a transaction that commits late makes a row appear *behind* rows a reader has already passed. Read
    in (txid, id) order and only below the oldest transaction still running (`FEED_HORIZON_SQL`), a
    row can no longer appear behind the cursor."""

    output_field = models.BigIntegerField()

    # a constant: none of Func's template arguments apply
    def as_sql(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, list[Any]]:  # type: ignore[override]
        if connection.vendor == "postgresql":
            return "(pg_current_xact_id()::text::bigint)", []
        return "0", []


# Rows written by transactions that have all ended: below the oldest one still running, or this
# reader's own (a test, or a service reading what it just wrote).
FEED_HORIZON_SQL = {
    "postgresql": (
        '("{table}"."txid" < pg_snapshot_xmin(pg_current_snapshot())::text::bigint'
        ' OR "{table}"."txid" = pg_current_xact_id_if_assigned()::text::bigint)'
    ),
}
