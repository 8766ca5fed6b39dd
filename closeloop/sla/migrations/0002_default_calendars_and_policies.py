"""The two calendars and the two policies that ship (sla.md, "Default SLA policy")."""

from django.db import migrations

from closeloop.sla.milestones import DEFAULT_TARGETS


def forwards(apps, schema_editor):
    Calendar = apps.get_model("sla", "Calendar")
    Policy = apps.get_model("sla", "Policy")
    PolicyTarget = apps.get_model("sla", "PolicyTarget")
    default, _ = Calendar.objects.get_or_create(
        code="default", defaults={"name": "法定工作日历", "name_en": "Statutory working calendar"}
    )
    six_day, _ = Calendar.objects.get_or_create(
        code="six-day",
        defaults={"name": "六天工作制日历", "name_en": "Six-day week calendar", "six_day_week": True},
    )
    for code, name, name_en, calendar, is_default in [
        ("default", "默认时效标准", "Default SLA policy", default, True),
        ("six-day", "六天工作制时效标准", "Six-day week SLA policy", six_day, False),
    ]:
        policy, created = Policy.objects.get_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "calendar": calendar, "is_default": is_default}
        )
        if created:
            for milestone, (urgent, important, normal) in DEFAULT_TARGETS.items():
                PolicyTarget.objects.create(
                    policy=policy, milestone=milestone, urgent=urgent, important=important, normal=normal
                )


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
