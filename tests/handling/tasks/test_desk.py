"""The desk: dispatch form on the complaint page, task actions, the inbox (fixed queries), 404s."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from closeloop.complaints.models import Complaint
from closeloop.core.roles import Role
from closeloop.directory.models import Department
from closeloop.handling.models import Task, TaskStatus
from closeloop.handling.services.roster import roster_entry_create

pytestmark = pytest.mark.django_db


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(client: Client, complaint: Complaint) -> str:
    response = client.get(f"/desk/c/{complaint.number}/")
    assert response.status_code == 200
    return response.content.decode()


def test_dispatch_form_proposes_the_roster_and_dispatches(
    people: dict[str, User], make_complaint: Callable[..., Complaint], tech_dept: Department
) -> None:
    roster_entry_create(
        department=tech_dept,
        handler=people["tech_handler"],
        valid_from=datetime.date(2020, 1, 1),
        actor=people["tech_manager"],
    )
    complaint = make_complaint(actor=people["agent"])
    agent = client_for(people["agent"])
    html = page(agent, complaint)
    assert 'name="dept_tech" id="id_dept_tech" checked' in html or 'name="dept_tech"' in html
    assert f'<option value="{people["tech_handler"].pk}" selected>' in html

    response = agent.post(
        f"/desk/h/c/{complaint.number}/dispatch/",
        {
            "dept_tech": "on",
            "handler_tech": str(people["tech_handler"].pk),
            "dept_quality": "on",
            "instruction": "看看",
        },
    )
    assert response.status_code == 302
    assert sorted(complaint.tasks.values_list("department__code", flat=True)) == ["quality", "tech"]
    assert complaint.tasks.get(department__code="tech").handler == people["tech_handler"]


def test_dispatch_without_department_keeps_what_was_typed(
    people: dict[str, User], make_complaint: Callable[..., Complaint]
) -> None:
    complaint = make_complaint(actor=people["agent"])
    response = client_for(people["agent"]).post(
        f"/desk/h/c/{complaint.number}/dispatch/", {"instruction": "please check the batch"}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'class="error" role="alert"' in html  # the refusal, in the active language
    assert "please check the batch" in html
    assert not Task.objects.exists()


def test_handler_sees_only_their_actions_and_works_the_task(
    people: dict[str, User], dispatched: Callable[..., Any]
) -> None:
    complaint, tasks = dispatched()
    handler = client_for(people["tech_handler"])
    html = page(handler, complaint)
    assert f"/desk/h/tasks/{tasks['tech'].pk}/verify/" in html
    assert f"/desk/h/tasks/{tasks['quality'].pk}/verify/" not in html
    assert "/dispatch/" not in html

    assert handler.post(f"/desk/h/tasks/{tasks['tech'].pk}/verify/", {}).status_code == 302
    missing = handler.post(f"/desk/h/tasks/{tasks['tech'].pk}/reply/", {"reply": ""})
    assert missing.status_code == 422
    assert handler.post(f"/desk/h/tasks/{tasks['tech'].pk}/progress/", {"text": "ordered"}).status_code == 302
    contact = handler.post(
        f"/desk/h/tasks/{tasks['tech'].pk}/contact/",
        {
            "at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "channel": "phone",
            "outcome": "reached",
            "summary": "called back",
        },
    )
    assert contact.status_code == 302
    assert handler.post(f"/desk/h/tasks/{tasks['tech'].pk}/reply/", {"reply": "fixed"}).status_code == 302
    tasks["tech"].refresh_from_db()
    assert tasks["tech"].status == TaskStatus.REPLIED
    html = page(handler, complaint)
    assert "called back" in html and "ordered" in html and "fixed" in html


def test_refusals_in_the_desk(people: dict[str, User], dispatched: Callable[..., Any]) -> None:
    _complaint, tasks = dispatched()
    # Wrong person: the form is not offered, the message goes on top of the page.
    response = client_for(people["quality_handler"]).post(f"/desk/h/tasks/{tasks['tech'].pk}/verify/", {})
    assert response.status_code == 422
    # Missing reason keeps the page and says which field.
    response = client_for(people["agent"]).post(f"/desk/h/tasks/{tasks['tech'].pk}/withdraw/", {"reason": ""})
    assert response.status_code == 422
    tasks["tech"].refresh_from_db()
    assert tasks["tech"].status == TaskStatus.DISPATCHED
    # Unknown action.
    assert client_for(people["agent"]).post(f"/desk/h/tasks/{tasks['tech'].pk}/explode/", {}).status_code == 404


def test_out_of_scope_is_404_in_the_desk(
    people: dict[str, User], dispatched: Callable[..., Any], make_user: Callable[..., User]
) -> None:
    complaint, tasks = dispatched()
    outsider = client_for(make_user(Role.HANDLER, departments=[Department.objects.get(code="warehouse")]))
    assert outsider.post(f"/desk/h/tasks/{tasks['tech'].pk}/verify/", {}).status_code == 404
    assert outsider.post(f"/desk/h/c/{complaint.number}/dispatch/", {"dept_tech": "on"}).status_code == 404
    assert str(complaint.number) not in outsider.get("/desk/h/inbox/?tab=department").content.decode()


def test_inbox_orders_by_time_left_with_a_fixed_number_of_queries(
    people: dict[str, User], dispatched: Callable[..., Any], count_queries: Callable[[], Any]
) -> None:
    handler = client_for(people["tech_handler"])

    def load() -> tuple[int, str]:
        with count_queries() as counter:
            response = handler.get("/desk/h/inbox/")
        assert response.status_code == 200
        return counter.count, response.content.decode()

    made = [dispatched() for _ in range(3)]
    few, html = load()
    assert html.count('class="task-row') == 3
    # The one with the nearest deadline first.
    first_task = made[1][1]["tech"]
    Task.objects.filter(pk=first_task.pk).update(next_due_at=timezone.now() + datetime.timedelta(minutes=5))
    _few, html = load()
    assert html.index(f'data-task="{first_task.pk}"') < html.index(f'data-task="{made[0][1]["tech"].pk}"')

    for _ in range(27):
        dispatched()
    many, html = load()
    assert html.count('class="task-row') == 30
    assert many == few


def test_stale_marker_and_the_supervisors_stale_view(people: dict[str, User], dispatched: Callable[..., Any]) -> None:
    _complaint, tasks = dispatched()
    dispatched()
    Task.objects.filter(pk=tasks["tech"].pk).update(last_progress_at=timezone.now() - datetime.timedelta(hours=50))
    html = client_for(people["tech_handler"]).get("/desk/h/inbox/").content.decode()
    assert 'class="task-row stale"' in html
    html = client_for(people["supervisor"]).get("/desk/h/inbox/").content.decode()
    assert html.count('class="task-row') == 1 and f'data-task="{tasks["tech"].pk}"' in html


def test_nav_link_for_handlers(people: dict[str, User]) -> None:
    html = client_for(people["tech_handler"]).get("/desk/h/inbox/").content.decode()
    assert 'href="/desk/h/inbox/"' in html
