"""The desk: the call list (fixed queries, masking, order) and the panel's forms."""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from closeloop.complaints.models import PersonalDataAccess
from closeloop.followup.models import FollowUp, FollowUpOutcome
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _client(user: User) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_call_list_overdue_first_with_badges_and_links(resolved: Callable[..., FollowUp], agent: User) -> None:
    recent = resolved()
    old = resolved(now=timezone.now() - datetime.timedelta(days=10))
    html = _client(agent).get("/desk/f/followups/").content.decode()
    assert html.index(old.complaint.number) < html.index(recent.complaint.number)
    assert "tl-breached" in html
    assert f'href="/desk/c/{old.complaint.number}/#followups"' in html
    assert recent.complaint.customer.phone in html  # agents may see it, and it is logged
    assert PersonalDataAccess.objects.filter(user=agent, complaint=recent.complaint).exists()
    assert 'href="/desk/f/followups/"' in html  # nav link


def test_call_list_masks_for_users_without_permission(resolved: Callable[..., FollowUp], auditor: User) -> None:
    followup = resolved()
    html = _client(auditor).get("/desk/f/followups/?due=all").content.decode()
    assert followup.complaint.number in html and followup.complaint.customer.phone not in html
    assert not PersonalDataAccess.objects.filter(user=auditor).exists()


def test_call_list_query_count_is_fixed(
    resolved: Callable[..., FollowUp], agent: User, count_queries: Callable
) -> None:
    client = _client(agent)
    counts = []
    client.get("/desk/f/followups/")  # warm up: session bookkeeping happens once
    for n in (3, 30):
        while FollowUp.objects.count() < n:
            resolved()
        with count_queries() as q:
            response = client.get("/desk/f/followups/?due=all")
        assert response.content.decode().count('class="followup-row"') == n
        counts.append(q.count)
    assert counts[0] == counts[1]


def test_panel_forms_for_agents_only(resolved: Callable[..., FollowUp], agent: User, auditor: User) -> None:
    followup = resolved()
    url = f"/desk/c/{followup.complaint.number}/"
    html = _client(agent).get(url).content.decode()
    assert 'id="followups"' in html and 'data-action="record"' in html and 'data-action="survey"' in html
    html = _client(auditor).get(url).content.decode()
    assert 'id="followups"' in html and 'data-action="record"' not in html
    assert (
        _client(auditor)
        .post(f"/desk/f/followups/{followup.pk}/attempt/", {"method": "phone", "result": "busy"})
        .status_code
        == 403
    )


def test_desk_attempt_then_record(resolved: Callable[..., FollowUp], agent: User) -> None:
    followup = resolved()
    client = _client(agent)
    response = client.post(f"/desk/f/followups/{followup.pk}/attempt/", {"method": "phone", "result": "no_answer"})
    assert response.status_code == 302
    bad = client.post(
        f"/desk/f/followups/{followup.pk}/record/", {"method": "phone", "level": "satisfied", "comments": "已修好"}
    )
    assert bad.status_code == 422 and "已修好" in bad.content.decode()
    ok = client.post(
        f"/desk/f/followups/{followup.pk}/record/", {"method": "phone", "solved": "yes", "level": "satisfied"}
    )
    assert ok.status_code == 302
    followup.refresh_from_db()
    assert followup.outcome == FollowUpOutcome.SATISFIED and followup.attempts.count() == 2


def test_call_list_is_paged_in_deadline_order(
    resolved: Callable[..., FollowUp], agent: User, monkeypatch: pytest.MonkeyPatch, count_queries: Callable
) -> None:
    from closeloop.followup.views import followups as views

    monkeypatch.setattr(views, "CALL_LIST_PAGE_SIZE", 2)
    # Received and answered Monday to Friday at 10:00: each 2wd follow-up deadline is later than the one before.
    # (Relative to now, a Saturday, Sunday and Monday-after-midnight answer can share or swap deadlines: CI once ran
    # at Tuesday 00:00 and the Monday answer was due before the Sunday one, rightly — sla.md's working-day rule.)
    monday = datetime.datetime(2026, 11, 16, 10, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))
    made = [resolved(now=monday + datetime.timedelta(days=days)) for days in range(5)]
    client = _client(agent)
    client.get("/desk/f/followups/")
    seen, counts = [], []
    for page in (1, 2, 3):
        with count_queries() as q:
            html = client.get(f"/desk/f/followups/?due=all&page={page}").content.decode()
        counts.append(q.count)
        assert "5 follow-ups to make" in html  # the whole list is counted, not the page
        seen.append([f.complaint.number for f in made if f.complaint.number in html])
        assert f"{page} / 3" in html
    # oldest (most overdue) first, two a page, each once
    assert seen == [
        [made[0].complaint.number, made[1].complaint.number],
        [made[2].complaint.number, made[3].complaint.number],
        [made[4].complaint.number],
    ]
    assert counts[0] == counts[1] == counts[2]
    assert 'href="?due=all&amp;page=2"' in client.get("/desk/f/followups/?due=all&page=3").content.decode()
