"""A partial index's condition, stated in a filter so that SQLite reads along the index.

SQLite uses a partial index only when the query states the index's condition word for word, and a bound
parameter is not a word: `status IN (?, ?, …)` never matched `complaint_open_due`'s `status IN
('acknowledged', …)`. And given the choice, SQLite's planner preferred the status index (a search on each
of the eight states, then a sort of every open complaint: 6.4 ms at 16,000 open) to the partial index's
first 25 rows (0.01 ms), with planner statistics or without. `likelihood(…, 0.9375)` tells it the truth
about that choice: the condition holds for most rows it would read, so it narrows nothing worth a sort.
PostgreSQL gets the plain `IN` with the values written in (its planner proves the implication itself).

Only for constants of our own code, which must be plain identifiers (checked); never for what a user typed.
"""

from __future__ import annotations

import re
from typing import Any

from django.db.models.lookups import In

WORD = re.compile(r"[a-z0-9_]+")
LIKELY = 0.9375  # SQLite wants a constant between 0 and 1


class InIndexCondition(In):
    """`InIndexCondition(F("status"), ("a", "b"))` in a filter: `"status" IN ('a', 'b')`, values in the
    given order (the index's), marked likely on SQLite."""

    def process_rhs(self, compiler: Any, connection: Any) -> tuple[str, tuple[()]]:
        words = [str(value) for value in self.rhs]
        if not words or not all(WORD.fullmatch(word) for word in words):
            raise ValueError(f"InIndexCondition takes identifiers of our own code, not {words!r}")
        return "(" + ", ".join(f"'{word}'" for word in words) + ")", ()

    def as_sqlite(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        sql, params = self.as_sql(compiler, connection)
        return f"likelihood({sql}, {LIKELY})", list(params)
