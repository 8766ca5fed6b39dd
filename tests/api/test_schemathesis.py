"""Property-based run of the whole OpenAPI document against the WSGI app, as an administrator who holds
every role, against a database of real records (tests/api/world.py): every operation, reads and writes,
with path parameters drawn from real records in each of their states as well as generated ones. No 5xx,
and every response as documented.

Each operation runs in a transaction of its own on top of the world, so what one operation writes (a
transition, a deletion) is gone before the next. In CI (CI=true) every operation gets more random
examples; locally the run stays short. The examples are the same on every run (derandomize): a red build
means a change, not luck; fuzz deeper by hand with SCHEMATHESIS_EXAMPLES=200.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from closeloop.wsgi import application
from tests.api.world import World, world_fixture  # noqa: F401  (the module's `world`)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES") or (40 if os.environ.get("CI") == "true" else 10))

# Loaded at collection (the document needs no database): every operation.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
OPERATIONS = [result.ok() for result in schema.get_all_operations()]


@pytest.fixture
def _keep_test_connection() -> Iterator[None]:
    """Django closes the database connection at the end of each WSGI request, which would close the
    test's transaction; its own test client disconnects these receivers in the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_the_run_covers_the_whole_api() -> None:
    labels = {operation.label for operation in OPERATIONS}
    for label in (
        "POST /api/v1/complaints",
        "GET /api/v1/complaints/{number}",
        "POST /api/v1/complaints/{number}/transitions",
        "PUT /api/v1/feedback-forms/{pk}",
        "DELETE /api/v1/report-recipients/{pk}",
        "POST /api/v1/solutions/{solution_id}/steps/{step_id}/done",
    ):
        assert label in labels
    assert len(labels) > 120


def _real_paths(world: World, operation: Any) -> list[dict[str, Any]]:
    """Path parameters naming real records (every combination), or [] when the operation has none."""
    names = [parameter.name for parameter in operation.path_parameters]
    if not names:
        return []
    if set(names) == {"solution_id", "step_id"}:
        return [{"solution_id": solution, "step_id": step} for solution, step in world.steps]
    choices = [world.values(operation.path, name) for name in names]
    if not all(choices):
        return []  # e.g. an enum (kpi, side): the generated values are real already
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*choices)]


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
@pytest.mark.django_db
@pytest.mark.usefixtures("_keep_test_connection")
def test_api_conforms_to_its_schema(operation: Any, world: World, settings: Any) -> None:
    settings.MEDIA_ROOT = world.media_root
    headers = {"Authorization": f"Bearer {world.admin_key}"}
    real_paths = _real_paths(world, operation)
    # Valid and invalid inputs alike: invalid ones must be refused with a documented 4xx, not a 5xx.
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

    good = world.bodies.get(operation.label)
    # The valid body naming real records, on each real record: the services' own checks, not only the schema's.
    for path_parameters in (real_paths or [{}]) if good is not None else []:
        explicit = operation.Case(path_parameters=path_parameters, body=dict(good), media_type="application/json")
        explicit.call_and_validate(headers=headers, checks=CHECKS)

    # Then schemathesis' boundary values (limits, formats, missing and extra fields), on a generated
    # record and on each real one in turn…
    reals = itertools.cycle(real_paths)
    for case in schema.iter_coverage_cases(
        operation,
        generation_modes=list(GenerationMode),
        generation_config=schema.config.generation_for(operation=operation),
    ):
        case.call_and_validate(headers=headers, checks=CHECKS)
        if real_paths:
            case.path_parameters = next(reals)
            case.call_and_validate(headers=headers, checks=CHECKS)

    # …then random ones, most on real records, half of them the valid body with one generated field.
    @given(case=cases, data=st.data())
    @hypothesis_settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=True,
    )
    def run(case: Any, data: st.DataObject) -> None:
        if real_paths and data.draw(st.integers(0, 4), label="generated path") > 0:
            case.path_parameters = data.draw(st.sampled_from(real_paths), label="real path")
        if good is not None and isinstance(case.body, dict) and data.draw(st.booleans(), label="valid body"):
            generated = case.body
            case.body = {**generated, **good}
            if generated:
                field = data.draw(st.sampled_from(sorted(generated)), label="generated field")
                case.body[field] = generated[field]
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()


def test_the_world_is_real(world: World) -> None:
    """The ids are real, and of several states (not every operation's first record)."""
    assert len(world.values("/api/v1/complaints/{number}", "number")) >= 8
    assert len(world.values("/api/v1/feedback-forms/{pk}", "pk")) >= 3
    assert world.values("/api/v1/reports/{pk}", "pk") and world.values("/api/v1/postponements/{pk}", "pk")
    assert Path(world.media_root).is_dir()
