"""The CS supervisor's and quality's homes: two lists on one page each, their counts, their first rows,
links to the whole lists, reached from `home`; a fixed number of queries whatever the number of rows."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from closeloop.complaints.models import Complaint
from closeloop.defects.models import DefectAlert
from closeloop.directory.models import Product, ProductLine
from closeloop.handling.models import Solution, Task, TaskStatus
from closeloop.handling.services.disputes import dispute_raise
from closeloop.handling.services.solutions import solution_propose

pytestmark = pytest.mark.django_db

Dispatched = Callable[..., tuple[Complaint, dict[str, Task]]]


@pytest.fixture(autouse=True)
def _english(settings: object) -> None:
    settings.LANGUAGE_CODE = "en"  # type: ignore[attr-defined]


def _client(user: User) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def _waiting_solution(dispatched: Dispatched) -> Solution:
    complaint, tasks = dispatched()
    Task.objects.filter(complaint=complaint).update(status=TaskStatus.IN_PROGRESS)
    task = Task.objects.get(pk=tasks["tech"].pk)
    return solution_propose(
        complaint=complaint,
        task=task,
        measures=["onsite_repair"],
        description="上门更换驱动电源",
        compensation_amount=None,
        compensation_form="",
        custom_made=False,
        steps=[("更换驱动电源", task.handler, None)],
        actor=task.handler,
        via="desk",
    )


def _overdue(dispatched: Dispatched) -> Complaint:
    complaint, _tasks = dispatched()
    Complaint.objects.filter(pk=complaint.pk).update(next_due_at=timezone.now() - datetime.timedelta(hours=1))
    return complaint


def _dispute(dispatched: Dispatched, people: dict[str, User]) -> int:
    _complaint, tasks = dispatched()
    return dispute_raise(task=tasks["quality"], reason="不是质量部的", actor=people["quality_handler"], via="desk").pk


def _alert(n: int) -> DefectAlert:
    line, _created = ProductLine.objects.get_or_create(code="ceiling", defaults={"name": "吸顶灯"})
    product = Product.objects.create(model=f"HM-{n}", name=f"Lamp {n}", line=line)
    return DefectAlert.objects.create(product=product, threshold=3, window_days=7)


def test_the_supervisor_lands_on_approvals_and_escalations(dispatched: Dispatched, people: dict[str, User]) -> None:
    client = _client(people["supervisor"])
    home = client.get(reverse("home"))
    assert home.status_code == 302 and home["Location"] == reverse("handling:supervisor_home")
    solution = _waiting_solution(dispatched)
    overdue = _overdue(dispatched)
    on_time, _tasks = dispatched()
    page = client.get(home["Location"]).content.decode()
    approvals, escalations = page.split('id="home-escalations"')
    assert f"#solution-{solution.pk}" in approvals and 'class="badge">1<' in approvals
    assert reverse("handling:approvals") in approvals
    assert overdue.number in escalations and on_time.number not in escalations
    assert 'class="badge">1<' in escalations and reverse("desk:queue") + "?due=overdue" in escalations


def test_quality_lands_on_disputes_and_alerts(dispatched: Dispatched, people: dict[str, User]) -> None:
    client = _client(people["quality"])
    home = client.get(reverse("home"))
    assert home.status_code == 302 and home["Location"] == reverse("defects:quality_home")
    dispute = _dispute(dispatched, people)
    alert = _alert(1)
    page = client.get(home["Location"]).content.decode()
    disputes, alerts = page.split('id="home-alerts"')
    assert f"#dispute-{dispute}" in disputes and reverse("handling:decisions") in disputes
    assert reverse("defects:alert", args=[alert.pk]) in alerts and "HM-1" in alerts
    assert 'class="badge">1<' in alerts and reverse("defects:alerts") + "?status=open" in alerts


def test_a_handler_may_not_open_them(people: dict[str, User]) -> None:
    client = _client(people["tech_handler"])
    assert client.get(reverse("handling:supervisor_home")).status_code == 403
    assert client.get(reverse("defects:quality_home")).status_code == 403


def _queries(client: Client, url: str, count_queries: Callable[[], object]) -> tuple[int, str]:
    with count_queries() as ctx:  # type: ignore[attr-defined]
        response = client.get(url)
    assert response.status_code == 200
    return ctx.count, response.content.decode()  # type: ignore[attr-defined]


def test_supervisor_home_costs_fixed_queries(
    dispatched: Dispatched, people: dict[str, User], count_queries: Callable[[], object]
) -> None:
    client = _client(people["supervisor"])
    url = reverse("handling:supervisor_home")
    client.get(url)  # session and caches
    _waiting_solution(dispatched)
    _overdue(dispatched)
    one, _page = _queries(client, url, count_queries)
    for _ in range(6):  # more than the rows shown
        _waiting_solution(dispatched)
        _overdue(dispatched)
    many, page = _queries(client, url, count_queries)
    assert 'class="badge">7<' in page.split('id="home-escalations"')[0]
    assert many == one


def test_quality_home_costs_fixed_queries(
    dispatched: Dispatched, people: dict[str, User], count_queries: Callable[[], object]
) -> None:
    client = _client(people["quality"])
    url = reverse("defects:quality_home")
    client.get(url)
    _dispute(dispatched, people)
    _alert(0)
    one, _page = _queries(client, url, count_queries)
    for n in range(1, 7):
        _dispute(dispatched, people)
        _alert(n)
    many, page = _queries(client, url, count_queries)
    assert page.count('class="badge">7<') == 2
    assert many == one
