"""Defaults from the source procedures: technical support owes a 4wh analysis; compensation above
500 CNY and refunds of custom-made products also need management's approval. Admins change them."""

from decimal import Decimal

from django.db import migrations


def forwards(apps, schema_editor):
    Department = apps.get_model("directory", "Department")
    ApprovalRule = apps.get_model("handling", "ApprovalRule")
    Department.objects.filter(code="tech").update(has_analysis_target=True)
    if not ApprovalRule.objects.exists():
        ApprovalRule.objects.create(
            name="赔偿金额超过500元需总经理室审批", measure="compensation", compensation_above=Decimal("500"),
            levels=["management"],
        )
        ApprovalRule.objects.create(
            name="定制产品退货退款需总经理室审批", measure="return_refund", custom_made_only=True, levels=["management"]
        )


class Migration(migrations.Migration):
    dependencies = [("handling", "0001_initial"), ("directory", "0003_roster")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
