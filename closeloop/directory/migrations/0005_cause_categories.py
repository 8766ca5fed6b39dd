"""Default root-cause categories: 人、机、料、法、环、测 (5M1E) with the sub-causes an 8D analysis uses;
admins edit, add or deactivate them later."""

from django.db import migrations

CATEGORIES = [
    (
        "man",
        "人",
        "Man (people)",
        [
            ("training", "培训不足", "Insufficient training"),
            ("operation", "操作失误", "Operating error"),
            ("care", "责任心不足", "Lack of care"),
            ("communication", "沟通不到位", "Poor communication"),
        ],
    ),
    (
        "machine",
        "机",
        "Machine",
        [
            ("failure", "设备故障", "Equipment failure"),
            ("tooling", "工装夹具问题", "Tooling and fixtures"),
            ("precision", "设备精度不足", "Insufficient precision"),
            ("maintenance", "维护保养不到位", "Poor maintenance"),
        ],
    ),
    (
        "material",
        "料",
        "Material",
        [
            ("incoming", "来料不良", "Defective incoming material"),
            ("supplier", "供应商质量问题", "Supplier quality"),
            ("mixup", "错料混料", "Wrong or mixed material"),
            ("packaging", "包装材料问题", "Packaging material"),
        ],
    ),
    (
        "method",
        "法",
        "Method",
        [
            ("standard", "作业标准缺失", "Missing work standard"),
            ("design", "设计或工艺缺陷", "Design or process defect"),
            ("procedure", "流程不合理", "Unsound procedure"),
            ("instructions", "说明书不清", "Unclear instructions"),
        ],
    ),
    (
        "environment",
        "环",
        "Environment",
        [
            ("transport", "运输条件", "Transport conditions"),
            ("storage", "储存条件", "Storage conditions"),
            ("use", "使用环境", "Conditions of use"),
            ("site", "安装现场条件", "Installation site"),
        ],
    ),
    (
        "measurement",
        "测",
        "Measurement",
        [
            ("missed", "检验漏检", "Missed in inspection"),
            ("gauge", "测量器具误差", "Gauge error"),
            ("criteria", "检验标准不当", "Inadequate inspection criteria"),
            ("sampling", "抽样不足", "Insufficient sampling"),
        ],
    ),
]


def forwards(apps, schema_editor):
    CauseCategory = apps.get_model("directory", "CauseCategory")
    for order, (code, name, name_en, children) in enumerate(CATEGORIES):
        parent, _ = CauseCategory.objects.get_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "sort_order": order}
        )
        for child_order, (child_code, child_name, child_en) in enumerate(children):
            CauseCategory.objects.get_or_create(
                code=f"{code}-{child_code}",
                defaults={"name": child_name, "name_en": child_en, "sort_order": child_order, "parent": parent},
            )


class Migration(migrations.Migration):
    dependencies = [("directory", "0004_causecategory")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
