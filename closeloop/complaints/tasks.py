"""Worker tasks: thin wrappers around the complaint services."""

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from closeloop.complaints.sweeps import sla_sweep

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*"))
def sla_sweep_task() -> None:
    result = sla_sweep()
    if result.warned or result.breached or result.escalated:
        log.info("SLA sweep: %s warned, %s breached, %s escalated", result.warned, result.breached, result.escalated)
