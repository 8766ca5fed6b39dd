"""Every status field of every model is driven by a lifecycle table (closeloop/core/lifecycle.py), and
only the table's `move` writes one.

- Each table is sound: its states are those of the field, every state is reachable from the field's
  default, the functions it names by dotted path exist and the service named performs the row.
- Each table refuses: an actor it does not name (PermissionDeniedError) and a state its row does not
  leave (a DomainError), changing nothing.
- Every model field called status / state / outcome with choices has a table, or is on the allow-list
  of queues below with the reason.
- Nobody else writes a status: the code is read (AST) for `x.status = …` (also in tuples), `.update(
  status=…)` and `setattr(x, "status", …)`, with an explicit allow-list and the reason for each entry.
"""

from __future__ import annotations

import ast
import inspect
from collections import deque
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth.models import AnonymousUser

from closeloop.core.errors import DomainError, PermissionDeniedError
from closeloop.core.lifecycle import Lifecycle, lifecycle_get, lifecycles, lifecycles_markdown, named_callable

ROOT = Path(__file__).resolve().parent.parent
STATUS_NAMES = {"status", "state", "outcome"}

# Fields with a status-like name that are not a lifecycle (docs/decisions.md, issue 13: lifecycles).
QUEUES = {
    "notifications.Notification.state": "the outbox's delivery queue (pending → sending → sent / failed, "
    "retried): claimed with UPDATE … WHERE state = old, never an action of a person",
    "handling.ContactLog.outcome": "what a logged contact achieved: written once with the contact, never changed",
    "integrations.WebhookDelivery.state": "the webhooks' delivery queue, as the outbox's: claimed and released "
    "with conditional UPDATEs by the worker, redelivered on request",
    "mailin.InboundMail.outcome": "what intake did with a received mail: a record, set once in the transaction "
    "that takes the mail (a placeholder row first, so a second delivery of the same Message-ID is refused)",
}

# Writes of an attribute or column with a status-like name that are not a lifecycle's status.
ALLOWED_WRITES = {
    ("closeloop/core/pdf_fonts.py", "state"): "reportlab's per-document font state (TTFont.state), not a record's",
    ("closeloop/notifications/services.py", "state"): QUEUES["notifications.Notification.state"],
    ("closeloop/followup/services/survey.py", "state"): "SurveyLinkRefused.state: why a survey link was refused",
    ("closeloop/insight/exports/xlsx.py", "status"): "the workbook's labels of the complaint statuses",
    ("closeloop/handling/services/disputes.py", "outcome"): "the dispute_decided event's JSON (a dict's update)",
    ("closeloop/integrations/services.py", "state"): QUEUES["integrations.WebhookDelivery.state"],
    ("closeloop/mailin/services.py", "outcome"): QUEUES["mailin.InboundMail.outcome"],
    ("closeloop/core/idempotency.py", "status"): "the HTTP status code kept with an idempotent POST's answer",
}

TABLES = lifecycles()
NAMES = [lc.name for lc in TABLES]


def _field(lc: Lifecycle):
    return apps.get_model(lc.model)._meta.get_field(lc.status_field)


def test_every_table_is_registered_once_and_printed() -> None:
    assert NAMES[0] == "complaint"
    assert len(NAMES) == len(set(NAMES))
    assert {
        "complaint",
        "task",
        "dispute",
        "solution",
        "postponement",
        "feedback_form",
        "followup",
        "report",
        "improvement_action",
        "defect_alert",
        "defect_incident",
    } <= set(NAMES)
    text = lifecycles_markdown()
    assert all(f"(`{name}`:" in text for name in NAMES)


def test_every_status_field_has_a_table_or_is_a_queue() -> None:
    driven = {f"{lc.model}.{lc.status_field}" for lc in TABLES}
    found = set()
    for model in apps.get_models():
        if not model.__module__.startswith("closeloop."):
            continue
        for f in model._meta.get_fields():
            if getattr(f, "choices", None) and f.name in STATUS_NAMES:
                found.add(f"{model._meta.app_label}.{model.__name__}.{f.name}")
    assert found - driven - set(QUEUES) == set()
    assert driven <= found | {"followup.FollowUp.outcome"}


@pytest.mark.parametrize("name", NAMES)
def test_the_table_states_are_the_fields_choices(name: str) -> None:
    lc = lifecycle_get(name)
    assert lc is not None
    choices = {value for value, _label in _field(lc).choices}
    states = set(lc.states.values)
    assert states - {""} == choices - {""}
    for t in lc.transitions:
        assert t.sources and set(t.sources) <= states, t.action
        assert t.target in states, t.action


@pytest.mark.parametrize("name", NAMES)
def test_every_state_is_reachable_from_the_default(name: str) -> None:
    lc = lifecycle_get(name)
    assert lc is not None
    start = _field(lc).get_default()
    seen, todo = {start}, deque([start])
    while todo:
        state = todo.popleft()
        for t in lc.transitions_from(state):
            if t.target not in seen:
                seen.add(t.target)
                todo.append(t.target)
    assert set(lc.states.values) - seen == set()


@pytest.mark.parametrize("name", NAMES)
def test_the_named_functions_exist_and_the_service_performs_its_row(name: str) -> None:
    lc = lifecycle_get(name)
    assert lc is not None
    for t in lc.transitions:
        for path in [t.service, *t.then, *(g for g in t.guards if isinstance(g, str))]:
            if path:
                assert path.startswith("closeloop."), path
                assert callable(named_callable(path)), path
        if isinstance(t.allowed, str):
            assert callable(named_callable(t.allowed))
        if t.service and lc.name != "complaint":  # the complaint's: tests/complaints/test_lifecycle.py
            module = inspect.getsource(inspect.getmodule(named_callable(t.service)))  # type: ignore[arg-type]
            assert f'"{t.action}"' in module or f'"{t.action.split("_")[0]}_' in module, t.action


def _instance(lc: Lifecycle, state: str):
    obj = apps.get_model(lc.model)()
    setattr(obj, lc.status_field, state)
    return obj


@pytest.mark.parametrize("name", NAMES)
def test_the_table_refuses_a_state_its_row_does_not_leave(name: str) -> None:
    lc = lifecycle_get(name)
    assert lc is not None
    refused = 0
    for t in lc.transitions:
        for state in set(lc.states.values) - set(t.sources):
            obj = _instance(lc, state)
            with pytest.raises(DomainError):
                lc.check_state(obj, t.action)
            with pytest.raises(DomainError):
                lc.move(obj, t.action, None, checked=False)
            assert getattr(obj, lc.status_field) == state  # nothing changed
            refused += 1
    assert refused


@pytest.mark.parametrize("name", NAMES)
def test_the_table_refuses_an_actor_it_does_not_name(name: str) -> None:
    lc = lifecycle_get(name)
    assert lc is not None
    people = [t for t in lc.transitions if not t.system]
    assert people or name == "defect_alert"
    for t in people:
        obj = _instance(lc, next(iter(t.sources)))
        with pytest.raises(PermissionDeniedError):
            lc.check(obj, t.action, AnonymousUser())
        assert getattr(obj, lc.status_field) == next(iter(t.sources))


def test_move_sets_the_target_of_the_row(db) -> None:
    lc = lifecycle_get("defect_incident")
    assert lc is not None
    obj = _instance(lc, "open")
    assert lc.move(obj, "close", None, checked=True) == ("open", "closed")
    assert obj.status == "closed"


def test_an_unknown_action_is_refused() -> None:
    lc = lifecycle_get("task")
    assert lc is not None
    with pytest.raises(DomainError):
        lc.get("teleport")


def test_the_complaint_table_agrees_with_its_constants() -> None:
    from closeloop.complaints.lifecycle import LIFECYCLE, OPEN_STATUSES, TERMINAL_STATUSES, TRANSITIONS, Status

    assert LIFECYCLE.terminal_states() == TERMINAL_STATUSES
    assert {s for s in Status if LIFECYCLE.is_open(s)} == OPEN_STATUSES
    assert TRANSITIONS is LIFECYCLE.by_action


# --- nobody else writes a status -----------------------------------------------------------------------


def _status_writes(tree: ast.Module) -> list[tuple[int, str]]:
    found = []

    def targets(node: ast.expr) -> list[ast.expr]:
        return [e for t in node.elts for e in targets(t)] if isinstance(node, ast.Tuple | ast.List) else [node]

    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                for t in targets(target):
                    if isinstance(t, ast.Attribute) and t.attr in STATUS_NAMES:
                        found.append((node.lineno, t.attr))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "update":
            found.extend((node.lineno, k.arg) for k in node.keywords if k.arg in STATUS_NAMES and not node.args)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr":
            name = node.args[1] if len(node.args) > 1 else None
            if isinstance(name, ast.Constant) and name.value in STATUS_NAMES:
                found.append((node.lineno, str(name.value)))
    return found


def _writes_outside_the_tables() -> list[str]:
    bad = []
    for path in sorted((ROOT / "closeloop").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if "/migrations/" in rel or rel == "closeloop/core/lifecycle.py":
            continue
        for line, name in _status_writes(ast.parse(path.read_text(encoding="utf-8"))):
            if (rel, name) not in ALLOWED_WRITES:
                bad.append(f"{rel}:{line} writes .{name}")
    return bad


def test_only_the_lifecycle_mechanism_writes_a_status() -> None:
    assert _writes_outside_the_tables() == []


def test_the_reader_sees_every_kind_of_write() -> None:
    tree = ast.parse(
        "task.status = 'x'\n"
        "a.b, form.status = 1, 'y'\n"
        "Notification.objects.filter(pk=1).update(state='sent')\n"
        "setattr(followup, 'outcome', 'satisfied')\n"
        "after.update({'status': 1})\n"
        "self.label = 'z'\n"
    )
    assert _status_writes(tree) == [(1, "status"), (2, "status"), (3, "state"), (4, "outcome")]


def test_the_allow_list_names_writes_that_exist() -> None:
    """An entry whose write is gone is removed, so the list never hides a new one."""
    for rel, name in ALLOWED_WRITES:
        tree = ast.parse((ROOT / rel).read_text(encoding="utf-8"))
        assert any(n == name for _line, n in _status_writes(tree)), (rel, name)
