"""The notification centre (issue 17): a notice is a link to its thing, read or unread, done once anyone
did what it asked, shown in its reader's language; the badge and the complaint page update live."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import translation

from closeloop.complaints.models import Complaint
from closeloop.core.roles import Role
from closeloop.handling.models import Solution, Task
from closeloop.handling.services.solutions import solution_decide
from closeloop.notifications.models import Method, Notification
from closeloop.notifications.selectors import unread_count

pytestmark = pytest.mark.django_db


def _client(user: User, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


@pytest.fixture
def awaiting(
    working: Callable[..., tuple[Complaint, dict[str, Task]]],
    propose: Callable[..., Solution],
    people: dict[str, User],
    make_user: Callable[..., User],
    settings: Any,
) -> tuple[Complaint, Solution, User]:
    """A solution waiting for the CS supervisors' approval, its notices written in Chinese (the
    installation's language); a second supervisor who was told as well."""
    settings.LANGUAGE_CODE = "zh-hans"
    other = make_user(Role.CS_SUPERVISOR, username="p_supervisor2")
    complaint, tasks = working()
    solution = propose(complaint, tasks["quality"])
    return complaint, solution, other


def _approval_notice(user: User) -> Notification:
    return Notification.objects.get(recipient=user, method=Method.IN_APP, kind="solution_approval")


def test_a_notice_is_shown_in_the_readers_language(
    awaiting: tuple[Complaint, Solution, User], people: dict[str, User]
) -> None:
    complaint, _solution, _other = awaiting
    row = _approval_notice(people["supervisor"])
    assert "审批" in row.subject  # the stored copy, as the e-mail went: the installation's language
    with translation.override("en"):
        assert row.shown_subject == f"Solution for {complaint.number} waits for your approval"
        assert row.shown_body.startswith("Level 1 of 1. Measures: on-site repair")
    with translation.override("zh-hans"):
        assert "审批" in row.shown_subject and complaint.number in row.shown_subject

    page = _client(people["supervisor"], "en").get(reverse("notifications:inbox")).content.decode()
    assert f"Solution for {complaint.number} waits for your approval" in page
    api = _client(people["supervisor"], "en").get("/api/v1/notifications")
    item = api.json()["items"][0]
    assert item["subject"] == f"Solution for {complaint.number} waits for your approval"
    assert item["link"] == reverse("desk:detail", args=[complaint.number]) + "#solutions"


def test_rows_written_before_keep_their_words(people: dict[str, User]) -> None:
    row = Notification.objects.create(recipient=people["agent"], kind="old", subject="旧的通知", body="正文")
    with translation.override("en"):
        assert (row.shown_subject, row.shown_body) == ("旧的通知", "正文")


def test_opening_a_notice_marks_it_read_and_leads_to_the_thing(
    awaiting: tuple[Complaint, Solution, User], people: dict[str, User]
) -> None:
    complaint, _solution, _other = awaiting
    supervisor = people["supervisor"]
    row = _approval_notice(supervisor)
    client = _client(supervisor)
    page = client.get(reverse("notifications:inbox")).content.decode()
    assert reverse("notifications:open", args=[row.pk]) in page and "unread" in page
    before = unread_count(user=supervisor)

    response = client.get(reverse("notifications:open", args=[row.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("desk:detail", args=[complaint.number]) + "#solutions"
    row.refresh_from_db()
    assert row.read_at is not None and unread_count(user=supervisor) == before - 1
    # Someone else's notice is not there for them.
    assert _client(people["agent"]).get(reverse("notifications:open", args=[row.pk])).status_code == 404


def test_mark_one_read(awaiting: tuple[Complaint, Solution, User], people: dict[str, User]) -> None:
    supervisor = people["supervisor"]
    row = _approval_notice(supervisor)
    response = _client(supervisor).post(reverse("notifications:read"), {"id": row.pk, "next": "/desk/notifications/"})
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.read_at is not None


def test_the_approval_notice_is_done_once_anyone_decided(
    awaiting: tuple[Complaint, Solution, User], people: dict[str, User]
) -> None:
    _complaint, solution, other = awaiting
    mine, theirs = _approval_notice(people["supervisor"]), _approval_notice(other)
    assert unread_count(user=other) >= 1
    count_before = unread_count(user=other)

    solution_decide(solution=solution, approve=True, actor=people["supervisor"], via="desk")

    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.done_at is not None and theirs.done_at is not None
    assert unread_count(user=other) == count_before - 1  # no longer "waits for your approval"
    page = _client(other).get(reverse("notifications:inbox")).content.decode()
    assert f'id="n{theirs.pk}" class="notification done"' in page


def test_badge_polls_with_one_count(
    awaiting: tuple[Complaint, Solution, User], people: dict[str, User], django_assert_max_num_queries: Any
) -> None:
    client = _client(people["supervisor"])
    client.get(reverse("notifications:badge"))
    # session, user, the count (and the second factor's device check of the desk)
    with django_assert_max_num_queries(4):
        response = client.get(reverse("notifications:badge"))
    text = response.content.decode()
    assert 'hx-trigger="every 20s"' in text and 'class="badge-count">1<' in text


def test_the_open_complaint_page_learns_of_a_change(
    awaiting: tuple[Complaint, Solution, User], people: dict[str, User], django_assert_max_num_queries: Any
) -> None:
    complaint, solution, _other = awaiting
    client = _client(people["agent"])
    page = client.get(reverse("desk:detail", args=[complaint.number])).content.decode()
    marker = reverse("desk:changed", args=[complaint.number]) + "?after="
    assert marker in page
    version = page.split(marker)[1].split('"')[0]
    url = marker + version
    # session, user, second factor, the user's roles, the visible complaint, its newer events
    with django_assert_max_num_queries(6):
        assert client.get(url).status_code == 204  # nothing new: htmx leaves the page alone

    solution_decide(solution=solution, approve=True, actor=people["supervisor"], via="desk")

    response = client.get(url)
    assert response.status_code == 200
    assert "This complaint changed" in response.content.decode()
    assert client.get(reverse("desk:changed", args=["TS19990101-0001"]) + "?after=1").status_code == 404
