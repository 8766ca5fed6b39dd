"""Every function the lifecycle table names by dotted path exists: the services that perform a
transition (published by GET /api/v1/lifecycle and printed by `closeloop lifecycle`), the guards and
what follows a transition."""

from __future__ import annotations

import inspect

import pytest

from closeloop.complaints.lifecycle import TRANSITIONS, named_callable

NAMED = sorted(
    {t.service for t in TRANSITIONS.values() if t.service}
    | {path for t in TRANSITIONS.values() for path in t.then}
    | {g for t in TRANSITIONS.values() for g in t.guards if isinstance(g, str)}
)


def test_the_table_names_functions_by_dotted_path() -> None:
    assert NAMED
    assert all(path.startswith("closeloop.") for path in NAMED)


@pytest.mark.parametrize("path", NAMED)
def test_each_named_function_is_importable_and_callable(path: str) -> None:
    found = named_callable(path)
    assert inspect.isfunction(found)
    assert f"{found.__module__}.{found.__qualname__}" == path


def test_a_service_performs_its_own_transition() -> None:
    """The service named is the one that applies the row (it mentions the action it performs)."""
    for transition in TRANSITIONS.values():
        if transition.service:
            source = inspect.getsource(named_callable(transition.service))
            assert f'"{transition.action}"' in source, transition.action


def test_the_guards_are_resolved_in_order() -> None:
    guards = TRANSITIONS["close"].guard_callables()
    assert [g.__name__ for g in guards] == ["followup_outcome_recorded", "feedback_forms_approved"]
