"""A call-centre pop-up in a real browser: the CTI opens the registration form with the caller's number,
its call id and recording link; the agent completes it; the complaint page links the recording and plays
(and seeks in) an attached one."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from closeloop.complaints.models import Complaint
from closeloop.complaints.services import AttachmentUpload, complaint_attach
from closeloop.core.roles import Role
from closeloop.demo.callcentre import demo_tone_wav
from tests.conftest import PASSWORD

RECORDING = "https://cti.example.com/recordings/8841.wav"


def _login(page: Any, username: str) -> None:
    page.goto(page.base_url + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action='/login/'] button[type=submit]").click()
    page.get_by_role("button", name="English").click()


@pytest.mark.django_db(transaction=True)
def test_popup_prefills_registers_and_plays_the_recording(
    page: Any, make_user: Callable[..., User], make_complaint: Callable[..., Complaint]
) -> None:
    agent = make_user(Role.AGENT, username="cti-agent")
    earlier = make_complaint(actor=agent, phone="13812345678", customer_name="李娜", city="杭州")
    _login(page, "cti-agent")

    query = urlencode({"phone": "+86 138 1234 5678", "external_ref": "CALL-8841", "recording": RECORDING})
    page.goto(f"{page.base_url}/desk/new/?{query}")

    expect(page.locator("[data-call-notice]")).to_contain_text("Known caller: 李娜")
    expect(page.locator("input[name=customer_name]")).to_have_value("李娜")
    expect(page.locator("input[name=phone]")).to_have_value("13812345678")
    expect(page.locator("input[name=city]")).to_have_value("杭州市")
    expect(page.locator("select[name=channel]")).to_have_value("hotline")
    expect(page.locator("input[name=external_ref]")).to_have_value("CALL-8841")
    expect(page.locator("input[name=recording_url]")).to_have_value(RECORDING)

    # Submitted without a description: refused, and everything typed or filled in is still there.
    page.locator(".types label", has_text="Quality").click()
    page.get_by_role("button", name="Register", exact=True).click()
    expect(page.locator(".errors").first).to_be_visible()
    expect(page.locator("input[name=external_ref]")).to_have_value("CALL-8841")
    expect(page.locator("input[name=recording_url]")).to_have_value(RECORDING)
    expect(page.locator("input[name=customer_name]")).to_have_value("李娜")

    page.fill("textarea[name=description]", "遥控器失灵")
    page.get_by_role("button", name="Register", exact=True).click()
    expect(page.locator(".msg-success")).to_contain_text("registered.")
    complaint = Complaint.objects.exclude(pk=earlier.pk).get()
    assert (complaint.external_ref, complaint.recording_url, complaint.customer_id) == (
        "CALL-8841",
        RECORDING,
        earlier.customer_id,
    )
    expect(page.locator("a.recording-link")).to_have_attribute("href", RECORDING)

    wav = demo_tone_wav(seconds=3.0)
    complaint_attach(
        complaint=complaint,
        upload=AttachmentUpload(name="call.wav", file=io.BytesIO(wav), size=len(wav), kind="recording"),
        actor=agent,
        via="desk",
    )
    page.reload()
    audio = page.locator("audio.recording")
    expect(audio).to_be_visible()
    page.wait_for_function("document.querySelector('audio.recording').readyState >= 1")
    assert abs(audio.evaluate("a => a.duration") - 3.0) < 0.05
    # Seeking needs the server's Range support (Chrome resets currentTime to 0 without it).
    audio.evaluate(
        "a => new Promise(done => { a.addEventListener('seeked', () => done(), {once: true}); a.currentTime = 2.5; })"
    )
    assert audio.evaluate("a => a.seekable.length && a.seekable.end(0)") >= 2.9
    assert abs(audio.evaluate("a => a.currentTime") - 2.5) < 0.05
