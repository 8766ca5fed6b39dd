"""SMS through 阿里云, 腾讯云 and a generic HTTP gateway, each played by a real HTTP server on 127.0.0.1 that
checks the request's signature by recomputing it from what it received (as the vendor does) and answers
with the vendor's documented success or error JSON. What the outbox then does: the provider's message id
stored, permanent errors failed at once, the others retried, and no second SMS after a worker died
between 阿里云 accepting the message and the row being marked sent."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import re
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from closeloop.complaints.models import Complaint, Priority
from closeloop.complaints.services import complaint_transition
from closeloop.env import ImproperEnvironment
from closeloop.notifications.gateways.conf import (
    SMS_BACKENDS,
    AliyunSmsSettings,
    HttpSmsSettings,
    TencentSmsSettings,
    aliyun_sms_from_env,
    http_sms_from_env,
    sms_backend_from_env,
    sms_templates_from_env,
)
from closeloop.notifications.models import Method, Notification, State
from closeloop.notifications.services import outbox_deliver, outbox_recover
from tests.notifications.gateways.conftest import GatewayServer, Received

pytestmark = pytest.mark.django_db

ALIYUN_SECRET = "aliyun-test-secret"
TENCENT_SECRET = "tencent-test-secret"


@pytest.fixture
def sms_row(make_complaint: Callable[..., Complaint], agent: Any) -> Notification:
    """A normal-priority complaint acknowledged: its customer is told by SMS (domain rule 6)."""
    complaint = make_complaint(priority=Priority.NORMAL, phone="13912345678")
    complaint_transition(complaint=complaint, action="acknowledge", actor=agent, via="desk")
    return Notification.objects.get(complaint=complaint, method=Method.SMS)


@pytest.fixture
def templates(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "SMS_TEMPLATES",
        json.dumps(
            {
                "customer_acknowledged": {"template": "SMS_154950909", "params": {"code": "number"}},
                "survey": {"template": "SMS_154950910", "params": ["number", "url"]},
            }
        ),
    )
    settings.SMS_TEMPLATES = sms_templates_from_env()


def _deliver() -> dict[str, int]:
    return outbox_deliver(now=timezone.now() + datetime.timedelta(hours=2))


# --- 阿里云 -----------------------------------------------------------------------------------------


def aliyun_signature_ok(request: Received) -> bool:
    """What 阿里云 checks (V3): the canonical request rebuilt from the request as received."""
    match = re.fullmatch(
        r"ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]{64})",
        request.headers.get("authorization", ""),
    )
    if not match or match.group(1) != "LTAI-test":
        return False
    names = match.group(2).split(";")
    if names != sorted(names) or not {"host", "x-acs-action", "x-acs-date", "x-acs-signature-nonce"} <= set(names):
        return False
    body_hash = hashlib.sha256(request.body).hexdigest()
    if request.headers.get("x-acs-content-sha256") != body_hash:
        return False
    raw_query = urllib.parse.urlsplit(request.path).query
    pairs = sorted(urllib.parse.parse_qsl(raw_query, keep_blank_values=True))
    query = "&".join(f"{urllib.parse.quote(k, safe='~')}={urllib.parse.quote(v, safe='~')}" for k, v in pairs)
    headers = "".join(f"{name}:{request.headers[name].strip()}\n" for name in names)
    canonical = "\n".join([request.method, "/", query, headers, ";".join(names), body_hash])
    to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
    expected = hmac.new(ALIYUN_SECRET.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, match.group(3))


class FakeAliyun:
    """Dysmsapi as its documentation shows it: SendSms and QuerySendDetails."""

    def __init__(self, server: GatewayServer, send_code: str = "OK") -> None:
        self.send_code = send_code
        self.accepted: list[dict[str, str]] = []
        server.respond = self

    def __call__(self, request: Received) -> tuple[int, Any]:
        if not aliyun_signature_ok(request):
            return 400, {"Code": "SignatureDoesNotMatch", "Message": "Specified signature is not matched."}
        action = request.headers["x-acs-action"]
        if action == "SendSms":
            if self.send_code != "OK":
                return 200, {"Code": self.send_code, "Message": "refused", "RequestId": "R-1"}
            self.accepted.append(request.query)
            # https://help.aliyun.com/zh/sms/developer-reference/api-dysmsapi-2017-05-25-sendsms, 返回示例
            return 200, {
                "Code": "OK",
                "Message": "OK",
                "BizId": f"9006197469364984{len(self.accepted):03d}",
                "RequestId": "F655A8D5-B967-440B-8683-DAD6FF8DE990",
            }
        if action == "QuerySendDetails":
            records = [
                {"OutId": q.get("OutId", ""), "SendStatus": 3, "PhoneNum": q["PhoneNumbers"], "ErrCode": "DELIVERED"}
                for q in self.accepted
                if q["PhoneNumbers"] == request.query["PhoneNumber"]
            ]
            return 200, {
                "Code": "OK",
                "Message": "OK",
                "TotalCount": len(records),
                "SmsSendDetailDTOs": {"SmsSendDetailDTO": records},
                "RequestId": "819BE656-D2E0-4858-8B21-B2E477085",
            }
        return 404, {"Code": "InvalidAction.NotFound"}


@pytest.fixture
def aliyun(settings: Any, gateway_server: GatewayServer, templates: None) -> GatewayServer:
    settings.SMS_BACKEND = SMS_BACKENDS["aliyun"]
    settings.ALIYUN_SMS = AliyunSmsSettings(
        access_key_id="LTAI-test", access_key_secret=ALIYUN_SECRET, sign_name="客诉中心", endpoint=gateway_server.url
    )
    return gateway_server


def test_aliyun_sends_the_template_with_our_key_and_stores_the_bizid(
    aliyun: GatewayServer, sms_row: Notification
) -> None:
    vendor = FakeAliyun(aliyun)
    assert _deliver()["sent"] == 1

    [request] = aliyun.received
    assert request.method == "POST" and request.body == b""
    assert request.headers["x-acs-action"] == "SendSms" and request.headers["x-acs-version"] == "2017-05-25"
    assert request.query == {
        "PhoneNumbers": "13912345678",
        "SignName": "客诉中心",
        "TemplateCode": "SMS_154950909",
        "TemplateParam": json.dumps({"code": sms_row.complaint.number}, separators=(",", ":")),
        "OutId": f"closeloop-notification-{sms_row.pk}",
    }
    sms_row.refresh_from_db()
    assert (sms_row.state, sms_row.provider_message_id) == (State.SENT, "9006197469364984001")
    assert len(vendor.accepted) == 1


def test_aliyun_refuses_a_wrong_signature_and_the_message_fails(
    aliyun: GatewayServer, sms_row: Notification, settings: Any
) -> None:
    FakeAliyun(aliyun)
    settings.ALIYUN_SMS = AliyunSmsSettings(
        access_key_id="LTAI-test", access_key_secret="not-the-secret", sign_name="客诉中心", endpoint=aliyun.url
    )
    assert _deliver()["failed"] == 1
    sms_row.refresh_from_db()
    assert sms_row.state == State.FAILED and "SignatureDoesNotMatch" in sms_row.last_error


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        ("isv.SMS_TEMPLATE_ILLEGAL", State.FAILED),  # the template is not approved: again would not help
        ("isv.MOBILE_NUMBER_ILLEGAL", State.FAILED),
        ("isv.BUSINESS_LIMIT_CONTROL", State.PENDING),  # flow control: later
        ("isv.DAY_LIMIT_CONTROL", State.PENDING),
        ("isp.SYSTEM_ERROR", State.PENDING),
    ],
)
def test_aliyun_error_codes_fail_or_retry(
    aliyun: GatewayServer, sms_row: Notification, code: str, outcome: str
) -> None:
    FakeAliyun(aliyun, send_code=code)
    _deliver()
    sms_row.refresh_from_db()
    assert sms_row.state == outcome and code in sms_row.last_error


def test_aliyun_no_second_sms_after_a_worker_died_once_it_was_accepted(
    aliyun: GatewayServer, sms_row: Notification
) -> None:
    """The worker sent, 阿里云 accepted, the worker died before marking the row: the recovery sweep puts
    the row back, and the next attempt finds our OutId in QuerySendDetails instead of sending again."""
    vendor = FakeAliyun(aliyun)
    original = Notification.objects.filter(pk=sms_row.pk)
    # The first attempt, as far as 阿里云 saw it; then the worker is gone with the row still `sending`.
    from closeloop.notifications.backends import deliver

    sms_row.attempts = 1
    deliver(sms_row)
    original.update(state=State.SENDING, attempts=1, claimed_at=timezone.now() - datetime.timedelta(hours=1))
    assert outbox_recover() == 1

    assert _deliver()["sent"] == 1

    assert len(vendor.accepted) == 1
    assert [r.headers["x-acs-action"] for r in aliyun.received] == ["SendSms", "QuerySendDetails"]
    query = aliyun.received[1].query
    assert query["PhoneNumber"] == "13912345678"
    assert query["SendDate"] == timezone.now().astimezone(datetime.timezone(datetime.timedelta(hours=8))).strftime(
        "%Y%m%d"
    )
    sms_row.refresh_from_db()
    assert (sms_row.state, sms_row.attempts) == (State.SENT, 2)


def test_aliyun_no_second_sms_when_the_answer_was_lost(
    aliyun: GatewayServer, sms_row: Notification, settings: Any
) -> None:
    """阿里云 accepted, but its answer came after our timeout: the next attempt asks before sending."""
    settings.GATEWAY_TIMEOUT_SECONDS = 1
    vendor = FakeAliyun(aliyun)

    def slow_first_answer(request: Received) -> tuple[int, Any]:
        answer = vendor(request)
        if request.headers["x-acs-action"] == "SendSms" and len(vendor.accepted) == 1:
            time.sleep(1.5)
        return answer

    aliyun.respond = slow_first_answer
    assert _deliver()["retry"] == 1
    sms_row.refresh_from_db()
    assert sms_row.state == State.PENDING and "timed out" in sms_row.last_error

    assert _deliver()["sent"] == 1
    assert len(vendor.accepted) == 1
    assert [r.headers["x-acs-action"] for r in aliyun.received] == ["SendSms", "QuerySendDetails"]


def test_aliyun_a_retry_sends_when_the_first_attempt_never_arrived(
    aliyun: GatewayServer, sms_row: Notification
) -> None:
    vendor = FakeAliyun(aliyun, send_code="isp.SYSTEM_ERROR")
    _deliver()
    vendor.send_code = "OK"
    assert _deliver()["sent"] == 1
    # The second attempt asks first, finds nothing with our OutId, and sends.
    assert [r.headers["x-acs-action"] for r in aliyun.received] == ["SendSms", "QuerySendDetails", "SendSms"]
    assert len(vendor.accepted) == 1


def test_a_kind_without_a_template_or_a_landline_fails_at_once(
    aliyun: GatewayServer, sms_row: Notification, settings: Any
) -> None:
    FakeAliyun(aliyun)
    settings.SMS_TEMPLATES = {}
    _deliver()
    sms_row.refresh_from_db()
    assert sms_row.state == State.FAILED and "SMS_TEMPLATES" in sms_row.last_error

    Notification.objects.filter(pk=sms_row.pk).update(state=State.PENDING, attempts=0, address="057188886666")
    settings.SMS_TEMPLATES = sms_templates_from_env()
    _deliver()
    sms_row.refresh_from_db()
    assert sms_row.state == State.FAILED and "mobile" in sms_row.last_error
    assert aliyun.received == []


# --- 腾讯云 -----------------------------------------------------------------------------------------


def tencent_signature_ok(request: Received) -> bool:
    """What 腾讯云 checks (TC3-HMAC-SHA256), from the request as received."""
    match = re.fullmatch(
        r"TC3-HMAC-SHA256 Credential=([^/]+)/(\d{4}-\d{2}-\d{2})/sms/tc3_request, "
        r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})",
        request.headers.get("authorization", ""),
    )
    if not match or match.group(1) != "AKID-test":
        return False
    timestamp = int(request.headers["x-tc-timestamp"])
    date = datetime.datetime.fromtimestamp(timestamp, tz=datetime.UTC).strftime("%Y-%m-%d")
    if date != match.group(2) or abs(time.time() - timestamp) > 300:
        return False
    names = match.group(3).split(";")
    if not {"content-type", "host"} <= set(names):
        return False
    headers = "".join(f"{n}:{request.headers[n].strip().lower()}\n" for n in names)
    canonical = "\n".join(["POST", "/", "", headers, ";".join(names), hashlib.sha256(request.body).hexdigest()])
    scope = f"{date}/sms/tc3_request"
    to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    key = f"TC3{TENCENT_SECRET}".encode()
    for part in (date, "sms", "tc3_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.compare_digest(hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest(), match.group(4))


class FakeTencent:
    def __init__(self, server: GatewayServer, code: str = "Ok") -> None:
        self.code = code
        server.respond = self

    def __call__(self, request: Received) -> tuple[int, Any]:
        if not tencent_signature_ok(request):
            return 200, {
                "Response": {
                    "Error": {
                        "Code": "AuthFailure.SignatureFailure",
                        "Message": "The provided credentials could not be validated.",
                    },
                    "RequestId": "ed93f3cb-f35e-473f-b9f3-0d451b8b79c6",
                }
            }
        payload = request.json()
        # https://cloud.tencent.com/document/api/382/55981, 示例 1: the answer for each number.
        return 200, {
            "Response": {
                "SendStatusSet": [
                    {
                        "SerialNo": "5000:1045710669157053657849499619" if self.code == "Ok" else "",
                        "PhoneNumber": payload["PhoneNumberSet"][0],
                        "Fee": 1 if self.code == "Ok" else 0,
                        "SessionContext": payload["SessionContext"],
                        "Code": self.code,
                        "Message": "send success" if self.code == "Ok" else "refused",
                        "IsoCode": "CN",
                    }
                ],
                "RequestId": "a0aabda6-cf91-4f3e-a81f-9198114a2279",
            }
        }


@pytest.fixture
def tencent(settings: Any, gateway_server: GatewayServer, templates: None) -> GatewayServer:
    settings.SMS_BACKEND = SMS_BACKENDS["tencent"]
    settings.TENCENT_SMS = TencentSmsSettings(
        secret_id="AKID-test",
        secret_key=TENCENT_SECRET,
        sdk_app_id="1400006666",
        sign_name="客诉中心",
        region="ap-guangzhou",
        endpoint=gateway_server.url,
    )
    return gateway_server


def test_tencent_sends_the_template_with_our_session_context_and_stores_the_serial_no(
    tencent: GatewayServer, sms_row: Notification
) -> None:
    FakeTencent(tencent)
    assert _deliver()["sent"] == 1

    [request] = tencent.received
    assert request.headers["x-tc-action"] == "SendSms"
    assert request.headers["x-tc-version"] == "2021-01-11"
    assert request.headers["x-tc-region"] == "ap-guangzhou"
    assert request.json() == {
        "PhoneNumberSet": ["+8613912345678"],
        "SmsSdkAppId": "1400006666",
        "SignName": "客诉中心",
        "TemplateId": "SMS_154950909",
        "TemplateParamSet": [sms_row.complaint.number],
        "SessionContext": f"closeloop-notification-{sms_row.pk}",
    }
    sms_row.refresh_from_db()
    assert (sms_row.state, sms_row.provider_message_id) == (State.SENT, "5000:1045710669157053657849499619")


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        ("FailedOperation.TemplateIncorrectOrUnapproved", State.FAILED),
        ("FailedOperation.PhoneNumberInBlacklist", State.FAILED),
        ("InvalidParameterValue.IncorrectPhoneNumber", State.FAILED),
        ("LimitExceeded.PhoneNumberDailyLimit", State.PENDING),
        ("InternalError.Timeout", State.PENDING),
    ],
)
def test_tencent_error_codes_fail_or_retry(
    tencent: GatewayServer, sms_row: Notification, code: str, outcome: str
) -> None:
    FakeTencent(tencent, code=code)
    _deliver()
    sms_row.refresh_from_db()
    assert sms_row.state == outcome and code in sms_row.last_error


def test_tencent_refuses_a_wrong_signature_and_the_message_fails(
    tencent: GatewayServer, sms_row: Notification, settings: Any
) -> None:
    FakeTencent(tencent)
    conf = settings.TENCENT_SMS
    settings.TENCENT_SMS = TencentSmsSettings(
        secret_id=conf.secret_id,
        secret_key="wrong",
        sdk_app_id=conf.sdk_app_id,
        sign_name=conf.sign_name,
        region=conf.region,
        endpoint=conf.endpoint,
    )
    _deliver()
    sms_row.refresh_from_db()
    assert sms_row.state == State.FAILED and "AuthFailure.SignatureFailure" in sms_row.last_error


# --- a generic HTTP gateway -------------------------------------------------------------------------


@pytest.fixture
def generic(settings: Any, gateway_server: GatewayServer, monkeypatch: pytest.MonkeyPatch) -> GatewayServer:
    monkeypatch.setenv("SMS_HTTP_URL", f"{gateway_server.url}/v1/sms")
    monkeypatch.setenv("SMS_HTTP_HEADERS", json.dumps({"Authorization": "Bearer gw-token", "Idempotency-Key": "{key}"}))
    monkeypatch.setenv("SMS_HTTP_BODY", json.dumps({"to": "{phone}", "content": "{text}", "meta": {"ref": "{number}"}}))
    monkeypatch.setenv("SMS_HTTP_ID_PATH", "data.messages.0.id")
    monkeypatch.setenv("SMS_HTTP_SUCCESS_PATH", "code")
    monkeypatch.setenv("SMS_HTTP_SUCCESS_VALUES", "0,200")
    settings.SMS_BACKEND = SMS_BACKENDS["http"]
    settings.SMS_HTTP = http_sms_from_env(required=True)
    return gateway_server


def test_the_generic_gateway_fills_the_body_and_reads_the_id(generic: GatewayServer, sms_row: Notification) -> None:
    generic.respond = lambda request: (200, {"code": 0, "data": {"messages": [{"id": "gw-777"}]}})
    # Quotes and a line break in our text cannot break the gateway's JSON.
    Notification.objects.filter(pk=sms_row.pk).update(body='第一行 "引号"\n第二行')
    assert _deliver()["sent"] == 1

    [request] = generic.received
    assert (request.method, request.path) == ("POST", "/v1/sms")
    assert request.headers["authorization"] == "Bearer gw-token"
    assert request.headers["idempotency-key"] == f"closeloop-notification-{sms_row.pk}"
    assert request.json() == {
        "to": "13912345678",
        "content": f'{sms_row.subject} 第一行 "引号"\n第二行'.strip(),
        "meta": {"ref": sms_row.complaint.number},
    }
    sms_row.refresh_from_db()
    assert (sms_row.state, sms_row.provider_message_id) == (State.SENT, "gw-777")


@pytest.mark.parametrize(
    ("status", "answer", "outcome"),
    [
        (400, {"code": 4001, "msg": "bad number"}, State.FAILED),
        (401, {"msg": "bad token"}, State.FAILED),
        (429, {"msg": "slow down"}, State.PENDING),
        (503, b"upstream down", State.PENDING),
        (200, {"code": 5001, "msg": "busy"}, State.PENDING),  # 2xx, but not the success value
    ],
)
def test_the_generic_gateway_fails_on_4xx_and_retries_the_rest(
    generic: GatewayServer, sms_row: Notification, status: int, answer: Any, outcome: str
) -> None:
    generic.respond = lambda request: (status, answer)
    _deliver()
    sms_row.refresh_from_db()
    assert sms_row.state == outcome


def test_the_generic_gateway_can_send_a_form_with_the_template(
    settings: Any, gateway_server: GatewayServer, sms_row: Notification, templates: None
) -> None:
    settings.SMS_BACKEND = SMS_BACKENDS["http"]
    settings.SMS_HTTP = HttpSmsSettings(
        url=f"{gateway_server.url}/send",
        body={"mobile": "{phone}", "tpl": "{template}", "vars": "{number}", "ref": "{key}"},
        form=True,
    )
    gateway_server.respond = lambda request: (200, b"OK")
    assert _deliver()["sent"] == 1
    [request] = gateway_server.received
    assert request.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert dict(urllib.parse.parse_qsl(request.body.decode())) == {
        "mobile": "13912345678",
        "tpl": "SMS_154950909",
        "vars": sms_row.complaint.number,
        "ref": f"closeloop-notification-{sms_row.pk}",
    }


def test_the_survey_link_fills_a_url_variable(aliyun: GatewayServer, make_complaint: Callable[..., Complaint]) -> None:
    FakeAliyun(aliyun)
    complaint = make_complaint(phone="13912345679")
    row = Notification.objects.create(
        method=Method.SMS,
        address="13912345679",
        complaint=complaint,
        kind="survey",
        subject="满意度回访",
        body="请点击 https://complaints.example.com/s/abc123 评价（有效期至2026-12-31）。",
    )
    _deliver()
    [request] = aliyun.received
    assert json.loads(request.query["TemplateParam"]) == {
        "number": complaint.number,
        "url": "https://complaints.example.com/s/abc123",
    }
    row.refresh_from_db()
    assert row.state == State.SENT


# --- configuration ----------------------------------------------------------------------------------


def test_a_gateway_without_its_variables_stops_the_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMS_BACKEND", "aliyun")
    assert sms_backend_from_env() == SMS_BACKENDS["aliyun"]
    monkeypatch.setenv("ALIYUN_SMS_ACCESS_KEY_ID", "LTAI-test")
    with pytest.raises(ImproperEnvironment, match="ALIYUN_SMS_ACCESS_KEY_SECRET, ALIYUN_SMS_SIGN_NAME"):
        aliyun_sms_from_env(required=True)
    monkeypatch.setenv("ALIYUN_SMS_ACCESS_KEY_SECRET", "s")
    monkeypatch.setenv("ALIYUN_SMS_SIGN_NAME", "客诉中心")
    monkeypatch.setenv("ALIYUN_SMS_ENDPOINT", "http://dysmsapi.aliyuncs.com")
    with pytest.raises(ImproperEnvironment, match="ALIYUN_SMS_ENDPOINT must be an https:// address"):
        aliyun_sms_from_env(required=True)
    monkeypatch.setenv("SMS_BACKEND", "carrier-pigeon")
    with pytest.raises(ImproperEnvironment, match="SMS_BACKEND"):
        sms_backend_from_env()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{not json", "SMS_TEMPLATES is not valid JSON"),
        ('{"survey": {"params": ["url"]}}', 'needs a "template"'),
        ('{"survey": {"template": "SMS_1", "params": ["phone"]}}', "uses phone"),
    ],
)
def test_sms_templates_are_checked_at_start(monkeypatch: pytest.MonkeyPatch, value: str, message: str) -> None:
    monkeypatch.setenv("SMS_TEMPLATES", value)
    with pytest.raises(ImproperEnvironment, match=re.escape(message)):
        sms_templates_from_env()
