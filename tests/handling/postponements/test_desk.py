"""The desk: the postponement panel and its forms, and the "waiting for my decision" page."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from closeloop.complaints.models import Complaint
from closeloop.handling.models import Dispute, Postponement, PostponementStatus, Task
from closeloop.handling.services.disputes import dispute_raise
from closeloop.handling.services.postponements import (
    open_reply_deadline,
    postponement_cs_confirm,
    postponement_manager_opinion,
    postponement_request,
)
from tests.conftest import PASSWORD

Dispatched = Callable[..., tuple[Complaint, dict[str, Task]]]


def _client(user: User) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def _local(value: datetime.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def _request(task: Task, people: dict[str, User], days: int = 5) -> Postponement:
    due = open_reply_deadline(task).due_at  # type: ignore[union-attr]
    return postponement_request(
        task=task,
        reason="生产周期",
        proposed_due=due + datetime.timedelta(days=days),
        actor=task.handler,  # type: ignore[arg-type]
        via="desk",
    )


def test_handler_sees_the_request_form_and_requests(dispatched: Dispatched, people: dict[str, User]) -> None:
    complaint, tasks = dispatched()
    client = _client(people["tech_handler"])
    page = client.get(reverse("desk:detail", args=[complaint.number]))
    assert page.status_code == 200
    html = page.content.decode()
    assert reverse("handling:postponement_request", args=[tasks["tech"].pk]) in html
    # not for the other department's task
    assert reverse("handling:postponement_request", args=[tasks["quality"].pk]) not in html

    due = open_reply_deadline(tasks["tech"]).due_at + datetime.timedelta(days=3)  # type: ignore[union-attr]
    prefix = f"pp-task-{tasks['tech'].pk}"
    response = client.post(
        reverse("handling:postponement_request", args=[tasks["tech"].pk]),
        {f"{prefix}-reason": "等待生产", f"{prefix}-proposed_due": _local(due)},
    )
    assert response.status_code == 302
    postponement = Postponement.objects.get()
    assert postponement.status == PostponementStatus.PENDING_MANAGER
    page = client.get(reverse("desk:detail", args=[complaint.number]))
    assert "等待生产" in page.content.decode()


def test_refusal_keeps_what_was_typed(dispatched: Dispatched, people: dict[str, User]) -> None:
    _complaint, tasks = dispatched()
    client = _client(people["tech_handler"])
    due = open_reply_deadline(tasks["tech"]).due_at - datetime.timedelta(hours=1)  # type: ignore[union-attr]
    prefix = f"pp-task-{tasks['tech'].pk}"
    response = client.post(
        reverse("handling:postponement_request", args=[tasks["tech"].pk]),
        {f"{prefix}-reason": "我写的理由", f"{prefix}-proposed_due": _local(due)},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "我写的理由" in html
    assert "has-error" in html
    assert not Postponement.objects.exists()


def test_invisible_task_is_404(dispatched: Dispatched, people: dict[str, User], make_user: Callable[..., User]) -> None:
    _complaint, tasks = dispatched()
    from closeloop.directory.models import Department

    outsider = make_user("handler", departments=[Department.objects.get(code="sales")], username="outsider")
    response = _client(outsider).post(
        reverse("handling:postponement_request", args=[tasks["tech"].pk]), {"reason": "x"}
    )
    assert response.status_code == 404


def test_wrong_role_is_refused_on_the_step(dispatched: Dispatched, people: dict[str, User]) -> None:
    """An agent cannot give the department manager's opinion."""
    complaint, tasks = dispatched()
    postponement = _request(tasks["tech"], people)
    client = _client(people["agent"])
    page = client.get(reverse("desk:detail", args=[complaint.number])).content.decode()
    assert reverse("handling:postponement_step", args=[postponement.pk, "opinion"]) not in page
    prefix = f"pp-{postponement.pk}"
    response = client.post(
        reverse("handling:postponement_step", args=[postponement.pk, "opinion"]),
        {f"{prefix}-agrees": "yes", f"{prefix}-opinion": "同意"},
    )
    assert response.status_code == 403
    postponement.refresh_from_db()
    assert postponement.status == PostponementStatus.PENDING_MANAGER


def test_chain_through_the_desk(dispatched: Dispatched, people: dict[str, User]) -> None:
    complaint, tasks = dispatched()
    postponement = _request(tasks["tech"], people)
    prefix = f"pp-{postponement.pk}"
    manager = _client(people["tech_manager"])
    page = manager.get(reverse("desk:detail", args=[complaint.number])).content.decode()
    assert reverse("handling:postponement_step", args=[postponement.pk, "opinion"]) in page
    response = manager.post(
        reverse("handling:postponement_step", args=[postponement.pk, "opinion"]),
        {f"{prefix}-agrees": "yes", f"{prefix}-opinion": "同意推迟"},
    )
    assert response.status_code == 302
    # CS disagrees without a note: refused on the field
    agent = _client(people["agent"])
    response = agent.post(
        reverse("handling:postponement_step", args=[postponement.pk, "confirm"]),
        {f"{prefix}-agrees": "no", f"{prefix}-note": ""},
    )
    assert response.status_code == 422
    response = agent.post(
        reverse("handling:postponement_step", args=[postponement.pk, "confirm"]),
        {f"{prefix}-agrees": "no", f"{prefix}-note": "客户不同意"},
    )
    assert response.status_code == 302
    gm = _client(people["management"])
    response = gm.post(
        reverse("handling:postponement_step", args=[postponement.pk, "decide"]),
        {f"{prefix}-approve": "yes", f"{prefix}-note": "批准"},
    )
    assert response.status_code == 302
    postponement.refresh_from_db()
    assert postponement.status == PostponementStatus.APPROVED
    page = gm.get(reverse("desk:detail", args=[complaint.number])).content.decode()
    assert "同意推迟" in page and "客户不同意" in page and "批准" in page


def _decisions_count(client: Client, count_queries: Callable[[], object]) -> tuple[int, str]:
    with count_queries() as ctx:  # type: ignore[attr-defined]
        response = client.get(reverse("handling:decisions"))
    assert response.status_code == 200
    return ctx.count, response.content.decode()  # type: ignore[attr-defined]


@pytest.mark.parametrize("who", ["tech_manager", "agent", "management", "quality"])
def test_decisions_page_fixed_queries(
    dispatched: Dispatched, people: dict[str, User], count_queries: Callable[[], object], who: str
) -> None:
    client = _client(people[who])
    client.get(reverse("handling:decisions"))  # warm up session/caches

    def add_one() -> None:
        _complaint, tasks = dispatched()
        for name in ("tech",):
            p = _request(tasks[name], people)
            if who in ("agent", "management"):
                postponement_manager_opinion(postponement=p, agrees=True, opinion="同意", actor=people["tech_manager"])
            if who == "management":
                postponement_cs_confirm(postponement=p, agrees=False, note="不同意", actor=people["agent"])
        dispute_raise(task=tasks["quality"], reason="不是质量部的", actor=people["quality_handler"], via="desk")

    add_one()
    first, html = _decisions_count(client, count_queries)
    add_one()
    add_one()
    second, html = _decisions_count(client, count_queries)
    assert first == second
    if who == "quality":
        assert Dispute.objects.count() == 3 and html.count("#dispute-") == 3
    else:
        assert html.count("#postponement-") == 3


def test_decisions_page_lists_only_my_steps(dispatched: Dispatched, people: dict[str, User]) -> None:
    _complaint, tasks = dispatched()
    pending_tech = _request(tasks["tech"], people)
    _request(tasks["quality"], people)
    html = _client(people["tech_manager"]).get(reverse("handling:decisions")).content.decode()
    assert f"#postponement-{pending_tech.pk}" in html and html.count("#postponement-") == 1
    # customer service has nothing yet: the opinion comes first
    assert _client(people["agent"]).get(reverse("handling:decisions")).content.decode().count("#postponement-") == 0


def test_nav_link_for_deciding_roles(people: dict[str, User]) -> None:
    url = reverse("handling:decisions")
    assert url in _client(people["tech_manager"]).get(reverse("desk:queue")).content.decode()
    assert url in _client(people["quality"]).get(reverse("desk:queue")).content.decode()
    assert url not in _client(people["tech_handler"]).get(reverse("desk:queue")).content.decode()
    assert url not in _client(people["auditor"]).get(reverse("desk:queue")).content.decode()
