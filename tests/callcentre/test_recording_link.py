"""The CTI's link to a call's recording, kept on the complaint: http(s) only, shown as a link."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from closeloop.complaints.models import Complaint
from closeloop.core.errors import ValidationFailed
from tests.api.conftest import ApiClient, intake_payload

pytestmark = pytest.mark.django_db

RECORDING = "https://cti.example.com/recordings/2026/12/06/call-8841.mp3?sig=ab12"


def test_kept_and_shown_as_a_link(make_complaint: Callable[..., Complaint], agent_client: Client) -> None:
    complaint = make_complaint(recording_url=f"  {RECORDING} ")

    assert complaint.recording_url == RECORDING
    page = agent_client.get(f"/desk/c/{complaint.number}/").content.decode()
    assert 'href="https://cti.example.com/recordings/2026/12/06/call-8841.mp3?sig=ab12"' in page
    assert 'rel="noopener noreferrer"' in page


@pytest.mark.parametrize(
    "link",
    ["javascript:alert(1)", "file:///etc/passwd", "ftp://cti.example.com/a.wav", "/recordings/1", "cti", "https://"],
)
def test_only_web_addresses(make_complaint: Callable[..., Complaint], link: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        make_complaint(recording_url=link)

    assert "http://" in refused.value.errors["recording_url"][0]
    assert not Complaint.objects.exists()


def test_too_long(make_complaint: Callable[..., Complaint]) -> None:
    with pytest.raises(ValidationFailed) as refused:
        make_complaint(recording_url="https://cti.example.com/" + "a" * 500)

    assert "500" in refused.value.errors["recording_url"][0]


def test_through_the_api(agent_api: ApiClient) -> None:
    created = agent_api.post_json("/api/v1/complaints", intake_payload(recording_url=RECORDING, channel="hotline"))
    assert created.status_code == 201, created.content
    assert created.json()["recording_url"] == RECORDING
    number = created.json()["number"]
    assert agent_api.get(f"/api/v1/complaints/{number}").json()["recording_url"] == RECORDING

    refused = agent_api.post_json("/api/v1/complaints", intake_payload(recording_url="javascript:alert(1)"))
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "recording_url"]


def test_demo_hotline_call_has_its_recording(make_user: Callable[..., object]) -> None:
    from closeloop.core.roles import Role
    from closeloop.demo.callcentre import demo_hotline_call

    make_user(Role.AGENT, username="agent")

    complaint = demo_hotline_call()

    assert complaint is not None
    assert complaint.channel == "hotline" and complaint.recording_url.startswith("https://")
    (attachment,) = complaint.attachments.all()
    assert (attachment.content_type, attachment.kind) == ("audio/x-wav", "recording")
    assert demo_hotline_call() is None  # idempotent
