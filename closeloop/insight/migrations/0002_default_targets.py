"""Default KPI targets. The seeds leave them as [X] %; these are common values an admin adjusts."""

from decimal import Decimal

from django.db import migrations

DEFAULTS = {
    "timely_processing": "95.0",
    "timely_reply": "90.0",
    "communication": "95.0",
    "result_reply": "95.0",
    "satisfaction": "90.0",
    "repeat": "5.0",
    "ack_on_time": "98.0",
    "followup_on_time": "95.0",
    "reopen": "5.0",
}


def forwards(apps, schema_editor):
    KpiTarget = apps.get_model("insight", "KpiTarget")
    for kpi, target in DEFAULTS.items():
        KpiTarget.objects.get_or_create(kpi=kpi, defaults={"target": Decimal(target)})


class Migration(migrations.Migration):
    dependencies = [("insight", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
