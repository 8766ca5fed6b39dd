"""Uploaded and generated files: only pictures are shown in the browser; a PDF (which may carry
JavaScript), text and everything else is downloaded; all are sandboxed and never type-sniffed. Every
view hands files out through closeloop/core/files.py."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client

from closeloop.complaints.models import Complaint
from closeloop.complaints.services import AttachmentUpload, complaint_attach
from closeloop.core.files import file_response

ROOT = Path(__file__).resolve().parents[2]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF_WITH_JAVASCRIPT = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert('xss')) >> >>\nendobj\n"
    b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
)


def _attach(complaint: Complaint, agent: User, name: str, content: bytes) -> object:
    upload = AttachmentUpload(name=name, file=io.BytesIO(content), size=len(content))
    return complaint_attach(complaint=complaint, upload=upload, actor=agent, via="desk")


def _download(agent: User, complaint: Complaint, attachment: object) -> object:
    client = Client()
    client.force_login(agent)
    response = client.get(f"/desk/c/{complaint.number}/attachments/{attachment.pk}/")  # type: ignore[attr-defined]
    assert response.status_code == 200
    return response


def assert_sandboxed(response: object) -> None:
    assert response["Content-Security-Policy"].startswith("sandbox")  # type: ignore[index]
    assert response["X-Content-Type-Options"] == "nosniff"  # type: ignore[index]


@pytest.mark.django_db
def test_a_pdf_attachment_carrying_javascript_is_downloaded_not_shown(
    agent: User, make_complaint: Callable[..., Complaint]
) -> None:
    complaint = make_complaint()
    attachment = _attach(complaint, agent, "发票.pdf", PDF_WITH_JAVASCRIPT)
    assert attachment.content_type == "application/pdf"  # type: ignore[attr-defined]
    response = _download(agent, complaint, attachment)
    assert response["Content-Disposition"].startswith("attachment;")  # type: ignore[index]
    assert "filename*=utf-8''%E5%8F%91%E7%A5%A8.pdf" in response["Content-Disposition"]  # type: ignore[index]
    assert_sandboxed(response)
    assert b"".join(response.streaming_content) == PDF_WITH_JAVASCRIPT  # type: ignore[attr-defined]


@pytest.mark.django_db
def test_text_attachment_is_downloaded_and_a_photo_is_shown(
    agent: User, make_complaint: Callable[..., Complaint]
) -> None:
    complaint = make_complaint()
    text = _download(agent, complaint, _attach(complaint, agent, "notes.txt", b"<script>alert(1)</script>"))
    assert text["Content-Disposition"].startswith("attachment;")  # type: ignore[index]
    assert_sandboxed(text)
    photo = _download(agent, complaint, _attach(complaint, agent, "photo.png", PNG))
    assert photo["Content-Disposition"].startswith("inline;")  # type: ignore[index]
    assert photo["Content-Type"] == "image/png"  # type: ignore[index]
    assert_sandboxed(photo)


def test_the_helper_shows_only_pictures() -> None:
    for content_type in ("image/jpeg", "image/png", "image/gif", "image/webp"):
        assert file_response(b"x", filename="a", content_type=content_type)["Content-Disposition"].startswith("inline")
    for content_type in ("application/pdf", "text/plain", "text/html", "image/svg+xml", "", "application/x-foo"):
        response = file_response(io.BytesIO(b"x"), filename="a", content_type=content_type)
        assert response["Content-Disposition"].startswith("attachment"), content_type
        assert_sandboxed(response)


def test_every_file_download_goes_through_the_helper() -> None:
    """No view builds a file response or a Content-Disposition of its own."""
    helper = ROOT / "closeloop" / "core" / "files.py"
    # closeloop/mailin reads and writes the MIME headers of e-mails, never an HTTP response.
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "closeloop").rglob("*.py"))
        if path != helper and "migrations" not in path.parts and "mailin" not in path.parts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"FileResponse\(|Content-Disposition|as_attachment", line)
    ]
    assert found == []
