"""Worker tasks of the improvement app: thin wrappers around its services."""

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from closeloop.improvement.sweeps import improvement_sweep

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*/5"))
def improvement_sweep_task() -> None:
    """Every five minutes: warn owners at the warning point, report overdue actions at the deadline."""
    result = improvement_sweep()
    if result.warned or result.overdue:
        log.info("improvement sweep: %s warned, %s overdue", result.warned, result.overdue)
