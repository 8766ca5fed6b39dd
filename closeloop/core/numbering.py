"""Gap-free daily numbers (`TS20261120-0001`, `SF20261120-0001`): one row per day holds the last number.

Must run inside the caller's transaction: the UPDATE's row lock serialises concurrent intakes, and a
rollback gives the number back, so the sequence has no gaps.
"""

from __future__ import annotations

import datetime

from django.db import connection, models


def daily_number(sequence: type[models.Model], day: datetime.date, prefix: str) -> str:
    """`prefix` + date + 4-digit sequence of `day`, from `sequence` (a model with `day` primary key and `last`)."""
    table = connection.ops.quote_name(sequence._meta.db_table)
    day_value = connection.ops.adapt_datefield_value(day)
    with connection.cursor() as cursor:
        # One statement in the common case (PostgreSQL and SQLite ≥ 3.35 both support RETURNING).
        cursor.execute(f"UPDATE {table} SET last = last + 1 WHERE day = %s RETURNING last", [day_value])  # noqa: S608
        row = cursor.fetchone()
        if row is None:  # the day's first number: create the row (racing intakes both land here once)
            sequence._default_manager.bulk_create([sequence(day=day, last=0)], ignore_conflicts=True)
            cursor.execute(f"UPDATE {table} SET last = last + 1 WHERE day = %s RETURNING last", [day_value])  # noqa: S608
            row = cursor.fetchone()
    return f"{prefix}{day:%Y%m%d}-{row[0]:04d}"
