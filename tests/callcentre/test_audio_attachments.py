"""Call recordings as attachments: recognised from their bytes, limited by AUDIO_MAX_BYTES, played in
the desk through the authorised download, which serves them in parts (Range) so that the player seeks."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from closeloop.complaints.models import Attachment, Complaint
from closeloop.complaints.services import AttachmentUpload, complaint_attach
from closeloop.complaints.sniff import content_type_sniff
from closeloop.core.errors import ValidationFailed
from tests.api.conftest import ApiClient
from tests.callcentre.conftest import amr, m4a, mp3, mp3_without_tag, wav

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("make", "name", "expected"),
    [
        (wav, "call.wav", "audio/x-wav"),
        (mp3, "call.mp3", "audio/mpeg"),
        (mp3_without_tag, "call.mp3", "audio/mpeg"),
        (amr, "voice.amr", "audio/amr"),
        (m4a, "memo.m4a", "audio/mp4"),
    ],
)
def test_each_audio_type_is_sniffed_from_its_bytes(make: Callable[[], bytes], name: str, expected: str) -> None:
    content = make()
    # The name does not matter: a recording named like a photo is still a recording.
    for filename in (name, "photo.jpg"):
        assert content_type_sniff(io.BytesIO(content), name=filename, size=len(content)) == expected


def test_a_recording_is_accepted_as_an_attachment(make_complaint: Callable[..., Complaint], agent: User) -> None:
    complaint = make_complaint()
    content = amr()

    attachment = complaint_attach(
        complaint=complaint,
        upload=AttachmentUpload(name="来电录音.amr", file=io.BytesIO(content), size=len(content), kind="recording"),
        actor=agent,
        via="desk",
    )

    assert (attachment.content_type, attachment.kind, attachment.size) == ("audio/amr", "recording", len(content))


def test_recordings_have_their_own_size_limit(
    make_complaint: Callable[..., Complaint], agent: User, settings: Any
) -> None:
    settings.ATTACHMENT_MAX_BYTES = 100  # photos: far below a recording
    settings.AUDIO_MAX_BYTES = 2000
    complaint = make_complaint()
    small, large = wav(samples=400), wav(samples=4000)  # 844 and 8044 bytes

    complaint_attach(
        complaint=complaint,
        upload=AttachmentUpload(name="short.wav", file=io.BytesIO(small), size=len(small), kind="recording"),
        actor=agent,
        via="desk",
    )
    with pytest.raises(ValidationFailed) as refused:
        complaint_attach(
            complaint=complaint,
            upload=AttachmentUpload(name="long.wav", file=io.BytesIO(large), size=len(large), kind="recording"),
            actor=agent,
            via="desk",
        )

    assert "long.wav" in refused.value.errors["file"][0] and "limit" in refused.value.errors["file"][0]
    assert [a.original_name for a in complaint.attachments.all()] == ["short.wav"]


def test_the_audio_limit_does_not_raise_the_limit_of_other_files(
    make_complaint: Callable[..., Complaint], agent: User, settings: Any
) -> None:
    settings.ATTACHMENT_MAX_BYTES = 100
    settings.AUDIO_MAX_BYTES = 100_000
    pdf = b"%PDF-1.4\n" + b"0" * 500

    with pytest.raises(ValidationFailed):
        complaint_attach(
            complaint=make_complaint(),
            upload=AttachmentUpload(name="scan.pdf", file=io.BytesIO(pdf), size=len(pdf), kind="scan"),
            actor=agent,
            via="desk",
        )


def test_a_video_is_not_a_recording(make_complaint: Callable[..., Complaint], agent: User) -> None:
    # An MP4 video (brand isom): the same container as M4A, not accepted.
    video = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00" * 64

    with pytest.raises(ValidationFailed):
        complaint_attach(
            complaint=make_complaint(),
            upload=AttachmentUpload(name="clip.m4a", file=io.BytesIO(video), size=len(video), kind="recording"),
            actor=agent,
            via="desk",
        )


def test_api_upload_of_a_recording(agent_api: ApiClient, make_complaint: Callable[..., Complaint]) -> None:
    complaint = make_complaint()

    response = agent_api.post(
        f"/api/v1/complaints/{complaint.number}/attachments",
        {"file": SimpleUploadedFile("call.mp3", mp3(), "application/octet-stream"), "kind": "recording"},
    )

    assert response.status_code == 201, response.content
    assert (response.json()["content_type"], response.json()["kind"]) == ("audio/mpeg", "recording")


def _recorded(complaint: Complaint, agent: User, content: bytes, name: str = "call.wav") -> Attachment:
    return complaint_attach(
        complaint=complaint,
        upload=AttachmentUpload(name=name, file=io.BytesIO(content), size=len(content), kind="recording"),
        actor=agent,
        via="desk",
    )


def _body(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def test_the_desk_plays_a_recording_and_the_download_seeks(
    agent_client: Client, make_complaint: Callable[..., Complaint], agent: User
) -> None:
    complaint = make_complaint()
    content = wav(samples=1000)
    attachment = _recorded(complaint, agent, content)
    url = f"/desk/c/{complaint.number}/attachments/{attachment.pk}/"

    page = agent_client.get(f"/desk/c/{complaint.number}/").content.decode()
    assert f'<audio class="recording" controls preload="metadata" src="{url}"' in page

    whole = agent_client.get(url)
    assert whole.status_code == 200
    assert (whole["Content-Type"], whole["Accept-Ranges"]) == ("audio/x-wav", "bytes")
    assert whole["Content-Disposition"].startswith("inline")
    assert whole["X-Content-Type-Options"] == "nosniff"
    assert _body(whole) == content

    part = agent_client.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert (part["Content-Range"], part["Content-Length"]) == (f"bytes 100-199/{len(content)}", "100")
    assert part["Content-Type"] == "audio/x-wav"
    assert "sandbox" in part["Content-Security-Policy"]
    assert _body(part) == content[100:200]

    tail = agent_client.get(url, headers={"Range": "bytes=-10"})
    assert (tail.status_code, _body(tail)) == (206, content[-10:])
    open_ended = agent_client.get(url, headers={"Range": "bytes=2000-"})
    assert (open_ended.status_code, _body(open_ended)) == (206, content[2000:])

    beyond = agent_client.get(url, headers={"Range": f"bytes={len(content)}-"})
    assert (beyond.status_code, beyond["Content-Range"]) == (416, f"bytes */{len(content)}")
    # Several ranges, or nonsense: the whole file, as RFC 9110 allows.
    several = agent_client.get(url, headers={"Range": "bytes=0-1,5-6"})
    assert (several.status_code, _body(several)) == (200, content)


def test_amr_is_offered_for_download_with_a_note(
    agent_client: Client, make_complaint: Callable[..., Complaint], agent: User
) -> None:
    complaint = make_complaint()
    _recorded(complaint, agent, amr(), name="voice.amr")

    page = agent_client.get(f"/desk/c/{complaint.number}/").content.decode()

    assert "<audio" not in page
    assert "AMR recordings do not play in the browser" in page


def test_a_recording_of_another_department_is_not_served(
    client_for: Callable[[User], Client],
    handler: User,
    make_complaint: Callable[..., Complaint],
    agent: User,
    other_department: Any,
) -> None:
    complaint = make_complaint(department_code=other_department.code)
    attachment = _recorded(complaint, agent, wav())

    response = client_for(handler).get(
        f"/desk/c/{complaint.number}/attachments/{attachment.pk}/", headers={"Range": "bytes=0-9"}
    )

    assert response.status_code == 404
