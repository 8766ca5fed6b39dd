"""Default departments and complaint types from the source procedures; admins edit them later."""

from django.db import migrations

DEPARTMENTS = [
    ("cs", "客户服务部", "Customer Service"),
    ("tech", "技术支持部", "Technical Support"),
    ("quality", "质量部", "Quality"),
    ("production", "生产部", "Production"),
    ("warehouse", "仓储物流部", "Warehouse & Logistics"),
    ("sales", "销售与经销商管理部", "Sales & Dealer Management"),
    ("audit", "监察审计部", "Audit"),
    ("gm", "总经理室", "General Manager's Office"),
]

TYPES = [
    ("quality", "质量", "Quality", "quality"),
    ("service", "服务", "Service", "cs"),
    ("logistics", "物流", "Logistics", "warehouse"),
    ("delivery", "交付", "Delivery", "sales"),
    ("price", "价格", "Price", "sales"),
    ("installation", "安装", "Installation", "tech"),
    ("other", "其他", "Other", "cs"),
]


def forwards(apps, schema_editor):
    Department = apps.get_model("directory", "Department")
    ComplaintType = apps.get_model("directory", "ComplaintType")
    departments = {}
    for code, name, name_en in DEPARTMENTS:
        departments[code], _ = Department.objects.get_or_create(code=code, defaults={"name": name, "name_en": name_en})
    for order, (code, name, name_en, dept) in enumerate(TYPES):
        ComplaintType.objects.get_or_create(
            code=code,
            defaults={"name": name, "name_en": name_en, "sort_order": order, "default_department": departments[dept]},
        )


class Migration(migrations.Migration):
    dependencies = [("directory", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
