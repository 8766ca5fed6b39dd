"""The self-service survey: a link through the outbox, answered on the portal like an agent's answer;
forged, expired and used links refused with a clear page and nothing recorded."""

from __future__ import annotations

import datetime
import hashlib
import re
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from closeloop.complaints.lifecycle import Status
from closeloop.complaints.models import Complaint, Event
from closeloop.core.errors import DomainError
from closeloop.followup.models import FollowUp, FollowUpOutcome, SurveyLink
from closeloop.followup.services.followups import followup_record
from closeloop.followup.services.survey import survey_link_create
from closeloop.notifications.models import Notification

pytestmark = pytest.mark.django_db


def _send(followup: FollowUp, agent: User, method: str = "sms", **kw: object) -> str:
    return survey_link_create(followup=followup, method=method, actor=agent, **kw)  # type: ignore[arg-type]


def test_link_is_queued_to_the_customer_and_only_its_hash_is_kept(
    resolved: Callable[..., FollowUp], agent: User
) -> None:
    followup = resolved(email="zhang@example.com")
    token = _send(followup, agent)
    link = SurveyLink.objects.get(followup=followup)
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in link.token_hash
    assert link.expires_at - link.created_at == datetime.timedelta(days=7)
    message = Notification.objects.get(kind="survey")
    assert (
        message.recipient is None and message.method == "sms" and message.address == followup.complaint.customer.phone
    )
    url = re.search(r"https?://\S+/portal/survey/\S+/", message.body)
    assert url and url.group(0).endswith(f"/portal/survey/{token}/")
    assert followup.complaint.customer.phone not in url.group(0) and followup.complaint.number not in url.group(0)
    event = Event.objects.get(complaint=followup.complaint, action="survey_sent")
    assert token not in str(event.after)
    _send(followup, agent, method="email")
    assert Notification.objects.get(kind="survey", method="email").address == "zhang@example.com"


def test_no_email_address_is_a_field_error(resolved: Callable[..., FollowUp], agent: User) -> None:
    followup = resolved()
    with pytest.raises(DomainError) as exc:
        _send(followup, agent, method="email")
    assert exc.value.field == "method"
    assert not SurveyLink.objects.exists() and not Notification.objects.filter(kind="survey").exists()


def test_page_shows_the_question_without_personal_data(
    resolved: Callable[..., FollowUp], agent: User, product: object, client: Client
) -> None:
    followup = resolved(product_model="XD-100")
    token = _send(followup, agent)
    response = client.get(f"/portal/survey/{token}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    html = response.content.decode()
    assert followup.complaint.number in html and "XD-100" in html
    for label in ("非常满意", "满意", "一般", "不满意"):
        assert label in html
    assert followup.complaint.customer.phone not in html and "张伟" not in html


def test_survey_answer_records_exactly_like_an_agents(
    resolved: Callable[..., FollowUp], agent: User, client: Client
) -> None:
    by_agent = resolved()
    followup_record(
        followup=by_agent, method="phone", solved=True, level="satisfied", comments="好", actor=agent, via="desk"
    )
    by_customer = resolved()
    token = _send(by_customer, agent)
    response = client.post(
        f"/portal/survey/{token}/", {"solved": "yes", "level": "satisfied", "comments": "好", "suggestions": ""}
    )
    assert response.status_code == 200 and "survey-done" in response.content.decode()
    a, c = FollowUp.objects.get(pk=by_agent.pk), FollowUp.objects.get(pk=by_customer.pk)
    for name in ("outcome", "solved", "satisfaction_id", "comments", "suggestions"):
        assert getattr(a, name) == getattr(c, name), name
    assert c.outcome == FollowUpOutcome.SATISFIED and c.method == "survey" and c.completed_by is None
    ea = Event.objects.get(complaint=a.complaint, action="followup_recorded")
    ec = Event.objects.get(complaint=c.complaint, action="followup_recorded")
    assert {k: v for k, v in ea.after.items() if k not in ("followup", "method")} == {
        k: v for k, v in ec.after.items() if k not in ("followup", "method")
    }
    assert ec.via == "portal" and ec.actor is None
    assert SurveyLink.objects.get(followup=c).used_at is not None


def test_unsatisfied_survey_answer_reopens_and_escalates(
    resolved: Callable[..., FollowUp], agent: User, supervisor: User, client: Client
) -> None:
    followup = resolved()
    token = _send(followup, agent)
    client.post(f"/portal/survey/{token}/", {"solved": "no", "level": "unsatisfied", "comments": "还是坏的"})
    complaint = Complaint.objects.get(pk=followup.complaint_id)
    assert complaint.status == Status.REOPENED
    assert Event.objects.get(complaint=complaint, action="reopen").note == "还是坏的"
    assert Event.objects.filter(complaint=complaint, action="escalated").exists()
    assert Notification.objects.filter(recipient=supervisor, complaint=complaint).exists()


def test_forged_token_is_refused_with_a_clear_page(client: Client, db: None) -> None:
    response = client.get("/portal/survey/not-a-real-token/")
    assert response.status_code == 404 and 'data-state="unknown"' in response.content.decode()
    response = client.post("/portal/survey/not-a-real-token/", {"solved": "yes", "level": "satisfied"})
    assert response.status_code == 404
    assert not Event.objects.filter(action="followup_recorded").exists()


def test_expired_link_is_refused_and_records_nothing(
    resolved: Callable[..., FollowUp], agent: User, client: Client
) -> None:
    followup = resolved()
    token = _send(followup, agent, now=timezone.now() - datetime.timedelta(days=8))
    for response in (
        client.get(f"/portal/survey/{token}/"),
        client.post(f"/portal/survey/{token}/", {"solved": "yes", "level": "satisfied"}),
    ):
        assert response.status_code == 410 and 'data-state="expired"' in response.content.decode()
    followup.refresh_from_db()
    assert followup.outcome == "" and followup.attempts.count() == 0


def test_used_link_is_refused_and_records_once(resolved: Callable[..., FollowUp], agent: User, client: Client) -> None:
    followup = resolved()
    token = _send(followup, agent)
    first = client.post(f"/portal/survey/{token}/", {"solved": "yes", "level": "satisfied"})
    assert first.status_code == 200
    again = client.post(f"/portal/survey/{token}/", {"solved": "no", "level": "unsatisfied"})
    assert again.status_code == 410 and 'data-state="used"' in again.content.decode()
    assert client.get(f"/portal/survey/{token}/").status_code == 410
    assert Event.objects.filter(complaint=followup.complaint, action="followup_recorded").count() == 1
    followup.refresh_from_db()
    assert followup.outcome == FollowUpOutcome.SATISFIED


def test_link_of_a_followup_answered_by_an_agent_is_spent(
    resolved: Callable[..., FollowUp], agent: User, client: Client
) -> None:
    followup = resolved()
    token = _send(followup, agent)
    followup_record(followup=followup, method="phone", solved=True, level="satisfied", actor=agent, via="desk")
    response = client.post(f"/portal/survey/{token}/", {"solved": "no", "level": "unsatisfied"})
    assert response.status_code == 410
    assert Event.objects.filter(complaint=followup.complaint, action="followup_recorded").count() == 1


def test_invalid_answer_keeps_what_was_typed_and_leaves_the_link_usable(
    resolved: Callable[..., FollowUp], agent: User, client: Client
) -> None:
    followup = resolved()
    token = _send(followup, agent)
    response = client.post(f"/portal/survey/{token}/", {"level": "satisfied", "comments": "我写的意见"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "我写的意见" in html and 'role="alert"' in html
    assert SurveyLink.objects.get(followup=followup).used_at is None
    assert client.post(f"/portal/survey/{token}/", {"solved": "yes", "level": "satisfied"}).status_code == 200
