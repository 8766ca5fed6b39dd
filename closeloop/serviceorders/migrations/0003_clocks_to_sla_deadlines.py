"""Issue 16, one engine: each `serviceorders.Clock` becomes an `sla.Deadline` of its service order.

The step name is the milestone's value (reply, resolution, followup, ship_in, receive, inspect,
send_back, depot_repair, visit). The policy is the order's (the default policy for an order without
one). A clock kept no warning point; it is put at the policy's warning fraction of the wall-clock time
from start to due (a visit's at its two-hour slot's start) — the calendar-exact point is computed for
every deadline started from now on. Open clocks already past that point are warned by the next sweep,
as a complaint's would have been.
"""

import datetime

from django.db import migrations

SLOT = datetime.timedelta(hours=2)


def forwards(apps, schema_editor):
    Clock = apps.get_model("serviceorders", "Clock")
    Deadline = apps.get_model("sla", "Deadline")
    Policy = apps.get_model("sla", "Policy")
    default = Policy.objects.filter(is_default=True).first()
    batch = []
    for clock in Clock.objects.select_related("order__sla_policy").order_by("pk").iterator(chunk_size=2000):
        policy = clock.order.sla_policy or default
        if policy is None:
            continue  # no policy at all: an empty installation, nothing to carry over
        span = clock.due_at - clock.started_at
        if clock.step == "visit":
            warn_at = max(clock.started_at, clock.due_at - SLOT)
        else:
            warn_at = clock.started_at + span * float(policy.warning_fraction)
        batch.append(
            Deadline(
                service_order_id=clock.order_id,
                milestone=clock.step,
                policy=policy,
                duration=clock.duration,
                assignee_id=clock.order.assignee_id,
                started_at=clock.started_at,
                due_at=clock.due_at,
                warn_at=warn_at,
                met_at=clock.met_at,
                met_by_id=clock.met_by_id,
                cancelled=clock.cancelled,
            )
        )
        if len(batch) >= 2000:
            Deadline.objects.bulk_create(batch)
            batch = []
    Deadline.objects.bulk_create(batch)


def backwards(apps, schema_editor):
    Clock = apps.get_model("serviceorders", "Clock")
    Deadline = apps.get_model("sla", "Deadline")
    Clock.objects.bulk_create(
        Clock(
            order_id=d.service_order_id,
            step=d.milestone,
            duration=d.duration,
            started_at=d.started_at,
            due_at=d.due_at,
            met_at=d.met_at,
            met_by_id=d.met_by_id,
            cancelled=d.cancelled,
        )
        for d in Deadline.objects.filter(service_order__isnull=False).order_by("pk")
    )
    Deadline.objects.filter(service_order__isnull=False).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("serviceorders", "0002_kb_updated_at_index_and_feed"),
        ("sla", "0011_service_order_logistics_targets"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
