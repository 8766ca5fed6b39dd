"""POST /complaints/{number}/attachments: one file, checked like intake, with an event."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile

from closeloop.complaints.models import Attachment, Complaint, Event
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db

# The smallest valid PNG (1×1 pixel).
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def url(complaint: Complaint) -> str:
    return f"/api/v1/complaints/{complaint.number}/attachments"


def test_upload_photo(agent_api: ApiClient, agent: User, make_complaint: Callable[..., Complaint]) -> None:
    complaint = make_complaint()

    response = agent_api.post(
        url(complaint),
        {"file": SimpleUploadedFile("crack.png", PNG, "image/png"), "kind": "photo"},
    )

    assert response.status_code == 201, response.content
    assert response.json()["content_type"] == "image/png"
    attachment = Attachment.objects.get(complaint=complaint)
    assert (attachment.original_name, attachment.size, attachment.uploaded_by) == ("crack.png", len(PNG), agent)
    event = Event.objects.get(complaint=complaint, action="attachment_added")
    assert (event.via, event.after["name"]) == ("api", "crack.png")
    detail = agent_api.get(f"/api/v1/complaints/{complaint.number}").json()
    assert [a["name"] for a in detail["attachments"]] == ["crack.png"]


def test_too_big_is_422(agent_api: ApiClient, make_complaint: Callable[..., Complaint], settings: object) -> None:
    settings.ATTACHMENT_MAX_BYTES = 50  # type: ignore[attr-defined]
    complaint = make_complaint()

    response = agent_api.post(url(complaint), {"file": SimpleUploadedFile("big.png", PNG, "image/png")})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "file"]
    assert not Attachment.objects.exists()
    assert not Event.objects.filter(action="attachment_added").exists()


def test_forbidden_type_is_422(agent_api: ApiClient, make_complaint: Callable[..., Complaint]) -> None:
    complaint = make_complaint()
    # A Windows executable named like a photo: the type is sniffed from the bytes, not the name.
    exe = SimpleUploadedFile("photo.jpg", b"MZ\x90\x00" + b"\x00" * 200, "image/jpeg")

    response = agent_api.post(url(complaint), {"file": exe})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "file"]
    assert not Attachment.objects.exists()


def test_missing_file_is_422(agent_api: ApiClient, make_complaint: Callable[..., Complaint]) -> None:
    response = agent_api.post(url(make_complaint()), {"kind": "photo"})
    assert response.status_code == 422
    assert "file" in response.json()["detail"][0]["loc"]


def test_read_only_role_is_403(
    api_client_for: Callable[[User], ApiClient], auditor: User, make_complaint: Callable[..., Complaint]
) -> None:
    complaint = make_complaint()
    response = api_client_for(auditor).post(url(complaint), {"file": SimpleUploadedFile("a.png", PNG, "image/png")})
    assert response.status_code == 403
    assert not Attachment.objects.exists()
