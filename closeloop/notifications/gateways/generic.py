"""A generic HTTP SMS gateway (SMS_BACKEND=http) for providers without a module of their own.

The request is described by settings: SMS_HTTP_URL and _METHOD, SMS_HTTP_HEADERS (a JSON object), and
SMS_HTTP_BODY, a JSON document whose strings hold placeholders — {phone}, {text}, {kind}, {key} (the
outbox row's delivery key, the same at every attempt: send it as the gateway's idempotency key),
{template} and our fields ({number}, {url}, …). A string that is exactly "{params}" becomes the template's
variables as a JSON object, exactly "{param_list}" their values as a list. Values are inserted into the
parsed document, so quotes or line breaks in a text cannot break the JSON. Header values take the same
placeholders (e.g. "Idempotency-Key": "{key}").

The answer: HTTP 2xx is accepted when SMS_HTTP_SUCCESS_PATH is unset or names a field holding one of
SMS_HTTP_SUCCESS_VALUES; SMS_HTTP_ID_PATH names the field with the provider's message id. HTTP 4xx
(except 408 and 429) fails the message at once; 5xx, 408, 429, an unreachable gateway or an answer that
does not say "accepted" are tried again.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Mapping
from typing import Any

from django.conf import settings

from closeloop.notifications.gateways.conf import HttpSmsSettings
from closeloop.notifications.gateways.errors import DeliveryError, PermanentDeliveryError
from closeloop.notifications.gateways.templates import SmsMessage, sms_template
from closeloop.notifications.gateways.transport import http_request

PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
RETRY_STATUSES = frozenset({408, 425, 429})


def _fill(value: Any, values: Mapping[str, Any]) -> Any:
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, values) for v in value]
    if not isinstance(value, str):
        return value
    whole = PLACEHOLDER.fullmatch(value)
    if whole and whole.group(1) in {"params", "param_list"}:
        return values[whole.group(1)]

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values or not isinstance(values[name], str):
            raise PermanentDeliveryError(f"SMS_HTTP: unknown placeholder {{{name}}}")
        return values[name]

    return PLACEHOLDER.sub(one, value)


def uses_template(conf: HttpSmsSettings) -> bool:
    text = json.dumps(conf.body) + json.dumps(conf.headers)
    return any(name in text for name in ("{template}", "{params}", "{param_list}"))


def dotted(data: Any, path: str) -> Any:
    """data["a"]["b"][0] for "a.b.0"; None when any step is missing."""
    for step in path.split("."):
        if isinstance(data, dict):
            data = data.get(step)
        elif isinstance(data, list) and step.isdigit() and int(step) < len(data):
            data = data[int(step)]
        else:
            return None
    return data


class HttpSms:
    """SMS_BACKEND=http."""

    def __init__(self) -> None:
        if settings.SMS_HTTP is None:
            raise PermanentDeliveryError("the HTTP SMS gateway is not configured (SMS_HTTP_URL)")
        self.conf: HttpSmsSettings = settings.SMS_HTTP

    def send(self, message: SmsMessage) -> str:
        conf = self.conf
        values: dict[str, Any] = {**message.fields, "phone": message.phone, "kind": message.kind, "key": message.key}
        if uses_template(conf):
            template, pairs = sms_template(message)
            values.update(template=template.code, params=dict(pairs), param_list=[v for _n, v in pairs])
        body = _fill(conf.body, values)
        headers = {name: _fill(value, values) for name, value in conf.headers.items()}
        if conf.form:
            data = urllib.parse.urlencode(body).encode("utf-8")
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
        else:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
        answer = http_request(conf.method, conf.url, headers=headers, body=data)
        if not answer.ok:
            error = f"SMS gateway: HTTP {answer.status}"
            if 400 <= answer.status < 500 and answer.status not in RETRY_STATUSES:
                raise PermanentDeliveryError(error)
            raise DeliveryError(error)
        if not (conf.success_path or conf.id_path):
            return ""
        reply = answer.json()
        if conf.success_path:
            status = dotted(reply, conf.success_path)
            if str(status) not in conf.success_values:
                raise DeliveryError(f"SMS gateway: {conf.success_path} is {status!r}")
        found = dotted(reply, conf.id_path) if conf.id_path else None
        return "" if found is None else str(found)[:100]
