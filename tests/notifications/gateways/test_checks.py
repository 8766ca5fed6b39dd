"""`closeloop check` names a gateway setting that cannot work: a role misspelt in a channel or robot
mapping, an SMS kind without the vendor template 阿里云 and 腾讯云 require; `--deploy` warns while SMS
only go to the log."""

from __future__ import annotations

from typing import Any

from closeloop.notifications import checks
from closeloop.notifications.gateways.conf import SMS_BACKENDS, HttpSmsSettings, SmsTemplate
from closeloop.notifications.gateways.templates import SMS_KINDS


def _ids(messages: list[Any]) -> list[str]:
    return [m.id for m in messages]


def test_a_role_that_does_not_exist_is_an_error(settings: Any) -> None:
    settings.STAFF_CHANNEL_BY_ROLE = {"quality": "wecom", "qualty": "email"}
    settings.WECOM_ROBOTS = {"quality": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"}
    settings.DINGTALK_ROBOTS = {}
    [error] = checks.check_roles_named(None)
    assert error.id == "closeloop.E010" and "STAFF_CHANNEL_BY_ROLE names qualty" in error.msg


def test_template_gateways_need_a_template_for_every_sms_kind(settings: Any) -> None:
    settings.SMS_BACKEND = SMS_BACKENDS["tencent"]
    settings.SMS_TEMPLATES = {"survey": SmsTemplate("1110", (("1", "url"),))}
    [error] = checks.check_sms_templates(None)
    assert error.id == "closeloop.E011"
    assert "customer_acknowledged, customer_solution, customer_resolved" in error.msg

    settings.SMS_TEMPLATES = {kind: SmsTemplate("1110") for kind in SMS_KINDS}
    assert checks.check_sms_templates(None) == []
    # A generic gateway that sends free text needs none; one that sends {template} does.
    settings.SMS_BACKEND = SMS_BACKENDS["http"]
    settings.SMS_TEMPLATES = {}
    settings.SMS_HTTP = HttpSmsSettings(url="https://sms.example.com", body={"to": "{phone}", "text": "{text}"})
    assert checks.check_sms_templates(None) == []
    settings.SMS_HTTP = HttpSmsSettings(url="https://sms.example.com", body={"to": "{phone}", "tpl": "{template}"})
    assert _ids(checks.check_sms_templates(None)) == ["closeloop.E011"]


def test_deploy_warns_while_sms_only_go_to_the_log(settings: Any) -> None:
    settings.SMS_BACKEND = SMS_BACKENDS["console"]
    assert _ids(checks.check_sms_sent(None)) == ["closeloop.W010"]
    settings.SMS_BACKEND = SMS_BACKENDS["aliyun"]
    assert checks.check_sms_sent(None) == []
