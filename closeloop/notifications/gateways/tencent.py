"""腾讯云短信 (SMS API 2021-01-11 SendSms), signed with TC3-HMAC-SHA256.

https://cloud.tencent.com/document/api/382/52072 describes the signature (the same for every Tencent Cloud
API 3.0 product); https://cloud.tencent.com/document/api/382/55981 the SendSms call.

Idempotency: 腾讯云 does not deduplicate either; `SessionContext` carries the outbox row's `delivery_key`
and is echoed in the answer and in status callbacks. Its status pulls are keyed by SerialNo, not by our
key, so — unlike 阿里云 — a retry cannot ask whether an earlier attempt got through (docs/decisions.md).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import time
import urllib.parse
from dataclasses import dataclass

from django.conf import settings

from closeloop.notifications.gateways.conf import TencentSmsSettings
from closeloop.notifications.gateways.errors import DeliveryError, PermanentDeliveryError
from closeloop.notifications.gateways.templates import SmsMessage, mainland_mobile, sms_template
from closeloop.notifications.gateways.transport import http_request

ALGORITHM = "TC3-HMAC-SHA256"
SERVICE = "sms"
API_VERSION = "2021-01-11"
CONTENT_TYPE = "application/json; charset=utf-8"

# Codes (https://cloud.tencent.com/document/api/382/59177) that the same request meets again: a template,
# signature or number that is wrong, a blocked recipient, keys that do not exist. Frequency limits,
# InternalError, an exhausted package and anything unlisted are tried again (OUTBOX_MAX_ATTEMPTS).
PERMANENT_PREFIXES = (
    "InvalidParameter",
    "MissingParameter",
    "UnauthorizedOperation",
    "UnsupportedOperation",
    "AuthFailure.SignatureFailure",
    "AuthFailure.SecretIdNotFound",
    "AuthFailure.InvalidSecretId",
    "AuthFailure.InvalidAuthorization",
    "AuthFailure.UnauthorizedOperation",
)
PERMANENT_CODES = frozenset(
    {
        "FailedOperation.SignatureIncorrectOrUnapproved",
        "FailedOperation.TemplateIncorrectOrUnapproved",
        "FailedOperation.TemplateParamSetNotMatchApprovedTemplate",
        "FailedOperation.MissingSignature",
        "FailedOperation.MissingTemplateToModify",
        "FailedOperation.PhoneNumberInBlacklist",
        "FailedOperation.PhoneNumberParseFail",
        "FailedOperation.ContainSensitiveWord",
        "FailedOperation.FailResolvePacket",
        "FailedOperation.JsonParseFail",
    }
)


def is_permanent(code: str) -> bool:
    return code in PERMANENT_CODES or code.startswith(PERMANENT_PREFIXES)


@dataclass(frozen=True)
class Signed:
    canonical_request: str
    string_to_sign: str
    signature: str
    authorization: str


def tc3_sign(
    *,
    service: str,
    headers: dict[str, str],
    payload: bytes,
    timestamp: int,
    secret_id: str,
    secret_key: str,
    method: str = "POST",
    query: str = "",
) -> Signed:
    """TC3-HMAC-SHA256 over `headers` (lower-cased, sorted; content-type and host at least)."""
    signed = {k.lower(): v.strip().lower() for k, v in headers.items()}
    names = sorted(signed)
    canonical_request = "\n".join(
        [
            method,
            "/",
            query,
            "".join(f"{name}:{signed[name]}\n" for name in names),
            ";".join(names),
            hashlib.sha256(payload).hexdigest(),
        ]
    )
    date = datetime.datetime.fromtimestamp(timestamp, tz=datetime.UTC).strftime("%Y-%m-%d")
    scope = f"{date}/{service}/tc3_request"
    string_to_sign = "\n".join(
        [ALGORITHM, str(timestamp), scope, hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()]
    )

    def _hmac(key: bytes, text: str) -> bytes:
        return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()

    signing_key = _hmac(_hmac(_hmac(f"TC3{secret_key}".encode(), date), service), "tc3_request")
    signature = hmac.new(signing_key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    authorization = (
        f"{ALGORITHM} Credential={secret_id}/{scope}, SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    return Signed(canonical_request, string_to_sign, signature, authorization)


class TencentSms:
    """SMS_BACKEND=tencent."""

    def __init__(self) -> None:
        if settings.TENCENT_SMS is None:
            raise PermanentDeliveryError("腾讯云 SMS is not configured (TENCENT_SMS_*)")
        self.conf: TencentSmsSettings = settings.TENCENT_SMS

    def send(self, message: SmsMessage) -> str:
        phone = mainland_mobile(message.phone)
        template, values = sms_template(message)
        payload = json.dumps(
            {
                "PhoneNumberSet": [f"+86{phone}"],
                "SmsSdkAppId": self.conf.sdk_app_id,
                "SignName": self.conf.sign_name,
                "TemplateId": template.code,
                "TemplateParamSet": [value for _name, value in values],
                "SessionContext": message.key,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode("utf-8")
        host = urllib.parse.urlsplit(self.conf.endpoint).netloc
        timestamp = int(time.time())
        signed = tc3_sign(
            service=SERVICE,
            headers={"content-type": CONTENT_TYPE, "host": host, "x-tc-action": "SendSms"},
            payload=payload,
            timestamp=timestamp,
            secret_id=self.conf.secret_id,
            secret_key=self.conf.secret_key,
        )
        answer = http_request(
            "POST",
            f"{self.conf.endpoint}/",
            headers={
                "Authorization": signed.authorization,
                "Content-Type": CONTENT_TYPE,
                "Host": host,
                "X-TC-Action": "SendSms",
                "X-TC-Timestamp": str(timestamp),
                "X-TC-Version": API_VERSION,
                "X-TC-Region": self.conf.region,
            },
            body=payload,
        )
        if answer.status >= 500:
            raise DeliveryError(f"腾讯云 SendSms: HTTP {answer.status}")
        data = answer.json()
        response = data.get("Response") if isinstance(data, dict) else None
        if not isinstance(response, dict):
            raise DeliveryError(f"腾讯云 SendSms: HTTP {answer.status}, no Response in the answer")
        error = response.get("Error")
        if isinstance(error, dict):
            raise _error(str(error.get("Code", "")), str(error.get("Message", "")))
        statuses = response.get("SendStatusSet") or []
        status = statuses[0] if statuses and isinstance(statuses[0], dict) else {}
        code = str(status.get("Code", ""))
        if code == "Ok":
            return str(status.get("SerialNo", ""))
        raise _error(code or "no status", str(status.get("Message", "")))


def _error(code: str, text: str) -> DeliveryError:
    error = f"腾讯云 SendSms: {code}: {text}"
    return PermanentDeliveryError(error) if is_permanent(code) else DeliveryError(error)
