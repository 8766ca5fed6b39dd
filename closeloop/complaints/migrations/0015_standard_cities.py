"""Cities written another way (深圳, 广东深圳, 恩施州 …) become the one stored official name (深圳市,
恩施土家族苗族自治州) on complaints and customers, so that every count sees one city. One scan for the
distinct values per table, then an update per value that is not standard."""

from django.db import migrations

from closeloop.directory.regions import city_standard


def _standardise(model):
    values = model.objects.exclude(city="").values_list("city", flat=True).distinct()
    for value in list(values):
        standard = city_standard(value)
        if standard != value:
            model.objects.filter(city=value).update(city=standard)


def forwards(apps, schema_editor):
    for app, name in (("complaints", "Complaint"), ("directory", "Customer")):
        _standardise(apps.get_model(app, name))


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0014_standard_provinces"),
        ("directory", "0006_merge_feed_causes_models"),
    ]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
