"""Every action the complaint page offers succeeds when posted (issue 17: "actions that can only fail are
offered"). For a set of complaint states and the people who work them, the page is read, each form of a
status change it shows is filled in as a person would and posted on a fresh copy of the state: the answer
must be the redirect of a success, never a refusal."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from closeloop.complaints.models import Complaint
from closeloop.complaints.services import complaint_transition
from closeloop.handling.models import Task

pytestmark = pytest.mark.django_db

# Forms of the complaint page that change nothing's status, or are not the page's own actions.
NOT_ACTIONS = ("/i18n/", "/logout/", "/write/")


@dataclass
class Form:
    action: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    # name -> first value, for radios and checkboxes: one picked, as a person ticks one
    choices: dict[str, str] = field(default_factory=dict)
    select: str | None = None
    button: tuple[str, str] | None = None
    ticked: bool = False


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.current: Form | None = None
        self.textarea: str | None = None
        self.option_seen = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "get").lower() == "post":
            self.current = Form(action=a.get("action", ""))
            return
        form = self.current
        if form is None:
            return
        name = a.get("name", "")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind == "radio":
                form.choices.setdefault(name, a.get("value", "on"))
            elif kind == "checkbox" and not form.ticked:
                # One box ticked (a department to dispatch to, a measure), as a person ticks one.
                form.choices[name], form.ticked = a.get("value", "on"), True
            elif kind == "submit":
                form.button = form.button or (name, a.get("value", ""))
            else:
                form.fields.append((name, a.get("value") or _typed(kind)))
        elif tag == "textarea" and name:
            self.textarea = name
        elif tag == "select" and name:
            form.select, self.option_seen = name, False
        elif tag == "option" and form.select and not self.option_seen and a.get("value"):
            form.fields.append((form.select, a["value"]))
            self.option_seen = True
        elif tag == "button" and name and form.button is None:
            form.button = (name, a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self.current is not None and self.textarea:
            self.current.fields.append((self.textarea, "客户已同意：上门更换驱动电源"))
            self.textarea = None
        elif tag == "select" and self.current is not None:
            self.current.select = None
        elif tag == "form" and self.current is not None:
            self.forms.append(self.current)
            self.current = None


def _typed(kind: str) -> str:
    later = timezone.localtime() + datetime.timedelta(days=7)
    return {
        "number": "1",
        "date": later.date().isoformat(),
        "datetime-local": later.strftime("%Y-%m-%dT%H:%M"),
        "email": "someone@example.com",
        "tel": "13800138000",
    }.get(kind, "已联系客户，说明处理方案")


def _offered(client: Client, complaint: Complaint) -> list[Form]:
    page = client.get(reverse("desk:detail", args=[complaint.number]))
    assert page.status_code == 200
    parser = _Forms()
    parser.feed(page.content.decode())
    return [f for f in parser.forms if f.action.startswith("/desk/") and not any(x in f.action for x in NOT_ACTIONS)]


# Fields that name another complaint (a repeat's earlier one, a duplicate's original): one that exists.
OTHER_COMPLAINT_FIELDS = ("earlier", "duplicate_of", "duplicate")


def _post(client: Client, form: Form, other: Complaint) -> Any:
    data: dict[str, list[str]] = {}
    for name, value in [*form.fields, *form.choices.items(), *([form.button] if form.button else [])]:
        if name.endswith(OTHER_COMPLAINT_FIELDS):
            value = other.number
        data.setdefault(name, []).append(value)
    return client.post(form.action, data)


def _registered(make_complaint: Callable[..., Complaint], people: dict[str, User], **_: Any) -> Complaint:
    return make_complaint(actor=people["agent"])


def _acknowledged(make_complaint: Callable[..., Complaint], people: dict[str, User], **_: Any) -> Complaint:
    complaint = make_complaint(actor=people["agent"])
    return complaint_transition(complaint=complaint, action="acknowledge", actor=people["agent"], via="desk")


def _dispatched(dispatched: Callable[..., tuple[Complaint, dict[str, Task]]], **_: Any) -> Complaint:
    return dispatched()[0]


def _reopened_while_working(dispatched: Callable[..., tuple[Complaint, dict[str, Task]]], **_: Any) -> Complaint:
    """Reopened after an unsatisfied follow-up while a department still works on it (set directly: the
    state is what matters here, not how it came about)."""
    complaint = dispatched()[0]
    Complaint.objects.filter(pk=complaint.pk).update(status="reopened")
    complaint.refresh_from_db()
    return complaint


STATES: dict[str, Callable[..., Complaint]] = {
    "registered": _registered,
    "acknowledged": _acknowledged,
    "dispatched": _dispatched,
    "reopened": _reopened_while_working,
}


@pytest.mark.parametrize(
    ("state", "who"),
    [
        ("registered", "agent"),
        ("acknowledged", "agent"),
        ("acknowledged", "supervisor"),
        ("dispatched", "agent"),
        ("dispatched", "tech_handler"),
        ("dispatched", "tech_manager"),
        ("reopened", "agent"),
    ],
)
def test_every_offered_action_succeeds(
    state: str,
    who: str,
    make_complaint: Callable[..., Complaint],
    dispatched: Callable[..., tuple[Complaint, dict[str, Task]]],
    people: dict[str, User],
) -> None:
    def fresh() -> tuple[Client, Complaint]:
        complaint = STATES[state](make_complaint=make_complaint, dispatched=dispatched, people=people)
        client = Client()
        client.force_login(people[who])
        return client, complaint

    client, complaint = fresh()
    count = len(_offered(client, complaint))
    if state == "reopened":  # a department works on it: "answer on the spot / resolve" can only fail
        assert not any(f.action.endswith("/do/resolve/") for f in _offered(client, complaint))
    assert count, "the page offers this person something to do"
    for index in range(count):
        other = make_complaint(actor=people["agent"])  # received earlier than the one worked on
        client, complaint = fresh()
        form = _offered(client, complaint)[index]
        response = _post(client, form, other)
        errors = [
            line for line in response.content.decode().splitlines() if 'class="error' in line or "msg-error" in line
        ]
        assert response.status_code in (302, 303), (form.action, response.status_code, errors)
