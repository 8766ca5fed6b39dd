"""钉钉 (DingTalk) custom group robot, with the "加签" safeguard.

https://open.dingtalk.com/document/robots/customize-robot-security-settings: the string to sign is the
timestamp in milliseconds, a line feed and the robot's secret; the signature is HMAC-SHA256 of it keyed
with the secret, Base64-encoded, then URL-encoded; both go into the webhook's query as `timestamp` and
`sign`. DingTalk refuses a timestamp more than an hour away from its clock.

Idempotency: none on DingTalk's side; a retry of a post whose answer was lost posts it again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.parse

from closeloop.notifications.gateways.conf import DingTalkRobot
from closeloop.notifications.gateways.errors import DeliveryError, PermanentDeliveryError
from closeloop.notifications.gateways.transport import post_json

# https://open.dingtalk.com/document/orgapp/custom-robot-access (error codes): 310000 — signature,
# keyword or IP safeguard not met; 300001 / 400013 — no such robot (token). Set-up problems, failed at
# once. Too many messages (130101, 20 a minute per robot) and anything else are tried again.
PERMANENT = frozenset({310000, 300001, 400013, 400101, 400102})


def string_to_sign(timestamp_ms: int, secret: str) -> str:
    return f"{timestamp_ms}\n{secret}"


def sign(timestamp_ms: int, secret: str) -> str:
    """The `sign` query value, URL-encoded as DingTalk's sample does (quote_plus of the Base64)."""
    digest = hmac.new(secret.encode("utf-8"), string_to_sign(timestamp_ms, secret).encode("utf-8"), hashlib.sha256)
    return urllib.parse.quote_plus(base64.b64encode(digest.digest()))


def signed_url(robot: DingTalkRobot, *, timestamp_ms: int | None = None) -> str:
    if not robot.secret:
        return robot.url
    timestamp_ms = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
    separator = "&" if "?" in robot.url else "?"
    return f"{robot.url}{separator}timestamp={timestamp_ms}&sign={sign(timestamp_ms, robot.secret)}"


def send_robot_message(*, robot: DingTalkRobot, text: str) -> str:
    answer = post_json(signed_url(robot), {"msgtype": "text", "text": {"content": text}})
    if not answer.ok:
        raise DeliveryError(f"DingTalk robot: HTTP {answer.status}")
    data = answer.json()
    errcode = int(data.get("errcode", -1)) if isinstance(data, dict) else -1
    if errcode != 0:
        error = f"DingTalk robot: {errcode} {data.get('errmsg', '') if isinstance(data, dict) else ''}"
        raise PermanentDeliveryError(error) if errcode in PERMANENT else DeliveryError(error)
    return ""
