"""Saved views on the queue page: the picker, saving the filters shown, deleting; fixed queries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from closeloop.complaints.models import Complaint, SavedView
from closeloop.core.roles import Role

pytestmark = pytest.mark.django_db


def test_saving_the_filters_shown_and_finding_them_in_the_picker(agent_client: Client, agent: User) -> None:
    saved = agent_client.post("/desk/views/", {"name": "Urgent", "query": "priority=1&page=2"})
    assert saved.status_code == 302 and saved["Location"] == "/desk/?priority=1"
    view = SavedView.objects.get()
    assert (view.owner, view.query, view.shared) == (agent, "priority=1", False)

    page = agent_client.get("/desk/?priority=1").content.decode()
    assert '<a href="/desk/?priority=1" aria-current="page">Urgent</a>' in page


def test_an_agent_cannot_share_a_view_and_the_page_says_so(agent_client: Client) -> None:
    answer = agent_client.post("/desk/views/", {"name": "All", "query": "due=overdue", "shared": "1"}, follow=True)
    assert "Only CS supervisors manage shared views." in answer.content.decode()
    assert not SavedView.objects.exists()


def test_a_shared_view_reaches_everyone_and_only_a_supervisor_deletes_it(
    client_for: Callable[[User], Client], make_user: Callable[..., User], agent_client: Client
) -> None:
    supervisor = client_for(make_user(Role.CS_SUPERVISOR))
    supervisor.post("/desk/views/", {"name": "Overdue", "query": "due=overdue", "shared": "1"})
    view = SavedView.objects.get(shared=True)

    agent_page = agent_client.get("/desk/").content.decode()
    assert 'href="/desk/?due=overdue"' in agent_page
    assert f"/desk/views/{view.pk}/delete/" not in agent_page
    agent_client.post(f"/desk/views/{view.pk}/delete/")
    assert SavedView.objects.filter(pk=view.pk).exists()

    supervisor.post(f"/desk/views/{view.pk}/delete/")
    assert not SavedView.objects.filter(pk=view.pk).exists()


def test_the_picker_costs_one_query_whatever_the_number_of_views(
    agent_client: Client, agent: User, make_complaint: Callable[..., Complaint], count_queries: Callable[[], Any]
) -> None:
    make_complaint()
    SavedView.objects.create(owner=agent, name="one", query="priority=1")
    agent_client.get("/desk/")  # fills the per-process reference cache (types, departments): counts compare warm pages
    with count_queries() as few:
        agent_client.get("/desk/")
    for i in range(8):
        SavedView.objects.create(owner=agent, name=f"v{i}", query=f"priority={1 + i % 3}")
    with count_queries() as many:
        agent_client.get("/desk/")
    assert few.count == many.count
