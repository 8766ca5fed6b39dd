"""Worker tasks: thin wrappers around the early-warning services."""

from __future__ import annotations

import datetime
import logging

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from closeloop.complaints.models import Complaint
from closeloop.defects.services.claims import spike_checks_claim
from closeloop.defects.services.spikes import spike_check, spikes_rescan

log = logging.getLogger(__name__)

# New intakes are claimed once a minute (defects/services/claims.py); should a check have been lost
# (a worker killed mid-claim, a check that failed, an intake that committed after its claim), this
# hourly sweep checks again the complaints received in the last two hours that are in no alert or
# incident (the check is idempotent).
CATCH_UP = datetime.timedelta(hours=2)


@db_task(retries=3, retry_delay=10)
def spike_check_task(complaint_id: int) -> None:
    complaint = Complaint.objects.filter(pk=complaint_id).only("pk", "product_id").first()
    if complaint is None:
        return
    result = spike_check(complaint=complaint)
    if result.alert is not None and result.outcome == "raised":
        log.info("defect alert %s raised by %s", result.alert.pk, complaint_id)


@db_periodic_task(crontab(minute="*"))
def spike_claim_task() -> None:
    """Check the complaints registered since the last claim: a spike is seen within about a minute."""
    for complaint_id in spike_checks_claim():
        try:
            spike_check_task.call_local(complaint_id)
        except Exception:  # one failed check must not lose the rest of the claim; the catch-up retries it
            log.exception("spike check of complaint %s failed", complaint_id)


@db_periodic_task(crontab(minute="23"))
def spike_catch_up_task() -> None:
    now = timezone.now()
    result = spikes_rescan(start=now - CATCH_UP, end=now + datetime.timedelta(minutes=5), notify=True)
    if result.raised:
        log.info("defect catch-up raised %s alert(s)", len(result.raised))
