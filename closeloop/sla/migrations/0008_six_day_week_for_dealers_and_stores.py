"""Seed 004 out of the box: dealers and cooperating stores are on the six-day week.

The procedure for dealer and store complaints counts Saturday in the two working days ("a complaint
sent on Friday 10:00 is answered by Monday 10:00"); the six-day policy shipped in 0002 had no rule
selecting it. Two rules now do, before any an admin adds (order 10 and 20). Idempotent: the test
suite re-runs it after a flush (tests/conftest.py, DATA_MIGRATIONS).
"""

from django.db import migrations

SIX_DAY_KINDS = (("dealer", 10), ("store", 20))


def forwards(apps, schema_editor):
    Policy = apps.get_model("sla", "Policy")
    PolicyRule = apps.get_model("sla", "PolicyRule")
    policy = Policy.objects.filter(code="six-day").first()
    if policy is None:
        return
    for kind, order in SIX_DAY_KINDS:
        if not PolicyRule.objects.filter(customer_kind=kind, product_line__isnull=True).exists():
            PolicyRule.objects.create(policy=policy, customer_kind=kind, order=order)


class Migration(migrations.Migration):
    dependencies = [("sla", "0007_policy_active_and_changes")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
