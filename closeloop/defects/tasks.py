"""Worker tasks: thin wrappers around the early-warning services."""

from __future__ import annotations

import datetime
import logging

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from closeloop.complaints.models import Complaint
from closeloop.defects.services.spikes import spike_check, spikes_rescan

log = logging.getLogger(__name__)

# The intake's check is queued after commit; should the queue have lost one (a worker killed, Redis
# flushed), this hourly sweep checks again the complaints received in the last two hours that are in
# no alert or incident (the check is idempotent).
CATCH_UP = datetime.timedelta(hours=2)


@db_task(retries=3, retry_delay=10)
def spike_check_task(complaint_id: int) -> None:
    complaint = Complaint.objects.filter(pk=complaint_id).only("pk", "product_id").first()
    if complaint is None:
        return
    result = spike_check(complaint=complaint)
    if result.alert is not None and result.outcome == "raised":
        log.info("defect alert %s raised by %s", result.alert.pk, complaint_id)


@db_periodic_task(crontab(minute="23"))
def spike_catch_up_task() -> None:
    now = timezone.now()
    result = spikes_rescan(start=now - CATCH_UP, end=now + datetime.timedelta(minutes=5), notify=True)
    if result.raised:
        log.info("defect catch-up raised %s alert(s)", len(result.raised))
