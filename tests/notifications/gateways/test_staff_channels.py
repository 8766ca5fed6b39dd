"""Staff notification channels: in-app always, plus the person's choice or their role's default — e-mail,
a WeCom application message, or their role's WeCom / DingTalk group robot — delivered to a real HTTP
server on 127.0.0.1 playing WeCom and DingTalk; no contact detail ever leaves in a chat message."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.utils import timezone

from closeloop.complaints.models import Complaint
from closeloop.core.roles import Role
from closeloop.directory.models import Department
from closeloop.env import ImproperEnvironment
from closeloop.handling.services.tasks import complaint_dispatch
from closeloop.notifications.gateways.conf import (
    DingTalkRobot,
    WeComSettings,
    dingtalk_robots_from_env,
    staff_channel_by_role_from_env,
)
from closeloop.notifications.models import Method, Notification, StaffChannel, StaffChannelPreference, State
from closeloop.notifications.services import (
    Message,
    notifications_build,
    notifications_queue,
    outbox_deliver,
    outbox_recover,
)
from tests.notifications.gateways.conftest import GatewayServer, Received

pytestmark = pytest.mark.django_db

DING_SECRET = "SECtest-robot-secret"


def _deliver() -> dict[str, int]:
    return outbox_deliver(now=timezone.now() + datetime.timedelta(hours=2))


def _tell(people: list[User], *, kind: str = "task_assigned", body: str = "", dedup: str = "d1") -> list[Notification]:
    message = Message(kind=kind, subject="TS20261123-0007: 新任务", body=body, dedup=dedup)
    rows = notifications_build(message=message, recipients=people, now=timezone.now())
    notifications_queue(rows)
    # As stored (bulk_create leaves the built rows without their ids), in the order they were built.
    stored = {r.dedup_key: r for r in Notification.objects.filter(dedup_key__in=[r.dedup_key for r in rows])}
    return [stored[r.dedup_key] for r in rows]


def _routes(rows: list[Notification]) -> list[tuple[str, str, int | None]]:
    return [(r.method, r.address, r.recipient_id) for r in rows]


def _prefer(user: User, channel: str = "", wecom_userid: str = "") -> None:
    StaffChannelPreference.objects.update_or_create(
        user=user, defaults={"channel": channel, "wecom_userid": wecom_userid}
    )


# --- routing ---------------------------------------------------------------------------------------


def test_without_any_choice_staff_get_in_app_and_email_as_before(make_user: Callable[..., User]) -> None:
    person = make_user(Role.HANDLER)
    person.email = "li.na@example.com"
    person.save()
    assert _routes(_tell([person])) == [(Method.IN_APP, "", person.pk), (Method.EMAIL, "", person.pk)]


def test_the_persons_choice_beats_the_roles_default(make_user: Callable[..., User], settings: Any) -> None:
    settings.WECOM = WeComSettings(corp_id="ww1", agent_id=1000002, secret="s", api_url="http://127.0.0.1:9")
    settings.STAFF_CHANNEL_BY_ROLE = {"handler": "in_app"}
    follows_role, chose_wecom = make_user(Role.HANDLER), make_user(Role.HANDLER)
    for person in (follows_role, chose_wecom):
        person.email = f"{person.username}@example.com"
        person.save()
    _prefer(chose_wecom, StaffChannel.WECOM, wecom_userid="LiNa")
    _prefer(follows_role, wecom_userid="ZhangWei")  # a userid, but no choice of their own

    assert _routes(_tell([follows_role, chose_wecom])) == [
        (Method.IN_APP, "", follows_role.pk),
        (Method.IN_APP, "", chose_wecom.pk),
        (Method.WECOM, "LiNa", chose_wecom.pk),
    ]


def test_the_first_listed_role_decides_and_a_group_robot_posts_once_per_group(
    make_user: Callable[..., User], settings: Any
) -> None:
    settings.STAFF_CHANNEL_BY_ROLE = {"quality": "dingtalk_robot", "handler": "email"}
    settings.DINGTALK_ROBOTS = {"quality": DingTalkRobot(url="http://127.0.0.1:9/robot/send?access_token=q")}
    first, second = make_user(Role.QUALITY), make_user(Role.HANDLER)
    second.groups.add(first.groups.get())  # also quality: the first listed role wins

    rows = _tell([first, second])
    assert _routes(rows) == [
        (Method.IN_APP, "", first.pk),
        (Method.DINGTALK_ROBOT, "quality", None),
        (Method.IN_APP, "", second.pk),
    ]
    # The same message queued again (another sweep, another worker) is not posted twice.
    _tell([second])
    assert Notification.objects.filter(method=Method.DINGTALK_ROBOT).count() == 1


def test_a_chat_that_cannot_reach_the_person_falls_back_to_email(make_user: Callable[..., User], settings: Any) -> None:
    settings.WECOM = None  # WeCom not configured (any more)
    settings.WECOM_ROBOTS = {}
    person, robot_fan = make_user(Role.HANDLER), make_user(Role.HANDLER)
    for user in (person, robot_fan):
        user.email = f"{user.username}@example.com"
        user.save()
    _prefer(person, StaffChannel.WECOM, wecom_userid="LiNa")
    _prefer(robot_fan, StaffChannel.WECOM_ROBOT)
    assert [r.method for r in _tell([person, robot_fan])] == [Method.IN_APP, Method.EMAIL, Method.IN_APP, Method.EMAIL]


def test_in_app_only_means_no_email_but_reports_are_always_emailed(make_user: Callable[..., User]) -> None:
    person = make_user(Role.MANAGEMENT)
    person.email = "gm@example.com"
    person.save()
    _prefer(person, StaffChannel.IN_APP)
    assert [r.method for r in _tell([person])] == [Method.IN_APP]
    # The monthly report's e-mail carries the files: a chat cannot.
    assert [r.method for r in _tell([person], kind="report_sent", dedup="r1")] == [Method.IN_APP, Method.EMAIL]


def test_staff_channel_settings_are_checked_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAFF_CHANNEL_BY_ROLE", "quality=dingtalk_robot, handler=pigeon")
    with pytest.raises(ImproperEnvironment, match="handler=pigeon"):
        staff_channel_by_role_from_env()
    monkeypatch.setenv("DINGTALK_ROBOTS", '{"quality": {"url": "http://oapi.dingtalk.com/robot/send?access_token=x"}}')
    with pytest.raises(ImproperEnvironment, match=r'DINGTALK_ROBOTS\["quality"\] must be an https://') as raised:
        dingtalk_robots_from_env()
    assert "access_token" not in str(raised.value)


# --- WeCom application messages --------------------------------------------------------------------


class FakeWeCom:
    """qyapi.weixin.qq.com: gettoken, then message/send with that token (answers from its documentation)."""

    def __init__(self, server: GatewayServer) -> None:
        self.tokens_issued = 0
        self.valid_token = ""
        self.send_errcode = 0
        server.respond = self

    def __call__(self, request: Received) -> tuple[int, Any]:
        path = urllib.parse.urlsplit(request.path).path
        if path == "/cgi-bin/gettoken":
            if request.query != {"corpid": "ww-test", "corpsecret": "wecom-secret"}:
                return 200, {"errcode": 40001, "errmsg": "invalid credential"}
            self.tokens_issued += 1
            self.valid_token = f"token-{self.tokens_issued}"
            return 200, {"errcode": 0, "errmsg": "ok", "access_token": self.valid_token, "expires_in": 7200}
        if path == "/cgi-bin/message/send":
            if request.query.get("access_token") != self.valid_token:
                return 200, {"errcode": 42001, "errmsg": "access_token expired"}
            if self.send_errcode:
                return 200, {"errcode": self.send_errcode, "errmsg": "refused"}
            return 200, {"errcode": 0, "errmsg": "ok", "invaliduser": "", "msgid": f"msg-{len(request.body)}"}
        return 404, {}


@pytest.fixture
def wecom(settings: Any, gateway_server: GatewayServer) -> FakeWeCom:
    settings.WECOM = WeComSettings(
        corp_id="ww-test", agent_id=1000002, secret="wecom-secret", api_url=gateway_server.url
    )
    return FakeWeCom(gateway_server)


@pytest.fixture
def on_wecom(make_user: Callable[..., User]) -> User:
    person = make_user(Role.HANDLER)
    _prefer(person, StaffChannel.WECOM, wecom_userid="LiNa")
    return person


def _sends(server: GatewayServer) -> list[Received]:
    return [r for r in server.received if r.path.startswith("/cgi-bin/message/send")]


def test_a_wecom_message_goes_to_the_persons_userid_and_keeps_wecoms_msgid(
    wecom: FakeWeCom, gateway_server: GatewayServer, on_wecom: User
) -> None:
    [_in_app, row] = _tell([on_wecom], body="请在今天内联系客户")
    assert _deliver()["sent"] == 1

    [send] = _sends(gateway_server)
    payload = send.json()
    assert payload["touser"] == "LiNa" and payload["agentid"] == 1000002 and payload["msgtype"] == "text"
    # WeCom's duplicate check, at its longest: a retry of the same row within 4 hours is not delivered twice.
    assert (payload["enable_duplicate_check"], payload["duplicate_check_interval"]) == (1, 4 * 3600)
    content = payload["text"]["content"]
    assert content.startswith("TS20261123-0007: 新任务\n请在今天内联系客户\n")
    assert content.endswith(f"/desk/notifications/#n{row.pk}")
    row = Notification.objects.get(pk=row.pk)
    assert row.state == State.SENT and row.provider_message_id.startswith("msg-")


def test_the_access_token_is_cached_and_fetched_again_when_wecom_says_it_expired(
    wecom: FakeWeCom, gateway_server: GatewayServer, on_wecom: User
) -> None:
    _tell([on_wecom], dedup="a")
    _tell([on_wecom], dedup="b")
    assert _deliver()["sent"] == 2
    assert wecom.tokens_issued == 1  # one token for both messages

    wecom.valid_token = "rotated-by-wecom"  # our cached token is no longer valid
    _tell([on_wecom], dedup="c")
    assert _deliver()["sent"] == 1
    assert wecom.tokens_issued == 2
    assert [r.query["access_token"] for r in _sends(gateway_server)] == ["token-1", "token-1", "token-1", "token-2"]


@pytest.mark.parametrize(
    ("errcode", "outcome"),
    [(81013, State.FAILED), (60020, State.FAILED), (45009, State.PENDING), (-1, State.PENDING)],
)
def test_wecom_errors_fail_or_retry(wecom: FakeWeCom, on_wecom: User, errcode: int, outcome: str) -> None:
    wecom.send_errcode = errcode
    [_in_app, row] = _tell([on_wecom])
    _deliver()
    row = Notification.objects.get(pk=row.pk)
    assert row.state == outcome and str(errcode) in row.last_error


def test_a_worker_killed_after_sending_resends_the_same_request_for_wecom_to_drop(
    wecom: FakeWeCom, gateway_server: GatewayServer, on_wecom: User
) -> None:
    from closeloop.notifications.backends import deliver

    [_in_app, row] = _tell([on_wecom])
    deliver(Notification.objects.get(pk=row.pk))  # sent; then the worker died before marking the row
    Notification.objects.filter(pk=row.pk).update(
        state=State.SENDING, attempts=1, claimed_at=timezone.now() - datetime.timedelta(hours=1)
    )
    outbox_recover()
    assert _deliver()["sent"] == 1
    first, second = _sends(gateway_server)
    assert first.body == second.body  # byte for byte: within 4 hours WeCom delivers it once


# --- group robots ----------------------------------------------------------------------------------


def test_a_wecom_group_robot_posts_into_the_roles_chat(
    settings: Any, gateway_server: GatewayServer, make_user: Callable[..., User]
) -> None:
    settings.WECOM_ROBOTS = {"quality": f"{gateway_server.url}/cgi-bin/webhook/send?key=robot-key"}
    settings.STAFF_CHANNEL_BY_ROLE = {"quality": "wecom_robot"}
    gateway_server.respond = lambda request: (200, {"errcode": 0, "errmsg": "ok"})
    _tell([make_user(Role.QUALITY), make_user(Role.QUALITY)], body="质量部请分析")
    assert _deliver()["sent"] == 1

    [post] = gateway_server.received
    assert post.query == {"key": "robot-key"}
    assert post.json() == {"msgtype": "text", "text": {"content": "TS20261123-0007: 新任务\n质量部请分析"}}


class FakeDingTalk:
    """oapi.dingtalk.com/robot/send with 加签: the sign recomputed from the timestamp and the secret."""

    def __init__(self, server: GatewayServer) -> None:
        self.errcode = 0
        server.respond = self

    def __call__(self, request: Received) -> tuple[int, Any]:
        timestamp = request.query.get("timestamp", "0")
        digest = hmac.new(DING_SECRET.encode(), f"{timestamp}\n{DING_SECRET}".encode(), hashlib.sha256).digest()
        fresh = abs(time.time() * 1000 - int(timestamp)) < 3600 * 1000
        if request.query.get("sign") != base64.b64encode(digest).decode() or not fresh:
            return 200, {"errcode": 310000, "errmsg": "sign not match"}
        if request.query.get("access_token") != "ding-token":
            return 200, {"errcode": 300001, "errmsg": "token is not exist"}
        if self.errcode:
            return 200, {"errcode": self.errcode, "errmsg": "send too fast"}
        return 200, {"errcode": 0, "errmsg": "ok"}


@pytest.fixture
def dingtalk(settings: Any, gateway_server: GatewayServer) -> FakeDingTalk:
    settings.DINGTALK_ROBOTS = {
        "quality": DingTalkRobot(url=f"{gateway_server.url}/robot/send?access_token=ding-token", secret=DING_SECRET)
    }
    settings.STAFF_CHANNEL_BY_ROLE = {"quality": "dingtalk_robot"}
    return FakeDingTalk(gateway_server)


def test_a_dingtalk_robot_posts_with_its_signature(
    dingtalk: FakeDingTalk, gateway_server: GatewayServer, make_user: Callable[..., User]
) -> None:
    [_in_app, row] = _tell([make_user(Role.QUALITY)])
    assert _deliver()["sent"] == 1
    [post] = gateway_server.received
    assert post.json() == {"msgtype": "text", "text": {"content": "TS20261123-0007: 新任务"}}
    assert Notification.objects.get(pk=row.pk).state == State.SENT


@pytest.mark.parametrize(
    ("secret", "errcode", "outcome"), [("wrong", 0, State.FAILED), (DING_SECRET, 130101, State.PENDING)]
)
def test_dingtalk_refusals_fail_or_retry(
    dingtalk: FakeDingTalk,
    settings: Any,
    gateway_server: GatewayServer,
    make_user: Callable[..., User],
    secret: str,
    errcode: int,
    outcome: str,
) -> None:
    settings.DINGTALK_ROBOTS = {"quality": DingTalkRobot(url=settings.DINGTALK_ROBOTS["quality"].url, secret=secret)}
    dingtalk.errcode = errcode
    [_in_app, row] = _tell([make_user(Role.QUALITY)])
    _deliver()
    assert Notification.objects.get(pk=row.pk).state == outcome


# --- personal data -----------------------------------------------------------------------------------


def test_a_dispatch_reaches_wecom_without_the_customers_contact_details(
    wecom: FakeWeCom,
    gateway_server: GatewayServer,
    make_complaint: Callable[..., Complaint],
    make_user: Callable[..., User],
    department: Department,
    agent: User,
) -> None:
    """The real path: a complaint dispatched to a handler who is told on WeCom."""
    handler = make_user(Role.HANDLER, departments=[department])
    _prefer(handler, StaffChannel.WECOM, wecom_userid="LiNa")
    complaint = make_complaint(phone="13912345678", email="wang.xiuying@example.com", customer_name="王秀英")
    complaint_dispatch(complaint=complaint, assignments=[(department, handler)], actor=agent, via="desk")
    _deliver()

    [send] = _sends(gateway_server)
    content = send.json()["text"]["content"]
    assert complaint.number in content and f"/desk/c/{complaint.number}/" in content
    for personal in ("13912345678", "wang.xiuying", "王秀英"):
        assert personal not in content


def test_contact_details_in_a_staff_message_are_masked_before_a_chat(
    dingtalk: FakeDingTalk,
    wecom: FakeWeCom,
    gateway_server: GatewayServer,
    make_user: Callable[..., User],
    settings: Any,
) -> None:
    """Defence in depth: should a service ever write one into a staff message, the chat gets it masked."""
    settings.STAFF_CHANNEL_BY_ROLE = {"quality": "dingtalk_robot"}
    FakeDingTalk(gateway_server)  # DingTalk answers; WeCom is not asked
    body = "客户电话 139 1234 5678，座机 0571-88886666，邮箱 wang.xiuying@example.com，单号 TS20261123-0007"
    _tell([make_user(Role.QUALITY)], body=body)
    _deliver()
    [post] = gateway_server.received
    content = post.json()["text"]["content"]
    assert "139****5678" in content and "057****6666" in content and "w***@example.com" in content
    assert "1234" not in content.replace("TS20261123-0007", "") and "88886666" not in content
    assert "TS20261123-0007" in content
    assert mail.outbox == []
