"""Worker tasks of integrations: thin wrappers."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from closeloop.integrations.services import webhooks_run


@db_periodic_task(crontab(minute="*"))
def webhooks_task() -> None:
    webhooks_run()
