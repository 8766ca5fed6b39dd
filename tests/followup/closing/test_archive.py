"""Archive (domain rule 7): closed complaints archive after ARCHIVE_AFTER_DAYS (once, whatever the
number of runs) and are read-only from then on, in the desk, the API and the admin."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from closeloop.complaints.models import Attachment, Complaint, Event
from closeloop.complaints.services import complaint_change_priority, complaint_transition
from closeloop.core.errors import PermissionDeniedError, TransitionNotAllowed
from closeloop.followup.models import FollowUpOutcome
from closeloop.followup.services.closing import complaint_archive, complaints_archive_due
from closeloop.followup.tasks import archive_closed_task
from closeloop.handling.services.tasks import contact_log_add
from tests.conftest import PASSWORD
from tests.followup.closing.conftest import resolve, set_followup

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def closed(make_complaint: Callable[..., Complaint], people: dict[str, User]) -> Callable[..., Complaint]:
    def make(days_ago: float = 0) -> Complaint:
        at = timezone.now() - datetime.timedelta(days=days_ago)
        complaint = resolve(make_complaint(), people["agent"], now=at)
        set_followup(complaint, FollowUpOutcome.SATISFIED, at=at)
        return complaint_transition(complaint=complaint, action="close", actor=people["agent"], via="desk", now=at)

    return make


@pytest.fixture
def archived(closed: Callable[..., Complaint]) -> Complaint:
    return complaint_archive(complaint=closed(), actor=None, via="system")


def test_job_archives_only_after_the_delay_and_once(closed: Callable[..., Complaint], settings: object) -> None:
    settings.ARCHIVE_AFTER_DAYS = 7  # type: ignore[attr-defined]
    old, recent = closed(days_ago=8), closed(days_ago=6)

    archive_closed_task.call_local()
    assert complaints_archive_due() == []  # a second run finds nothing

    old.refresh_from_db(), recent.refresh_from_db()
    assert old.status == "archived" and old.archived_at is not None
    assert recent.status == "closed" and recent.archived_at is None
    assert Event.objects.filter(complaint=old, action="archive").count() == 1
    event = Event.objects.get(complaint=old, action="archive")
    assert event.actor is None and event.via == "system"

    later = timezone.now() + datetime.timedelta(days=2)
    assert complaints_archive_due(now=later) == [recent.number]
    assert complaints_archive_due(now=later) == []


def test_archive_by_hand_is_for_admins(closed: Callable[..., Complaint], people: dict[str, User]) -> None:
    complaint = closed()
    with pytest.raises(PermissionDeniedError):
        complaint_archive(complaint=complaint, actor=people["supervisor"], via="desk")
    assert complaint_archive(complaint=complaint, actor=people["admin"], via="desk").status == "archived"
    with pytest.raises(TransitionNotAllowed):  # only closed complaints archive
        complaint_archive(complaint=complaint, actor=people["admin"], via="desk")


def test_every_write_is_refused_and_nothing_written(archived: Complaint, people: dict[str, User]) -> None:
    events = Event.objects.filter(complaint=archived).count()
    with pytest.raises(TransitionNotAllowed):
        complaint_change_priority(complaint=archived, priority=1, reason="更急", actor=people["agent"], via="desk")
    with pytest.raises(TransitionNotAllowed):
        complaint_transition(complaint=archived, action="close", actor=people["agent"], via="desk")
    with pytest.raises(TransitionNotAllowed):
        contact_log_add(
            complaint=archived,
            at=timezone.now(),
            channel="phone",
            outcome="reached",
            summary="又打来电话",
            actor=people["agent"],
            via="desk",
        )
    archived.refresh_from_db()
    assert archived.status == "archived" and archived.priority != 1
    assert Event.objects.filter(complaint=archived).count() == events
    assert not archived.contacts.exists()


def test_api_refuses_writes(archived: Complaint, people: dict[str, User], api_as: Callable, settings: object) -> None:
    api = api_as(people["agent"])
    base = f"/api/v1/complaints/{archived.number}"
    events = Event.objects.filter(complaint=archived).count()
    responses = [
        api.post_json(f"{base}/contacts", {"channel": "phone", "summary": "又打来电话"}),
        api.post_json(f"{base}/transitions", {"action": "close"}),
        api.post_json(f"{base}/priority", {"priority": 1, "reason": "更急"}),
        api.post(f"{base}/attachments", {"file": SimpleUploadedFile("photo.png", PNG, content_type="image/png")}),
        api.post_json(f"{base}/reopen", {"reason": "不满意"}),
        api.post_json(f"{base}/close"),
        api_as(people["admin"]).post_json(f"{base}/archive"),
    ]
    assert [r.status_code for r in responses] == [422] * len(responses), [r.content for r in responses]
    assert Event.objects.filter(complaint=archived).count() == events
    assert not Attachment.objects.filter(complaint=archived).exists()
    media = settings.MEDIA_ROOT  # type: ignore[attr-defined]
    assert not any(p.is_file() for p in media.rglob("*")) if media.exists() else True
    # Reading still works.
    assert api.get(base).status_code == 200


def test_desk_banner_no_actions_and_clean_refusals(archived: Complaint, people: dict[str, User]) -> None:
    client = Client()
    assert client.login(username="c_supervisor", password=PASSWORD)
    page = client.get(reverse("desk:detail", args=[archived.number])).content.decode()
    assert "Archived, read-only" in page or "只读" in page
    assert "desk:transition" not in page and "/do/" not in page
    assert 'id="closing"' not in page
    events = Event.objects.filter(complaint=archived).count()
    for url, data in [
        (reverse("desk:sla_action", args=[archived.number, "priority"]), {"priority": "1", "reason": "更急"}),
        (reverse("desk:transition", args=[archived.number, "close"]), {}),
        (reverse("followup:reopen", args=[archived.number]), {"reopen-reason": "不满意"}),
    ]:
        assert client.post(url, data).status_code == 422, url
    assert Event.objects.filter(complaint=archived).count() == events


def test_admin_cannot_change_archived(archived: Complaint, closed: Callable[..., Complaint]) -> None:
    superuser = User.objects.create_superuser("root", password=PASSWORD)
    model_admin = admin.site._registry[Complaint]
    request = RequestFactory().get("/")
    request.user = superuser
    assert model_admin.has_change_permission(request, archived) is False
    client = Client()
    client.force_login(superuser)
    url = reverse("admin:complaints_complaint_change", args=[archived.pk])
    assert client.get(url).status_code == 200  # viewable
    assert client.post(url, {"priority": "1"}).status_code == 403
    archived.refresh_from_db()
    assert archived.priority != 1


def test_api_archive(closed: Callable[..., Complaint], people: dict[str, User], api_as: Callable) -> None:
    complaint = closed()
    response = api_as(people["supervisor"]).post_json(f"/api/v1/complaints/{complaint.number}/archive")
    assert response.status_code == 403
    response = api_as(people["admin"]).post_json(f"/api/v1/complaints/{complaint.number}/archive")
    assert response.status_code == 200 and response.json()["status"] == "archived"


def test_every_form_left_on_an_archived_page_is_refused_cleanly(
    handled: Callable[..., tuple[Complaint, dict]], people: dict[str, User]
) -> None:
    import re

    from closeloop.handling.models import FeedbackStatus
    from tests.followup.closing.conftest import add_form

    complaint, tasks = handled()
    for task in tasks.values():
        add_form(complaint, task, FeedbackStatus.APPROVED)
    set_followup(complaint, FollowUpOutcome.SATISFIED)
    complaint_transition(complaint=complaint, action="close", actor=people["agent"], via="desk")
    complaint_archive(complaint=complaint, actor=None, via="system")
    events = Event.objects.filter(complaint=complaint).count()
    for who in ("supervisor", "quality_handler", "admin"):
        client = Client()
        client.force_login(people[who])
        page = client.get(reverse("desk:detail", args=[complaint.number])).content.decode()
        actions = set(re.findall(r'<form[^>]*method="post"[^>]*action="([^"]+)"', page))
        for action in actions:
            if action.startswith(("/logout", "/i18n")):
                continue
            data = {  # filled in as a person would (a contact form's fields), so the refusal is the archive's
                "at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
                "channel": "phone",
                "outcome": "reached",
                "summary": "客户又来电",
            }
            response = client.post(action, data)
            assert response.status_code in (400, 403, 404, 422), (who, action, response.status_code)
            if "/contact/" in action:
                assert "read-only" in response.content.decode()
    assert Event.objects.filter(complaint=complaint).count() == events
