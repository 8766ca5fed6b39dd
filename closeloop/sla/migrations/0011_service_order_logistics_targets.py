"""Issue 16: the service orders' logistics steps become milestones with targets in every policy.

Until now `serviceorders/clocks.py` held them as fixed constants, beside the policy; each policy now
gets them (the same values) where it has none, so an administrator changes them like any target.
Idempotent: the test suite re-runs it after a flush (tests/conftest.py, DATA_MIGRATIONS).
"""

from django.db import migrations

LOGISTICS_TARGETS = {
    "ship_in": "10d",
    "receive": "7d",
    "inspect": "2wd",
    "send_back": "2wd",
    "depot_repair": "5wd",
}


def forwards(apps, schema_editor):
    Policy = apps.get_model("sla", "Policy")
    PolicyTarget = apps.get_model("sla", "PolicyTarget")
    for policy in Policy.objects.all():
        for milestone, target in LOGISTICS_TARGETS.items():
            PolicyTarget.objects.get_or_create(
                policy=policy,
                milestone=milestone,
                defaults={"urgent": target, "important": target, "normal": target},
            )


class Migration(migrations.Migration):
    dependencies = [("sla", "0010_deadline_service_order")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
