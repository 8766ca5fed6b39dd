"""Retention (domain rule 7): personal data of complaints archived more than RETENTION_YEARS ago is
anonymised, a customer only once all their complaints are; every report figure stays the same; the
dry run changes nothing; each run is recorded."""

from __future__ import annotations

import datetime
import io
import os
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.utils import timezone

from closeloop.complaints.models import Attachment, Complaint, Event
from closeloop.complaints.services import AttachmentUpload, complaint_attach, complaint_transition
from closeloop.directory.models import Customer
from closeloop.followup.models import Anonymisation, FollowUp, FollowUpOutcome
from closeloop.followup.services.closing import complaint_archive
from closeloop.followup.services.retention import ANONYMOUS_NAME, complaints_anonymise, scrub
from closeloop.followup.tasks import anonymise_task
from closeloop.handling.models import ContactLog
from closeloop.handling.services.tasks import contact_log_add
from tests.followup.closing.conftest import resolve, set_followup

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
YEAR = datetime.timedelta(days=365)


@pytest.fixture
def archived(make_complaint: Callable[..., Complaint], people: dict[str, User]) -> Callable[..., Complaint]:
    """A complaint received `ago` before now, with a contact, a photo and a follow-up, closed and archived."""

    def make(ago: datetime.timedelta, phone: str, name: str = "王芳", **intake: Any) -> Complaint:
        at = timezone.now() - ago
        complaint = make_complaint(
            now=at,
            phone=phone,
            customer_name=name,
            email=f"{phone}@example.com",
            address="广州市天河区体育西路1号",
            province=intake.pop("province", "广东"),
            city="广州",
            description=f"灯不亮,请打 {phone} 联系我",
            order_no="SO-778899",
            **intake,
        )
        contact_log_add(
            complaint=complaint,
            at=at,
            channel="phone",
            outcome="reached",
            summary=f"与{name}通话,住址广州市天河区",
            actor=people["agent"],
            via="desk",
            now=at,
        )
        complaint_attach(
            complaint=complaint,
            upload=AttachmentUpload(name=f"{name}的发票.png", file=io.BytesIO(PNG), size=len(PNG)),
            actor=people["agent"],
            via="desk",
            now=at,
        )
        complaint = resolve(complaint, people["agent"], now=at)
        followup = set_followup(complaint, FollowUpOutcome.SATISFIED, at=at)
        FollowUp.objects.filter(pk=followup.pk).update(comments=f"满意,有事打{phone}", suggestions="包装加固")
        complaint = complaint_transition(complaint=complaint, action="close", actor=people["agent"], via="desk", now=at)
        return complaint_archive(complaint=complaint, actor=None, via="system", now=at + datetime.timedelta(days=8))

    return make


def _figures() -> dict[str, Any]:
    """What the reports count: by type, province, city, channel, priority, month received, status, and
    the satisfied follow-ups."""
    complaints = Complaint.objects.all()
    return {
        "total": complaints.count(),
        "by_type": sorted(complaints.values_list("type__code").annotate(n=Count("id"))),
        "by_province": sorted(complaints.values_list("province", "city").annotate(n=Count("id"))),
        "by_channel_priority": sorted(complaints.values_list("channel", "priority").annotate(n=Count("id"))),
        "by_month": sorted(
            (m.isoformat(), n)
            for m, n in complaints.annotate(m=TruncMonth("received_at")).values_list("m").annotate(n=Count("id"))
        ),
        "by_status": sorted(complaints.values_list("status").annotate(n=Count("id"))),
        "by_product": sorted(complaints.values_list("product_id").annotate(n=Count("id"))),
        "satisfied": FollowUp.objects.filter(outcome=FollowUpOutcome.SATISFIED).count(),
        "contacts": ContactLog.objects.count(),
        "attachments": sorted(Attachment.objects.values_list("kind", "content_type", "size")),
        "dates": sorted(complaints.values_list("received_at", "resolved_at", "closed_at", "archived_at")),
        "events": Event.objects.exclude(action="anonymised").count(),
    }


@pytest.fixture
def world(archived: Callable[..., Complaint]) -> dict[str, Complaint]:
    return {
        # Only complaint of its customer, archived 3 years ago: everything goes.
        "old": archived(3 * YEAR, phone="13900000001", name="王芳"),
        # Its customer complained again recently: the complaint is anonymised, the customer kept.
        "old_of_returning": archived(3 * YEAR, phone="13900000002", name="李强", province="浙江", type_code="service"),
        "recent_of_returning": archived(YEAR, phone="13900000002", name="李强", province="浙江"),
        # Archived a year ago: inside retention, untouched.
        "recent": archived(YEAR, phone="13900000003", name="赵敏", province="江苏"),
    }


def _snapshot() -> list[tuple[Any, ...]]:
    return sorted(
        [
            *Complaint.objects.values_list("pk", "description", "order_no", "anonymised_at"),
            *Customer.objects.values_list("pk", "name", "phone", "email", "address", "anonymised_at"),
            *ContactLog.objects.values_list("pk", "summary"),
            *Attachment.objects.values_list("pk", "original_name", "file"),
            *FollowUp.objects.values_list("pk", "comments"),
        ],
        key=repr,
    )


def test_dry_run_changes_nothing_and_is_recorded(world: dict[str, Complaint]) -> None:
    before = _snapshot()
    events = Event.objects.count()
    out = io.StringIO()
    call_command("anonymise", "--dry-run", stdout=out)
    assert _snapshot() == before and Event.objects.count() == events
    assert world["old"].number in out.getvalue() and "Would anonymise 2 complaint(s)" in out.getvalue()
    run = Anonymisation.objects.get()
    assert run.dry_run is True and run.complaints == 2 and run.customers == 1
    assert sorted(run.details["numbers"]) == sorted([world["old"].number, world["old_of_returning"].number])
    assert run.details["contacts"] == 2 and run.details["attachments"] == 2


def test_anonymises_past_retention_keeping_every_figure(
    world: dict[str, Complaint], django_capture_on_commit_callbacks: Any
) -> None:
    figures = _figures()
    files = {a.pk: a.file.path for a in Attachment.objects.all()}

    with django_capture_on_commit_callbacks(execute=True):
        result = complaints_anonymise()

    assert sorted(result.complaints) == sorted([world["old"].number, world["old_of_returning"].number])
    assert _figures() == figures

    old = Complaint.objects.select_related("customer").get(pk=world["old"].pk)
    assert old.anonymised_at is not None and old.order_no == ""
    assert "13900000001" not in old.description and "灯不亮" in old.description
    customer = old.customer
    assert (customer.name, customer.phone, customer.email, customer.address) == (ANONYMOUS_NAME, "", "", "")
    assert customer.anonymised_at is not None and (customer.province, customer.city) == ("广东", "广州市")
    assert ContactLog.objects.get(complaint=old).summary == ""
    photo = Attachment.objects.get(complaint=old)
    assert photo.original_name == "removed" and not photo.file and photo.size == len(PNG)
    assert not os.path.exists(files[photo.pk])
    followup = FollowUp.objects.get(complaint=old)
    assert "13900000001" not in followup.comments and followup.suggestions == "包装加固"
    assert followup.outcome == FollowUpOutcome.SATISFIED
    event = Event.objects.get(complaint=old, action="anonymised")
    assert event.actor is None

    # The returning customer keeps their data; their old complaint is anonymised all the same.
    returning = Complaint.objects.select_related("customer").get(pk=world["old_of_returning"].pk)
    assert returning.anonymised_at is not None
    assert returning.customer.name == "李强" and returning.customer.phone == "13900000002"
    assert returning.customer.anonymised_at is None

    # Inside retention: untouched.
    for key in ("recent", "recent_of_returning"):
        recent = Complaint.objects.get(pk=world[key].pk)
        assert recent.anonymised_at is None and recent.order_no == "SO-778899"
        assert ContactLog.objects.get(complaint=recent).summary != ""
        assert Attachment.objects.get(complaint=recent).original_name != "removed"
        assert os.path.exists(files[Attachment.objects.get(complaint=recent).pk])

    run = Anonymisation.objects.get()
    assert run.dry_run is False and run.complaints == 2 and run.customers == 1

    # A second run (the weekly job) finds nothing more; it is recorded all the same.
    anonymise_task.call_local()
    assert Anonymisation.objects.count() == 2 and Anonymisation.objects.first().complaints == 0  # type: ignore[union-attr]
    assert Event.objects.filter(action="anonymised").count() == 2


def test_customer_anonymised_once_their_last_complaint_passes_retention(
    world: dict[str, Complaint], settings: Any
) -> None:
    complaints_anonymise()
    later = timezone.now() + 3 * YEAR
    result = complaints_anonymise(now=later)
    assert sorted(result.complaints) == sorted([world["recent"].number, world["recent_of_returning"].number])
    assert Customer.objects.get(pk=world["recent_of_returning"].customer_id).name == ANONYMOUS_NAME


def test_retention_years_is_configuration(world: dict[str, Complaint], settings: Any) -> None:
    settings.RETENTION_YEARS = 5
    assert complaints_anonymise(dry_run=True).complaints == []


def test_api_is_for_admins(world: dict[str, Complaint], people: dict[str, User], api_as: Callable) -> None:
    response = api_as(people["supervisor"]).post_json("/api/v1/retention/anonymise", {"dry_run": False})
    assert response.status_code == 403
    assert not Anonymisation.objects.exists()
    response = api_as(people["admin"]).post_json("/api/v1/retention/anonymise", {"dry_run": True})
    assert response.status_code == 200 and response.json()["dry_run"] is True
    assert len(response.json()["complaints"]) == 2
    assert Complaint.objects.filter(anonymised_at__isnull=False).count() == 0
    response = api_as(people["admin"]).post_json("/api/v1/retention/anonymise", {"dry_run": False})
    assert response.status_code == 200
    assert Complaint.objects.filter(anonymised_at__isnull=False).count() == 2
    assert Anonymisation.objects.get(dry_run=False).by == people["admin"]


def test_scrub() -> None:
    assert scrub("请打 138-1234-5678 或 +86 13812345678,邮件 a.b@example.com") == "请打 *** 或 ***,邮件 ***"
    assert scrub("型号 XD-100 批次 20240501") == "型号 XD-100 批次 20240501"
