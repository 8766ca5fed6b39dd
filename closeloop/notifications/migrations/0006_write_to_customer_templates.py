"""Templates an agent starts from when writing to a customer from the complaint (issue 15), by e-mail and
SMS, in Chinese and English. Codes start with `write_`; admins edit, add or deactivate them in the admin.
Existing rows are never overwritten. `{survey_url}` (single braces) stays as written until the message is
sent, when the survey link is made for it."""

from django.db import migrations

SIGNATURE_ZH = "\n\n客户服务中心"
SIGNATURE_EN = "\n\nCustomer care"

# code: (SMS zh, SMS en, e-mail subject zh, e-mail body zh, e-mail subject en, e-mail body en)
TEMPLATES = {
    "write_progress": (
        "【客诉中心】{{ customer_name }}您好，您的投诉{{ number }}正在处理中{% if due_date %}，我们将于{{ due_date }}前给您答复{% endif %}。",
        "[Customer care] Dear {{ customer_name }}, your complaint {{ number }} is being handled{% if due_date %}; you will hear from us by {{ due_date }}{% endif %}.",
        "投诉处理进展（{{ number }}）",
        "{{ customer_name }}您好：\n\n您关于{{ product|default:'我司产品' }}的投诉（编号{{ number }}）正在处理中。"
        "{% if due_date %}我们将于{{ due_date }}前给您答复。{% endif %}" + SIGNATURE_ZH,
        "Progress of your complaint ({{ number }})",
        "Dear {{ customer_name }},\n\nYour complaint {{ number }} about {{ product|default:'our product' }} is being handled."
        "{% if due_date %} You will hear from us by {{ due_date }}.{% endif %}" + SIGNATURE_EN,
    ),
    "write_need_info": (
        "【客诉中心】{{ customer_name }}您好，为处理您的投诉{{ number }}，请补充：",
        "[Customer care] Dear {{ customer_name }}, to handle your complaint {{ number }} we need: ",
        "请补充投诉资料（{{ number }}）",
        "{{ customer_name }}您好：\n\n为尽快处理您关于{{ product|default:'我司产品' }}的投诉（编号{{ number }}），"
        "请回复本邮件补充以下资料：\n\n- \n\n谢谢您的配合。" + SIGNATURE_ZH,
        "Information needed for your complaint ({{ number }})",
        "Dear {{ customer_name }},\n\nTo handle your complaint {{ number }} about {{ product|default:'our product' }}, "
        "please reply to this e-mail with:\n\n- \n\nThank you." + SIGNATURE_EN,
    ),
    "write_missed_call": (
        "【客诉中心】{{ customer_name }}您好，我们致电您未能接通，关于投诉{{ number }}，请方便时回电客服热线。",
        "[Customer care] Dear {{ customer_name }}, we could not reach you by phone about complaint {{ number }}. Please call our hotline when convenient.",
        "我们未能联系到您（{{ number }}）",
        "{{ customer_name }}您好：\n\n关于您的投诉（编号{{ number }}），我们致电您未能接通。"
        "请在方便时回电客服热线，或直接回复本邮件。" + SIGNATURE_ZH,
        "We could not reach you ({{ number }})",
        "Dear {{ customer_name }},\n\nWe tried to call you about your complaint {{ number }} but could not reach you. "
        "Please call our hotline when convenient, or reply to this e-mail." + SIGNATURE_EN,
    ),
    "write_survey": (
        "【客诉中心】{{ customer_name }}您好，您的投诉{{ number }}已处理，请点击评价：{survey_url}",
        "[Customer care] Dear {{ customer_name }}, your complaint {{ number }} has been handled. Please rate us: {survey_url}",
        "请评价我们的服务（{{ number }}）",
        "{{ customer_name }}您好：\n\n您的投诉（编号{{ number }}）已处理完毕。请通过以下链接告诉我们问题是否解决、"
        "您是否满意：\n\n{survey_url}" + SIGNATURE_ZH,
        "How did we do? ({{ number }})",
        "Dear {{ customer_name }},\n\nYour complaint {{ number }} has been handled. Please tell us whether the problem "
        "is solved and how satisfied you are:\n\n{survey_url}" + SIGNATURE_EN,
    ),
}


def forwards(apps, schema_editor):
    MessageTemplate = apps.get_model("notifications", "MessageTemplate")
    for code, (sms_zh, sms_en, subject_zh, body_zh, subject_en, body_en) in TEMPLATES.items():
        MessageTemplate.objects.get_or_create(
            code=code, method="sms", defaults={"subject_zh": "", "body_zh": sms_zh, "subject_en": "", "body_en": sms_en}
        )
        MessageTemplate.objects.get_or_create(
            code=code,
            method="email",
            defaults={"subject_zh": subject_zh, "body_zh": body_zh, "subject_en": subject_en, "body_en": body_en},
        )


class Migration(migrations.Migration):
    dependencies = [("notifications", "0005_gateways")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
