"""Worker tasks of closing the loop: thin wrappers around the services."""

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from closeloop.followup.services.closing import complaints_archive_due
from closeloop.followup.services.retention import complaints_anonymise

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="7"))
def archive_closed_task() -> None:
    """Hourly: complaints closed longer than ARCHIVE_AFTER_DAYS become archived (read-only)."""
    numbers = complaints_archive_due()
    if numbers:
        log.info("archived %s complaint(s)", len(numbers))


@db_periodic_task(crontab(day_of_week="0", hour="3", minute="17"))
def anonymise_task() -> None:
    """Weekly (Sunday night): personal data of complaints archived past RETENTION_YEARS."""
    result = complaints_anonymise(dry_run=False)
    if result.complaints:
        log.info("anonymised %s complaint(s), %s customer(s)", len(result.complaints), result.customers)
