"""The default early-warning rule of kpis.md: 3 complaints about one model within 7 days."""

from django.db import migrations


def forwards(apps, schema_editor):
    SpikeRule = apps.get_model("defects", "SpikeRule")
    if not SpikeRule.objects.filter(product_line__isnull=True).exists():
        SpikeRule.objects.create(product_line=None, threshold=3, window_days=7, is_active=True)


class Migration(migrations.Migration):
    dependencies = [("defects", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
