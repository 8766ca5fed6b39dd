"""Default customer messages (acknowledgement, solution, resolution) by SMS and e-mail, in Chinese and
English. Admins edit them in the admin; existing rows are never overwritten."""

from django.db import migrations

SMS_ZH = {
    "acknowledged": "【客诉中心】您的投诉已受理，编号{{ number }}。我们将尽快处理并与您联系。",
    "solution": "【客诉中心】您的投诉{{ number }}处理方案：{{ solution }}{% if compensation %}（补偿：{{ compensation }}）{% endif %}。如有疑问请致电客服热线。",
    "resolved": "【客诉中心】您的投诉{{ number }}已处理完毕，感谢您的耐心。我们将在2个工作日内回访。",
}
SMS_EN = {
    "acknowledged": "[Customer care] We have received your complaint, number {{ number }}. We will handle it and contact you soon.",
    "solution": "[Customer care] Solution for your complaint {{ number }}: {{ solution }}{% if compensation %} (compensation: {{ compensation }}){% endif %}. Questions? Call our hotline.",
    "resolved": "[Customer care] Your complaint {{ number }} has been resolved. Thank you for your patience; we will follow up within 2 working days.",
}
EMAIL_ZH = {
    "acknowledged": (
        "投诉受理通知（{{ number }}）",
        "尊敬的客户：\n\n我们已于{{ received_date }}收到您关于{{ product|default:'我司产品' }}的投诉，编号{{ number }}。"
        "我们将按照服务承诺尽快处理，并及时告知进展。\n\n客户服务中心",
    ),
    "solution": (
        "投诉处理方案（{{ number }}）",
        "尊敬的客户：\n\n关于您{{ received_date }}提出的投诉（编号{{ number }}，产品：{{ product|default:'—' }}），"
        "我们的处理方案如下：\n\n措施：{{ measures }}\n{{ solution }}\n"
        "{% if compensation %}补偿：{{ compensation }}\n{% endif %}"
        "\n相关证据材料见附件。如您对方案有任何疑问，请回复本邮件或致电客服热线。\n\n客户服务中心",
    ),
    "resolved": (
        "投诉处理完毕通知（{{ number }}）",
        "尊敬的客户：\n\n您的投诉（编号{{ number }}）已处理完毕。感谢您的理解与支持，"
        "我们将在2个工作日内回访，了解您对处理结果的满意程度。\n\n客户服务中心",
    ),
}
EMAIL_EN = {
    "acknowledged": (
        "We received your complaint ({{ number }})",
        "Dear customer,\n\nWe received your complaint about {{ product|default:'our product' }} on {{ received_date }}; "
        "its number is {{ number }}. We will handle it as promised and keep you informed.\n\nCustomer care",
    ),
    "solution": (
        "Solution for your complaint ({{ number }})",
        "Dear customer,\n\nFor your complaint {{ number }} of {{ received_date }} (product: {{ product|default:'—' }}) "
        "we will do the following:\n\nMeasures: {{ measures }}\n{{ solution }}\n"
        "{% if compensation %}Compensation: {{ compensation }}\n{% endif %}"
        "\nThe evidence is attached. If you have any question, reply to this e-mail or call our hotline.\n\nCustomer care",
    ),
    "resolved": (
        "Your complaint has been resolved ({{ number }})",
        "Dear customer,\n\nYour complaint {{ number }} has been resolved. Thank you for your patience. "
        "We will call you within 2 working days to ask whether you are satisfied.\n\nCustomer care",
    ),
}


def forwards(apps, schema_editor):
    MessageTemplate = apps.get_model("notifications", "MessageTemplate")
    for code in ("acknowledged", "solution", "resolved"):
        MessageTemplate.objects.get_or_create(
            code=code,
            method="sms",
            defaults={"subject_zh": "", "body_zh": SMS_ZH[code], "subject_en": "", "body_en": SMS_EN[code]},
        )
        MessageTemplate.objects.get_or_create(
            code=code,
            method="email",
            defaults={
                "subject_zh": EMAIL_ZH[code][0],
                "body_zh": EMAIL_ZH[code][1],
                "subject_en": EMAIL_EN[code][0],
                "body_en": EMAIL_EN[code][1],
            },
        )


class Migration(migrations.Migration):
    dependencies = [("notifications", "0002_message_templates")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
