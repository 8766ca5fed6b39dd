"""GET /api/v1/lifecycles and /lifecycle?name=…: every table the services enforce, published; the
complaint's answer is the one it always was (GET /lifecycle without a name)."""

from __future__ import annotations

import pytest

from closeloop.core.lifecycle import lifecycle_get, lifecycles
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


def test_the_list_names_every_table(agent_api: ApiClient) -> None:
    body = agent_api.get("/api/v1/lifecycles").json()

    assert [t["name"] for t in body] == [lc.name for lc in lifecycles()]
    task = next(t for t in body if t["name"] == "task")
    assert (task["model"], task["status_field"]) == ("handling.Task", "status")


def test_without_a_name_the_complaint_table_is_answered(agent_api: ApiClient) -> None:
    assert agent_api.get("/api/v1/lifecycle").json() == agent_api.get("/api/v1/lifecycle?name=complaint").json()


def test_a_named_table_is_answered_with_who_may_act(agent_api: ApiClient) -> None:
    body = agent_api.get("/api/v1/lifecycle?name=task").json()
    table = lifecycle_get("task")
    assert table is not None

    assert body["name"] == "task"
    assert [t["action"] for t in body["transitions"]] == [t.action for t in table.transitions]
    verify = next(t for t in body["transitions"] if t["action"] == "verify")
    assert (verify["sources"], verify["target"]) == (["dispatched"], "in_progress")
    assert verify["allowed"] == "handling.work_task"
    states = {s["code"]: s for s in body["states"]}
    assert states["cancelled"]["terminal"] and not states["cancelled"]["open"]
    assert states["dispatched"]["open"]


def test_an_unknown_name_is_not_found(agent_api: ApiClient) -> None:
    assert agent_api.get("/api/v1/lifecycle?name=teleport").status_code == 404


def test_the_command_prints_every_table_or_the_one_named() -> None:
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command("lifecycle", stdout=out)
    assert all(f"(`{lc.name}`:" in out.getvalue() for lc in lifecycles())
    one = StringIO()
    call_command("lifecycle", "solution", stdout=one)
    assert "(`solution`:" in one.getvalue() and "(`task`:" not in one.getvalue()
    with pytest.raises(CommandError):
        call_command("lifecycle", "teleport")
