"""SQLite's planner statistics: gathered by the worker's hourly task and after a history import; on
PostgreSQL left to autovacuum."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection

from closeloop.complaints.models import Complaint
from closeloop.core.statistics import planner_statistics_refresh
from closeloop.core.tasks import planner_statistics_refresh_task


def _analysed_tables() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if cursor.fetchone() is None:
            return set()
        cursor.execute("SELECT DISTINCT tbl FROM sqlite_stat1")
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db
def test_the_hourly_task_gives_sqlites_planner_statistics(make_complaint: Callable[..., Complaint]) -> None:
    for _ in range(3):
        make_complaint()
    if connection.vendor != "sqlite":
        assert planner_statistics_refresh() is False  # autovacuum's job; nothing is run
        return
    if _analysed_tables():  # an earlier test's history import analysed this database
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM sqlite_stat1")  # undone with the test's transaction
    assert "complaints_complaint" not in _analysed_tables()
    planner_statistics_refresh_task.call_local()
    assert "complaints_complaint" in _analysed_tables()
    with connection.cursor() as cursor:
        cursor.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = 'complaints_complaint'")
        rows = cursor.fetchall()
    # One row per index, each starting with the table's row count as the planner now knows it.
    assert len(rows) > 5 and {row[0].split()[0] for row in rows} == {str(Complaint.objects.count())}
