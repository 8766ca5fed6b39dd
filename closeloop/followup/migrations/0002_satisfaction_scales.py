"""The two satisfaction scales of the source procedures; the four-level one is in use by default."""

from django.db import migrations

SCALES = [
    (
        "four-level",
        "四级满意度（非常满意/满意/一般/不满意）",
        True,
        [
            ("very_satisfied", "非常满意", "very satisfied", True, False),
            ("satisfied", "满意", "satisfied", True, False),
            ("neutral", "一般", "neutral", False, False),
            ("unsatisfied", "不满意", "unsatisfied", False, True),
        ],
    ),
    (
        "three-level",
        "三级满意度（满意/基本满意/不满意）",
        False,
        [
            ("satisfied", "满意", "satisfied", True, False),
            ("mostly_satisfied", "基本满意", "mostly satisfied", True, False),
            ("unsatisfied", "不满意", "unsatisfied", False, True),
        ],
    ),
]


def forwards(apps, schema_editor):
    Scale = apps.get_model("followup", "SatisfactionScale")
    Level = apps.get_model("followup", "SatisfactionLevel")
    for code, name, active, levels in SCALES:
        scale, created = Scale.objects.get_or_create(code=code, defaults={"name": name, "is_active": active})
        if created:
            for order, (level_code, zh, en, satisfied, reopens) in enumerate(levels):
                Level.objects.create(
                    scale=scale,
                    code=level_code,
                    label_zh=zh,
                    label_en=en,
                    order=order,
                    counts_as_satisfied=satisfied,
                    reopens=reopens,
                )


class Migration(migrations.Migration):
    dependencies = [("followup", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
