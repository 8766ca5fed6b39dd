"""Gateway settings, read once from the environment by closeloop/settings.py.

A gateway chosen without the variables it needs, or given a malformed one, stops the start with a message
naming the variable (never its value: most are secrets). Endpoints are settings so that a test, or a
company proxy, can stand in for the vendor; they must be https:// unless they are on this machine.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from closeloop.env import ImproperEnvironment, env_int, env_json, env_list, env_str

SMS_BACKENDS = {
    "console": "closeloop.notifications.backends.ConsoleSmsBackend",
    "aliyun": "closeloop.notifications.gateways.aliyun.AliyunSms",
    "tencent": "closeloop.notifications.gateways.tencent.TencentSms",
    "http": "closeloop.notifications.gateways.generic.HttpSms",
}
# What a vendor template's variables can be filled with (closeloop/notifications/gateways/templates.py):
# only what the customer already knows, as in the customer message templates.
SMS_FIELDS = ("number", "product", "received_date", "url", "subject", "text")
# closeloop.notifications.models.StaffChannel's values (models cannot be imported while settings load).
STAFF_CHANNELS = ("in_app", "email", "wecom", "wecom_robot", "dingtalk_robot")
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class SmsTemplate:
    code: str  # 阿里云 TemplateCode, 腾讯云 TemplateId, `{template}` for the generic gateway
    # (the vendor's variable name, our field) in the template's order: 腾讯云's parameters are positional.
    params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class AliyunSmsSettings:
    access_key_id: str
    access_key_secret: str = field(repr=False)
    sign_name: str
    endpoint: str


@dataclass(frozen=True)
class TencentSmsSettings:
    secret_id: str
    secret_key: str = field(repr=False)
    sdk_app_id: str
    sign_name: str
    region: str
    endpoint: str


@dataclass(frozen=True)
class HttpSmsSettings:
    url: str
    method: str = "POST"
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    body: Any = None  # a JSON document whose strings may hold {placeholders}
    form: bool = False  # send `body` (an object) form-encoded instead of as JSON
    id_path: str = ""  # dotted path of the message id in the JSON answer, e.g. "data.id"
    success_path: str = ""  # dotted path of a status field in the answer …
    success_values: tuple[str, ...] = ()  # … and the values that mean "accepted"


@dataclass(frozen=True)
class WeComSettings:
    corp_id: str
    agent_id: int
    secret: str = field(repr=False)
    api_url: str = "https://qyapi.weixin.qq.com"


@dataclass(frozen=True)
class DingTalkRobot:
    url: str = field(repr=False)  # holds the robot's access_token
    secret: str = field(default="", repr=False)  # "加签" (SEC…); empty when the robot uses another safeguard


def _checked_endpoint(name: str, value: str) -> str:
    parts = urllib.parse.urlsplit(value.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ImproperEnvironment(f"{name} is not an http(s) address")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK:
        raise ImproperEnvironment(f"{name} must be an https:// address (plain http only to this machine)")
    return value.strip()


def _endpoint(name: str, value: str | None, default: str) -> str:
    return _checked_endpoint(name, value or default).rstrip("/")


def _require(backend: str, values: dict[str, str | None]) -> None:
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise ImproperEnvironment(f"SMS_BACKEND={backend} needs {', '.join(missing)}")


def sms_backend_from_env() -> str:
    """The SMS backend class: one of SMS_BACKENDS by name, or a dotted path to a class of one's own."""
    value = (env_str("SMS_BACKEND", "console") or "console").strip()
    if value in SMS_BACKENDS:
        return SMS_BACKENDS[value]
    if "." not in value:
        raise ImproperEnvironment(f"SMS_BACKEND={value!r} is none of {', '.join(SMS_BACKENDS)} nor a class path")
    return value


def sms_templates_from_env() -> dict[str, SmsTemplate]:
    """SMS_TEMPLATES: {"<message kind>": {"template": "<code>", "params": ["number", …] or {"var": "number"}}}."""
    raw = env_json("SMS_TEMPLATES", {})
    if not isinstance(raw, dict):
        raise ImproperEnvironment('SMS_TEMPLATES must be a JSON object: {"<kind>": {"template": …, "params": …}}')
    templates = {}
    for kind, entry in raw.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("template"), str) or not entry["template"]:
            raise ImproperEnvironment(f'SMS_TEMPLATES["{kind}"] needs a "template" (the vendor\'s template code)')
        params = entry.get("params", [])
        pairs = list(params.items()) if isinstance(params, dict) else [(p, p) for p in params if isinstance(p, str)]
        if not isinstance(params, list | dict) or len(pairs) != len(params):
            raise ImproperEnvironment(f'SMS_TEMPLATES["{kind}"]["params"] must be a list of names or an object')
        unknown = sorted({ours for _name, ours in pairs if ours not in SMS_FIELDS})
        if unknown:
            raise ImproperEnvironment(
                f'SMS_TEMPLATES["{kind}"] uses {", ".join(map(str, unknown))}; the fields are {", ".join(SMS_FIELDS)}'
            )
        templates[str(kind)] = SmsTemplate(code=entry["template"], params=tuple((str(n), o) for n, o in pairs))
    return templates


def aliyun_sms_from_env(*, required: bool) -> AliyunSmsSettings | None:
    values = {
        "ALIYUN_SMS_ACCESS_KEY_ID": env_str("ALIYUN_SMS_ACCESS_KEY_ID"),
        "ALIYUN_SMS_ACCESS_KEY_SECRET": env_str("ALIYUN_SMS_ACCESS_KEY_SECRET"),
        "ALIYUN_SMS_SIGN_NAME": env_str("ALIYUN_SMS_SIGN_NAME"),
    }
    if not required and not any(values.values()):
        return None
    _require("aliyun", values)
    return AliyunSmsSettings(
        access_key_id=values["ALIYUN_SMS_ACCESS_KEY_ID"] or "",
        access_key_secret=values["ALIYUN_SMS_ACCESS_KEY_SECRET"] or "",
        sign_name=values["ALIYUN_SMS_SIGN_NAME"] or "",
        endpoint=_endpoint("ALIYUN_SMS_ENDPOINT", env_str("ALIYUN_SMS_ENDPOINT"), "https://dysmsapi.aliyuncs.com"),
    )


def tencent_sms_from_env(*, required: bool) -> TencentSmsSettings | None:
    values = {
        "TENCENT_SMS_SECRET_ID": env_str("TENCENT_SMS_SECRET_ID"),
        "TENCENT_SMS_SECRET_KEY": env_str("TENCENT_SMS_SECRET_KEY"),
        "TENCENT_SMS_SDK_APP_ID": env_str("TENCENT_SMS_SDK_APP_ID"),
        "TENCENT_SMS_SIGN_NAME": env_str("TENCENT_SMS_SIGN_NAME"),
    }
    if not required and not any(values.values()):
        return None
    _require("tencent", values)
    return TencentSmsSettings(
        secret_id=values["TENCENT_SMS_SECRET_ID"] or "",
        secret_key=values["TENCENT_SMS_SECRET_KEY"] or "",
        sdk_app_id=values["TENCENT_SMS_SDK_APP_ID"] or "",
        sign_name=values["TENCENT_SMS_SIGN_NAME"] or "",
        region=env_str("TENCENT_SMS_REGION", "ap-guangzhou") or "ap-guangzhou",
        endpoint=_endpoint("TENCENT_SMS_ENDPOINT", env_str("TENCENT_SMS_ENDPOINT"), "https://sms.tencentcloudapi.com"),
    )


def http_sms_from_env(*, required: bool) -> HttpSmsSettings | None:
    url = env_str("SMS_HTTP_URL")
    if not url:
        if required:
            _require("http", {"SMS_HTTP_URL": url})
        return None
    headers = env_json("SMS_HTTP_HEADERS", {})
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise ImproperEnvironment('SMS_HTTP_HEADERS must be a JSON object of strings, e.g. {"Authorization": "…"}')
    body_format = (env_str("SMS_HTTP_FORMAT", "json") or "json").lower()
    if body_format not in {"json", "form"}:
        raise ImproperEnvironment("SMS_HTTP_FORMAT must be json or form")
    body = env_json("SMS_HTTP_BODY", {"phone": "{phone}", "text": "{text}", "key": "{key}"})
    if body_format == "form" and not (isinstance(body, dict) and all(isinstance(v, str) for v in body.values())):
        raise ImproperEnvironment("SMS_HTTP_BODY must be a JSON object of strings when SMS_HTTP_FORMAT=form")
    method = (env_str("SMS_HTTP_METHOD", "POST") or "POST").upper()
    if method not in {"POST", "PUT"}:
        raise ImproperEnvironment("SMS_HTTP_METHOD must be POST or PUT")
    return HttpSmsSettings(
        url=_checked_endpoint("SMS_HTTP_URL", url),
        method=method,
        headers={str(k): v for k, v in headers.items()},
        body=body,
        form=body_format == "form",
        id_path=env_str("SMS_HTTP_ID_PATH", "") or "",
        success_path=env_str("SMS_HTTP_SUCCESS_PATH", "") or "",
        success_values=tuple(env_list("SMS_HTTP_SUCCESS_VALUES", [])),
    )


def wecom_from_env() -> WeComSettings | None:
    values = {
        "WECOM_CORP_ID": env_str("WECOM_CORP_ID"),
        "WECOM_AGENT_ID": env_str("WECOM_AGENT_ID"),
        "WECOM_SECRET": env_str("WECOM_SECRET"),
    }
    if not any(values.values()):
        return None
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise ImproperEnvironment(f"WeCom application messages need {', '.join(missing)} as well")
    return WeComSettings(
        corp_id=values["WECOM_CORP_ID"] or "",
        agent_id=env_int("WECOM_AGENT_ID", 0),
        secret=values["WECOM_SECRET"] or "",
        api_url=_endpoint("WECOM_API_URL", env_str("WECOM_API_URL"), "https://qyapi.weixin.qq.com"),
    )


def wecom_robots_from_env() -> dict[str, str]:
    """WECOM_ROBOTS: {"<role>": "<the group robot's webhook address>"}."""
    raw = env_json("WECOM_ROBOTS", {})
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise ImproperEnvironment('WECOM_ROBOTS must be a JSON object {"<role>": "<webhook address>"}')
    return {str(role): _checked_endpoint(f'WECOM_ROBOTS["{role}"]', url) for role, url in raw.items()}


def dingtalk_robots_from_env() -> dict[str, DingTalkRobot]:
    """DINGTALK_ROBOTS: {"<role>": {"url": "<webhook address>", "secret": "SEC…"}}."""
    raw = env_json("DINGTALK_ROBOTS", {})
    if not isinstance(raw, dict):
        raise ImproperEnvironment('DINGTALK_ROBOTS must be a JSON object {"<role>": {"url": …, "secret": …}}')
    robots = {}
    for role, entry in raw.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
            raise ImproperEnvironment(f'DINGTALK_ROBOTS["{role}"] needs a "url"')
        secret = entry.get("secret", "")
        if not isinstance(secret, str):
            raise ImproperEnvironment(f'DINGTALK_ROBOTS["{role}"]["secret"] must be a string')
        robots[str(role)] = DingTalkRobot(
            url=_checked_endpoint(f'DINGTALK_ROBOTS["{role}"]', entry["url"]), secret=secret
        )
    return robots


def staff_channel_default_from_env() -> str:
    value = (env_str("STAFF_CHANNEL_DEFAULT", "email") or "email").strip()
    if value not in STAFF_CHANNELS:
        raise ImproperEnvironment(f"STAFF_CHANNEL_DEFAULT={value!r} is none of {', '.join(STAFF_CHANNELS)}")
    return value


def staff_channel_by_role_from_env() -> dict[str, str]:
    """STAFF_CHANNEL_BY_ROLE: "quality=dingtalk_robot,dept_manager=wecom" — the first listed role a person
    holds decides their channel."""
    mapping: dict[str, str] = {}
    for item in env_list("STAFF_CHANNEL_BY_ROLE", []):
        role, _sep, channel = (part.strip() for part in item.partition("="))
        if not role or channel not in STAFF_CHANNELS:
            raise ImproperEnvironment(
                f"STAFF_CHANNEL_BY_ROLE: {item!r} is not <role>=<channel> with a channel of {', '.join(STAFF_CHANNELS)}"
            )
        mapping.setdefault(role, channel)
    return mapping
