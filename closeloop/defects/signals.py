"""Hooks the early-warning check to intake: every registered complaint is checked by the worker right
after the intake committed (the intake itself never waits for it, nor fails because of it)."""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import receiver

from closeloop.complaints.signals import complaint_registered

log = logging.getLogger(__name__)


def _enqueue(complaint_id: int) -> None:
    from closeloop.defects.tasks import spike_check_task

    spike_check_task(complaint_id)


@receiver(complaint_registered, dispatch_uid="defects.spike_check")
def spike_check_on_intake(sender: Any, complaint: Any, **kwargs: Any) -> None:
    if getattr(complaint, "product_id", None) is None:
        return  # no catalogue model: nothing to count
    try:
        _enqueue(complaint.pk)
    except Exception:  # the queue is down: the periodic catch-up finds the complaint later
        log.warning("could not queue the spike check of complaint %s", complaint.pk, exc_info=True)
