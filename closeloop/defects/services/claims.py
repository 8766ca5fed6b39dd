"""The per-minute claim of new intakes for the early-warning check.

Intake used to queue one spike-check task per complaint after its commit: a second durable write per
complaint (Huey's own SQLite file, or Redis) for every intake. Instead the worker claims, once a minute,
the complaints registered since the last claim (id order, `SpikeCursor`) and checks each; intake
writes nothing for it, and a spike is still seen within about a minute.

Ids are handed out when a row is inserted but become visible when its transaction commits, so a
complaint still committing may have a smaller id than one already visible. The claim therefore stops
before the first complaint registered less than `SETTLE` ago: an intake transaction lasts
milliseconds, not seconds. One that took longer is still found by the hourly catch-up
(`spike_catch_up_task`), as is a claimed complaint whose check failed.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from closeloop.complaints.models import Complaint
from closeloop.defects.models import SpikeCursor

SETTLE = datetime.timedelta(seconds=5)
# A claim's size: at 400 intakes/s a minute brings 24,000; the rest waits for the next claim.
CLAIM_LIMIT = 5_000


def spike_checks_claim(
    *, now: datetime.datetime | None = None, settle: datetime.timedelta = SETTLE, limit: int = CLAIM_LIMIT
) -> list[int]:
    """Claim the ids of the complaints to check (registered through intake, with a catalogue model),
    in id order, and move the cursor past them. Two claims at once are serialised by the cursor's row
    lock and never return the same id."""
    cutoff = (now or timezone.now()) - settle
    with transaction.atomic():
        cursor = SpikeCursor.objects.select_for_update().filter(pk=1).first()
        if cursor is None:
            # The first claim (a new installation or an upgrade): what came before is the hourly
            # catch-up's, so the claim starts after the newest complaint.
            newest = Complaint.objects.aggregate(newest=Max("pk"))["newest"] or 0
            SpikeCursor.objects.bulk_create([SpikeCursor(pk=1, last_complaint_id=newest)], ignore_conflicts=True)
            cursor = SpikeCursor.objects.select_for_update().get(pk=1)
        rows = (
            Complaint.objects.filter(pk__gt=cursor.last_complaint_id)
            .order_by("pk")
            .values_list("pk", "registered_at", "product_id", "imported_at")[:limit]
        )
        claimed: list[int] = []
        last = cursor.last_complaint_id
        for pk, registered_at, product_id, imported_at in rows:
            if registered_at > cutoff:
                break  # maybe still committing below it: the next claim
            last = pk
            if product_id is not None and imported_at is None:  # history imports are never checked
                claimed.append(pk)
        if last != cursor.last_complaint_id:
            SpikeCursor.objects.filter(pk=1).update(last_complaint_id=last, claimed_at=timezone.now())
    return claimed
