"""A person chooses their notification channel on "My account": only channels configured here are
offered, a choice that cannot reach them is refused with the reason and nothing is saved."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from closeloop.core.roles import Role
from closeloop.notifications.gateways.conf import WeComSettings
from closeloop.notifications.models import StaffChannelPreference

pytestmark = pytest.mark.django_db


@pytest.fixture
def quality(make_user: Callable[..., User], client: Client, settings: Any) -> User:
    settings.LANGUAGE_CODE = "en"
    settings.STAFF_CHANNEL_BY_ROLE = {"quality": "in_app"}
    user = make_user(Role.QUALITY)
    client.force_login(user)
    return user


def _messages(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_the_account_page_offers_the_channels_configured_here(client: Client, quality: User, settings: Any) -> None:
    settings.WECOM = None
    settings.WECOM_ROBOTS = {}
    settings.DINGTALK_ROBOTS = {"quality": object()}
    page = client.get("/desk/account/").content.decode()
    assert 'id="notifications"' in page
    assert "the default of my role (in-app only)" in page
    assert 'value="email"' in page and 'value="dingtalk_robot"' in page
    assert 'value="wecom"' not in page and 'value="wecom_robot"' not in page


def test_a_choice_is_saved_and_shown_again(client: Client, quality: User) -> None:
    response = client.post("/desk/notifications/channel/", {"channel": "email"}, follow=True)
    assert response.redirect_chain == [("/desk/account/#notifications", 302)]
    assert _messages(response) == ["Your notification channel is saved."]
    assert StaffChannelPreference.objects.get(user=quality).channel == "email"
    assert '<option value="email" selected>' in response.content.decode()

    client.post("/desk/notifications/channel/", {"channel": ""})  # back to the role's default
    assert StaffChannelPreference.objects.get(user=quality).channel == ""


def test_wecom_without_a_userid_is_refused_and_nothing_is_saved(client: Client, quality: User, settings: Any) -> None:
    settings.WECOM = WeComSettings(corp_id="ww1", agent_id=1, secret="s", api_url="https://qyapi.weixin.qq.com")
    page = client.get("/desk/account/").content.decode()
    assert "ask an administrator to enter your WeCom userid" in page

    response = client.post("/desk/notifications/channel/", {"channel": "wecom"}, follow=True)
    assert _messages(response) == [
        "Your WeCom account is not known yet: ask an administrator to enter your WeCom userid."
    ]
    assert not StaffChannelPreference.objects.filter(user=quality).exists()

    StaffChannelPreference.objects.create(user=quality, wecom_userid="LiNa")  # the administrator's entry
    client.post("/desk/notifications/channel/", {"channel": "wecom"})
    assert StaffChannelPreference.objects.get(user=quality).channel == "wecom"
    assert "Your WeCom account: LiNa" in client.get("/desk/account/").content.decode()


@pytest.mark.parametrize("channel", ["pigeon", "wecom_robot"])
def test_a_channel_not_offered_is_refused(client: Client, quality: User, settings: Any, channel: str) -> None:
    settings.WECOM_ROBOTS = {}
    response = client.post("/desk/notifications/channel/", {"channel": channel}, follow=True)
    assert response.status_code == 200 and len(_messages(response)) == 1
    assert "saved" not in _messages(response)[0]
    assert not StaffChannelPreference.objects.filter(user=quality).exists()


def test_a_robot_of_no_role_of_theirs_is_refused(client: Client, quality: User, settings: Any) -> None:
    settings.WECOM_ROBOTS = {"dept_manager": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"}
    response = client.post("/desk/notifications/channel/", {"channel": "wecom_robot"}, follow=True)
    assert _messages(response) == ["None of your roles has a group chat on this channel."]
    assert not StaffChannelPreference.objects.filter(user=quality).exists()


def test_the_choice_is_posted_only(client: Client, quality: User) -> None:
    assert client.get("/desk/notifications/channel/").status_code == 405
