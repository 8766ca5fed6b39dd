"""Worker tasks: thin wrappers around the outbox services."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from closeloop.notifications.services import outbox_deliver, outbox_recover


@db_task()
def outbox_deliver_task() -> None:
    outbox_deliver()


@db_periodic_task(crontab(minute="*"))
def outbox_flush() -> None:
    outbox_recover()
    outbox_deliver()
