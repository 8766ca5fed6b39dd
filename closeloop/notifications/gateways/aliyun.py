"""阿里云短信 (Dysmsapi 2017-05-25 SendSms), signed with ACS3-HMAC-SHA256 (Alibaba Cloud's signature V3).

https://help.aliyun.com/zh/sdk/product-overview/v3-request-structure-and-signature describes the signature;
the older RPC signature (HMAC-SHA1, `Signature=` in the query) is discontinued for new work there, so only
V3 is implemented. The parameters go in the query string of a POST with an empty body, as the vendor's
examples for RPC-style operations do.

Idempotency: 阿里云 does not deduplicate; `OutId` carries the outbox row's `delivery_key` and comes back in
delivery reports and in QuerySendDetails. Before any attempt after the first (the previous one may have
reached 阿里云 and died before its answer was recorded) the day's records for the number are read and, if
one carries our OutId, the message counts as sent without sending it again.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import logging
import secrets
import urllib.parse
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from closeloop.core.masking import mask_phone
from closeloop.notifications.gateways.conf import AliyunSmsSettings
from closeloop.notifications.gateways.errors import DeliveryError, PermanentDeliveryError
from closeloop.notifications.gateways.templates import SmsMessage, mainland_mobile, sms_template
from closeloop.notifications.gateways.transport import Answer, http_request

log = logging.getLogger(__name__)

ALGORITHM = "ACS3-HMAC-SHA256"
API_VERSION = "2017-05-25"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
CHINA = datetime.timezone(datetime.timedelta(hours=8))  # the vendor's SendDate is a Beijing date
QUERY_PAGE_SIZE = 50
QUERY_MAX_PAGES = 4

# Error codes (https://help.aliyun.com/zh/sms/developer-reference/api-error-codes) that the same request
# would meet again: the template, the signature, the number or the account's set-up is wrong. Anything
# else — flow control (isv.BUSINESS_LIMIT_CONTROL), daily limits, balance, isp.SYSTEM_ERROR, a code not
# listed here — is tried again, at most OUTBOX_MAX_ATTEMPTS times.
PERMANENT_CODES = frozenset(
    {
        "isv.SMS_TEMPLATE_ILLEGAL",
        "isv.SMS_SIGNATURE_ILLEGAL",
        "isv.SMS_SIGN_ILLEGAL",
        "isv.SIGN_STATE_ILLEGAL",
        "isv.SMS_SIGNATURE_SCENE_ILLEGAL",
        "isv.MOBILE_NUMBER_ILLEGAL",
        "isv.MOBILE_COUNT_OVER_LIMIT",
        "isv.TEMPLATE_MISSING_PARAMETERS",
        "isv.TEMPLATE_PARAMS_ILLEGAL",
        "isv.PARAM_LENGTH_LIMIT",
        "isv.PARAM_NOT_SUPPORT_URL",
        "isv.INVALID_PARAMETERS",
        "isv.INVALID_JSON_PARAM",
        "isv.BLACK_KEY_CONTROL_LIMIT",
        "isv.SMS_CONTENT_ILLEGAL",
        "isv.DOMESTIC_NUMBER_NOT_SUPPORTED",
        "isv.EXTEND_CODE_ERROR",
        "isv.DENY_IP_RANGE",
        "isv.ACCOUNT_NOT_EXISTS",
        "isv.PRODUCT_UN_SUBSCRIPT",
        "isv.PRODUCT_UNSUBSCRIBE",
        "isp.RAM_PERMISSION_DENY",
        "InvalidAccessKeyId.NotFound",
        "SignatureDoesNotMatch",
    }
)
# A RAM user allowed SendSms but not QuerySendDetails: the check before a retry is skipped (and said).
QUERY_DENIED_CODES = frozenset({"isp.RAM_PERMISSION_DENY", "Forbidden.RAM", "Forbidden.NoPermission"})


def percent_encode(value: str) -> str:
    """RFC 3986 as the vendor specifies it: only A-Z a-z 0-9 - _ . ~ stay as they are (space is %20)."""
    return urllib.parse.quote(value, safe="-_.~")


def canonical_query(params: dict[str, str]) -> str:
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))


@dataclass(frozen=True)
class Signed:
    canonical_request: str
    string_to_sign: str
    signature: str
    authorization: str


def acs3_sign(
    *,
    method: str,
    path: str,
    query: dict[str, str],
    headers: dict[str, str],
    body: bytes,
    access_key_id: str,
    access_key_secret: str,
) -> Signed:
    """The V3 signature of a request whose `headers` hold host and every x-acs-* header (with
    x-acs-content-sha256). Header names are lower-cased and sorted; values trimmed."""
    signed = {k.lower(): v.strip() for k, v in headers.items() if k.lower().startswith("x-acs-")}
    signed.update({k.lower(): v.strip() for k, v in headers.items() if k.lower() in {"host", "content-type"}})
    names = sorted(signed)
    canonical_headers = "".join(f"{name}:{signed[name]}\n" for name in names)
    signed_headers = ";".join(names)
    canonical_request = "\n".join(
        [
            method,
            path,
            canonical_query(query),
            canonical_headers,
            signed_headers,
            hashlib.sha256(body).hexdigest(),
        ]
    )
    string_to_sign = f"{ALGORITHM}\n{hashlib.sha256(canonical_request.encode('utf-8')).hexdigest()}"
    signature = hmac.new(access_key_secret.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    authorization = f"{ALGORITHM} Credential={access_key_id},SignedHeaders={signed_headers},Signature={signature}"
    return Signed(canonical_request, string_to_sign, signature, authorization)


def _call(conf: AliyunSmsSettings, action: str, params: dict[str, str]) -> tuple[Answer, dict[str, object]]:
    """POST one signed RPC call; returns the answer and its JSON object."""
    host = urllib.parse.urlsplit(conf.endpoint).netloc
    headers = {
        "host": host,
        "x-acs-action": action,
        "x-acs-version": API_VERSION,
        "x-acs-date": datetime.datetime.now(tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "x-acs-signature-nonce": secrets.token_hex(16),
        "x-acs-content-sha256": EMPTY_SHA256,
    }
    signed = acs3_sign(
        method="POST",
        path="/",
        query=params,
        headers=headers,
        body=b"",
        access_key_id=conf.access_key_id,
        access_key_secret=conf.access_key_secret,
    )
    answer = http_request(
        "POST",
        f"{conf.endpoint}/?{canonical_query(params)}",
        headers={**headers, "Authorization": signed.authorization, "Accept": "application/json"},
        body=b"",
    )
    if answer.status >= 500:
        raise DeliveryError(f"阿里云 {action}: HTTP {answer.status}")
    data = answer.json()
    if not isinstance(data, dict):
        raise DeliveryError(f"阿里云 {action}: HTTP {answer.status}, an answer that is not an object")
    return answer, data


def _already_accepted(conf: AliyunSmsSettings, message: SmsMessage, since: datetime.datetime) -> bool:
    """Whether 阿里云 holds a record with our OutId for the number, sent on the row's day or since."""
    days = sorted({since.astimezone(CHINA).date(), timezone.now().astimezone(CHINA).date()})
    for day in days:
        for page in range(1, QUERY_MAX_PAGES + 1):
            params = {
                "PhoneNumber": message.phone,
                "SendDate": day.strftime("%Y%m%d"),
                "PageSize": str(QUERY_PAGE_SIZE),
                "CurrentPage": str(page),
            }
            _answer, data = _call(conf, "QuerySendDetails", params)
            code = str(data.get("Code", ""))
            if code in QUERY_DENIED_CODES:
                log.warning("阿里云 QuerySendDetails refused (%s): a retried SMS may arrive twice", code)
                return False
            if code != "OK":
                raise DeliveryError(f"阿里云 QuerySendDetails: {code}")
            dtos = data.get("SmsSendDetailDTOs") or {}
            records = dtos.get("SmsSendDetailDTO", []) if isinstance(dtos, dict) else []
            if any(isinstance(r, dict) and r.get("OutId") == message.key for r in records):
                return True
            if len(records) < QUERY_PAGE_SIZE:
                break
    return False


class AliyunSms:
    """SMS_BACKEND=aliyun."""

    def __init__(self) -> None:
        if settings.ALIYUN_SMS is None:
            raise PermanentDeliveryError("阿里云 SMS is not configured (ALIYUN_SMS_*)")
        self.conf: AliyunSmsSettings = settings.ALIYUN_SMS

    def send(self, message: SmsMessage) -> str:
        phone = mainland_mobile(message.phone)
        template, values = sms_template(message)
        if message.attempt > 1 and _already_accepted(self.conf, message, message.queued_at or timezone.now()):
            log.info("SMS %s to %s: accepted by 阿里云 at an earlier attempt", message.key, mask_phone(phone))
            return ""
        params = {
            "PhoneNumbers": phone,
            "SignName": self.conf.sign_name,
            "TemplateCode": template.code,
            "OutId": message.key,
        }
        if values:
            params["TemplateParam"] = json.dumps(dict(values), ensure_ascii=False, separators=(",", ":"))
        _answer, data = _call(self.conf, "SendSms", params)
        code = str(data.get("Code", ""))
        if code == "OK":
            return str(data.get("BizId", ""))
        error = f"阿里云 SendSms: {code}: {data.get('Message', '')}"
        raise PermanentDeliveryError(error) if code in PERMANENT_CODES else DeliveryError(error)
