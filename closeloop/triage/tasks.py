"""Worker tasks: thin wrappers around the triage services."""

from __future__ import annotations

import datetime
import logging

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from closeloop.core.errors import DomainError
from closeloop.triage.hazards import hazard_catch_up
from closeloop.triage.services import triage_train
from closeloop.triage.similar import clusters_scan

log = logging.getLogger(__name__)

# The intake's hazard check (lexicon and learned model) runs after commit in the web process; should
# that process have died in between, this sweep (every five minutes) checks again the complaints
# registered in the last ten minutes without a flag — each is seen twice. Idempotent.
CATCH_UP = datetime.timedelta(minutes=10)


@db_task()
def triage_train_task() -> None:
    try:
        triage_train()
    except DomainError as exc:
        log.info("triage model not trained: %s", exc)


@db_periodic_task(crontab(minute="41", hour="2"))
def triage_train_nightly_task() -> None:
    """A new version every night, learned from the complaints closed until then."""
    triage_train_task.call_local()


@db_periodic_task(crontab(minute="*/5"))
def hazard_catch_up_task() -> None:
    # A new complaint's updated_at is its registration (or later): the (updated_at, id) index finds them.
    flags = hazard_catch_up(since=timezone.now() - CATCH_UP)
    if flags:
        log.warning("the hazard catch-up flagged %s complaint(s) the intake check missed", len(flags))


@db_periodic_task(crontab(minute="*/15"))
def cluster_scan_task() -> None:
    alerts = clusters_scan()
    if alerts:
        log.info("text clusters raised %s defect alert(s)", len(alerts))
