"""Worker tasks of core: thin wrappers."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from closeloop.core.idempotency import idempotency_keys_purge
from closeloop.core.statistics import planner_statistics_refresh


@db_periodic_task(crontab(minute="23"))  # hourly: keys live a day, an hour more is harmless
def idempotency_keys_purge_task() -> None:
    idempotency_keys_purge()


@db_periodic_task(crontab(minute="41"))  # hourly: SQLite's planner statistics (PostgreSQL keeps its own)
def planner_statistics_refresh_task() -> None:
    planner_statistics_refresh()
