"""企业微信 (WeCom): application messages to one person, and group robots posting into a role's chat.

Application messages (https://developer.work.weixin.qq.com/document/path/90236) need an access token
(https://developer.work.weixin.qq.com/document/path/91039): fetched with the corp id and the
application's secret, kept in the cache shared by all workers until shortly before it expires, and
fetched again when WeCom says it is invalid or expired. The message goes to the person's WeCom userid.

Idempotency: application messages are sent with WeCom's duplicate check on for its longest interval
(4 hours): the same request within it is not delivered twice. Every row's text is different (it links to
the row), so only a retry of the same row is suppressed. Group robots
(https://developer.work.weixin.qq.com/document/path/91770) have no such check.
"""

from __future__ import annotations

import logging
import urllib.parse
from typing import Any

from django.conf import settings
from django.core.cache import cache

from closeloop.notifications.gateways.conf import WeComSettings
from closeloop.notifications.gateways.errors import DeliveryError, PermanentDeliveryError
from closeloop.notifications.gateways.transport import http_request, post_json

log = logging.getLogger(__name__)

DUPLICATE_CHECK_SECONDS = 4 * 3600  # WeCom's maximum
TOKEN_MARGIN_SECONDS = 300  # refreshed this long before WeCom's expiry
TOKEN_INVALID = frozenset({40014, 42001})  # invalid / expired access token: fetch a new one
# Set-up problems an administrator must fix fail the message at once (https://developer.work.weixin.qq.com/
# document/path/90313): bad corp id (40013) or secret (40001, 40091), unknown agent (40056), this server's
# address not among the application's trusted IPs (60020), a userid the application does not reach (40003,
# 81013), a robot webhook that does not exist (93000), an API the application may not use (48002).
# System busy (-1), frequency limits (45009, 45033) and anything else are tried again.
PERMANENT = frozenset({40013, 40001, 40091, 40056, 60020, 40003, 81013, 93000, 48002, 44004})


def _raise_for(errcode: int, errmsg: str, what: str) -> None:
    error = f"WeCom {what}: {errcode} {errmsg}"
    raise PermanentDeliveryError(error) if errcode in PERMANENT else DeliveryError(error)


def _cache_key(conf: WeComSettings) -> str:
    return f"wecom:access_token:{conf.corp_id}:{conf.agent_id}"


def access_token(conf: WeComSettings, *, fresh: bool = False) -> str:
    if not fresh:
        cached = cache.get(_cache_key(conf))
        if cached:
            return str(cached)
    query = urllib.parse.urlencode({"corpid": conf.corp_id, "corpsecret": conf.secret})
    answer = http_request("GET", f"{conf.api_url}/cgi-bin/gettoken?{query}", headers={"Accept": "application/json"})
    if not answer.ok:
        raise DeliveryError(f"WeCom gettoken: HTTP {answer.status}")
    data = answer.json()
    errcode = int(data.get("errcode", -1)) if isinstance(data, dict) else -1
    if errcode != 0 or not data.get("access_token"):
        _raise_for(errcode, str(data.get("errmsg", "")) if isinstance(data, dict) else "", "gettoken")
    token = str(data["access_token"])
    lifetime = int(data.get("expires_in", 7200))
    cache.set(_cache_key(conf), token, timeout=max(60, lifetime - TOKEN_MARGIN_SECONDS))
    return token


def _send_app(conf: WeComSettings, payload: dict[str, Any], token: str) -> dict[str, Any]:
    query = urllib.parse.urlencode({"access_token": token})
    answer = post_json(f"{conf.api_url}/cgi-bin/message/send?{query}", payload)
    if not answer.ok:
        raise DeliveryError(f"WeCom message/send: HTTP {answer.status}")
    data = answer.json()
    if not isinstance(data, dict):
        raise DeliveryError("WeCom message/send: an answer that is not an object")
    return data


def send_app_message(*, userid: str, text: str) -> str:
    """A text message from the application to one member; returns WeCom's msgid."""
    conf: WeComSettings | None = settings.WECOM
    if conf is None:
        raise PermanentDeliveryError("WeCom is not configured (WECOM_CORP_ID, WECOM_AGENT_ID, WECOM_SECRET)")
    if not userid:
        raise PermanentDeliveryError("the recipient has no WeCom userid")
    payload = {
        "touser": userid,
        "msgtype": "text",
        "agentid": conf.agent_id,
        "text": {"content": text},
        "safe": 0,
        "enable_duplicate_check": 1,
        "duplicate_check_interval": DUPLICATE_CHECK_SECONDS,
    }
    data = _send_app(conf, payload, access_token(conf))
    errcode = int(data.get("errcode", -1))
    if errcode in TOKEN_INVALID:
        log.info("WeCom access token refused (%s): fetching a new one", errcode)
        data = _send_app(conf, payload, access_token(conf, fresh=True))
        errcode = int(data.get("errcode", -1))
    if errcode != 0:
        _raise_for(errcode, str(data.get("errmsg", "")), "message/send")
    if data.get("invaliduser"):
        raise PermanentDeliveryError("WeCom message/send: the userid is not a member the application reaches")
    return str(data.get("msgid", ""))


def send_robot_message(*, url: str, text: str) -> str:
    """A text message from a group robot (the webhook address holds its key)."""
    answer = post_json(url, {"msgtype": "text", "text": {"content": text}})
    if not answer.ok:
        raise DeliveryError(f"WeCom robot: HTTP {answer.status}")
    data = answer.json()
    errcode = int(data.get("errcode", -1)) if isinstance(data, dict) else -1
    if errcode != 0:
        _raise_for(errcode, str(data.get("errmsg", "")) if isinstance(data, dict) else "", "robot")
    return ""
