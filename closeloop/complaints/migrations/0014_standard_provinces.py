"""Regions written another way (广东省, 内蒙, 北京市 …) become the one stored name (广东, 内蒙古, 北京) on
complaints, customers and roster lines, so that every count sees one region. One scan for the distinct
values per table, then an update per value that is not standard."""

from django.db import migrations

from closeloop.directory.regions import province_standard


def _standardise(model):
    values = model.objects.exclude(province="").values_list("province", flat=True).distinct()
    for value in list(values):
        standard = province_standard(value)
        if standard != value:
            model.objects.filter(province=value).update(province=standard)


def forwards(apps, schema_editor):
    for app, name in (("complaints", "Complaint"), ("directory", "Customer"), ("directory", "RosterEntry")):
        _standardise(apps.get_model(app, name))


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0013_saved_view"),
        ("directory", "0006_merge_feed_causes_models"),
    ]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
