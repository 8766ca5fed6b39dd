"""Worker tasks of core: thin wrappers."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from closeloop.core.idempotency import idempotency_keys_purge


@db_periodic_task(crontab(minute="23"))  # hourly: keys live a day, an hour more is harmless
def idempotency_keys_purge_task() -> None:
    idempotency_keys_purge()
