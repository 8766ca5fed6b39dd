"""Before `external_ref` becomes unique per channel (0009): complaints registered twice under one
reference keep it on the first registered; each later one gets its own number appended
("CRM-1~TS20261123-0007") and an event on its timeline saying so. Nothing is merged or lost: the
desk decides whether they are duplicates."""

from django.db import migrations
from django.db.models import Count


def _unique_refs(apps, schema_editor):
    Complaint = apps.get_model("complaints", "Complaint")
    Event = apps.get_model("complaints", "Event")
    groups = (
        Complaint.objects.exclude(external_ref="")
        .values("channel", "external_ref")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    for group in groups:
        later = Complaint.objects.filter(channel=group["channel"], external_ref=group["external_ref"]).order_by(
            "registered_at", "id"
        )[1:]
        for complaint in later:
            suffix = f"~{complaint.number}"
            renamed = complaint.external_ref[: 80 - len(suffix)] + suffix
            Event.objects.create(
                complaint=complaint,
                via="system",
                action="external_ref_renamed",
                before={"external_ref": complaint.external_ref},
                after={"external_ref": renamed},
                note="external_ref is unique per channel; an earlier complaint holds this reference",
            )
            Complaint.objects.filter(pk=complaint.pk).update(external_ref=renamed)


class Migration(migrations.Migration):
    dependencies = [("complaints", "0007_personal_data_search")]

    operations = [migrations.RunPython(_unique_refs, migrations.RunPython.noop)]
