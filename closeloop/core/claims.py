"""Claiming rows with one conditional UPDATE … RETURNING, so that two workers never act twice.

`UPDATE t SET marker = now WHERE id IN (…) AND marker IS NULL RETURNING id` — on PostgreSQL a second
worker blocks on the row lock, re-checks the condition after the first commits and skips the row; on
SQLite writers are serialised. Works on PostgreSQL and SQLite ≥ 3.35.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection, models


def claim(
    model: type[models.Model],
    ids: Sequence[int],
    *,
    assignments: dict[str, Any],
    condition: str,
    condition_params: Sequence[Any] = (),
) -> list[int]:
    """Apply `assignments` to the rows among `ids` that still satisfy `condition` (SQL over the model's
    columns, written by us, never user input); return the ids this call claimed."""
    if not ids:
        return []
    meta = model._meta
    quote = connection.ops.quote_name
    set_parts, set_params = [], []
    for name, value in assignments.items():
        field = meta.get_field(name)
        # get_field() may return a reverse relation; claims name only the model's own columns.
        column = quote(field.column)  # type: ignore[union-attr,arg-type]
        if isinstance(value, Raw):
            set_parts.append(f"{column} = {value.sql_fragment}")
            continue
        set_parts.append(f"{column} = %s")
        set_params.append(field.get_db_prep_save(value, connection))  # type: ignore[union-attr]  # as above
    claimed: list[int] = []
    for offset in range(0, len(ids), 500):
        chunk = list(ids[offset : offset + 500])
        placeholders = ", ".join(["%s"] * len(chunk))
        sql = (
            f"UPDATE {quote(meta.db_table)} SET {', '.join(set_parts)} "  # noqa: S608 - identifiers are ours
            f"WHERE {quote(meta.pk.column)} IN ({placeholders}) AND ({condition}) RETURNING {quote(meta.pk.column)}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*set_params, *chunk, *condition_params])
            claimed.extend(row[0] for row in cursor.fetchall())
    return claimed


class Raw:
    """A SQL fragment as an assignment value, e.g. Raw('"attempts" + 1')."""

    def __init__(self, sql_fragment: str) -> None:
        self.sql_fragment = sql_fragment
