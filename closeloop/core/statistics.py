"""The query planner's statistics on SQLite.

PostgreSQL gathers its own (autovacuum runs ANALYZE once enough rows changed). SQLite gathers none unless
told, and without them its planner chooses indexes by rule: on a 10,000-complaint database never
analysed, the filtered desk queue's page query (`status=acknowledged&type=quality`) took 4.2 ms, 0.3 ms
after ANALYZE (issue 20; docs/decisions.md). `analysis_limit` makes SQLite sample each index instead of
reading it whole: about 40 ms at that size, so the worker refreshes them every hour and after a history
import, when the table's shape changes most.
"""

from __future__ import annotations

from django.db import connections

ANALYSIS_LIMIT = 1000  # rows sampled per index (SQLite's recommendation for periodic ANALYZE is 400–1000)


def planner_statistics_refresh(using: str = "default") -> bool:
    """ANALYZE with a row limit on SQLite; False (nothing to do) on PostgreSQL."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA analysis_limit = {ANALYSIS_LIMIT}")
        cursor.execute("ANALYZE")
    return True
