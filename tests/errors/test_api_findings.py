"""What the schemathesis run (tests/api/test_schemathesis.py) found, each pinned by a plain test."""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import pytest
from django.db import transaction

from tests.api.conftest import ApiClient
from tests.api.world import World, world_fixture  # noqa: F401  (the module's `world`)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("start", ["0122-01-07T20:19:21Z", "1899-12-31T08:00:00+08:00", "9999-12-31T23:00:00+08:00"])
def test_a_deadline_from_a_start_outside_the_calendars_years_is_a_422(agent_api: ApiClient, start: str) -> None:
    """Year 122 came back with Shanghai's local mean time offset (+08:05:43, not an ISO 8601 offset);
    year 9999 overflows the arithmetic."""
    response = agent_api.get("/api/v1/calendars/default/deadline", {"start": start, "duration": "4wh"})

    assert response.status_code == 422, response.content
    assert response.json()["detail"][0]["loc"] == ["query", "start"]


@pytest.mark.parametrize(("start", "end"), [("0001-01-01", "0001-01-02"), ("9999-12-30", "9999-12-31")])
def test_calendar_days_outside_the_calendars_years_are_a_422(agent_api: ApiClient, start: str, end: str) -> None:
    response = agent_api.get("/api/v1/calendars/default/days", {"start": start, "end": end})

    assert response.status_code == 422, response.content


def test_a_deadline_in_the_calendars_years_is_computed(agent_api: ApiClient) -> None:
    response = agent_api.get(
        "/api/v1/calendars/default/deadline", {"start": "2026-09-30T16:00:00+08:00", "duration": "4wh"}
    )

    assert response.status_code == 200
    assert response.json()["deadline"].startswith("2026-10-")


# Every date and time the API takes, at the edges of what Python can represent: each is refused with
# a 422 or used, never a 500 (year 9999 plus a day overflows, year 1 with an offset cannot go to UTC).
EXTREME_DATES = ["0001-01-01", "9999-12-31"]
EXTREME_TIMES = ["0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59+08:00", "9999-12-31T23:59:59-12:00"]
DATED_READS = [
    ("/api/v1/complaints", ["received_from", "received_to"]),
    ("/api/v1/calendars/default/days", ["start", "end"]),
    ("/api/v1/roster", ["on"]),
    ("/api/v1/kpis", ["from", "to"]),
    ("/api/v1/kpis/table", ["from", "to"]),
    ("/api/v1/kpis/resolution_rate/numerator/complaints", ["from", "to"]),
]
DATED_WRITES = [  # operation label, date fields, date-time fields
    ("POST /api/v1/complaints", ["purchase_date"], ["received_at"]),
    ("POST /api/v1/tasks/{task_id}/contacts", [], ["at"]),
    ("POST /api/v1/complaints/{number}/contacts", [], ["at"]),
    ("POST /api/v1/roster", ["valid_from", "valid_to"], []),
    ("PATCH /api/v1/roster/{entry_id}", ["valid_from", "valid_to"], []),
    ("POST /api/v1/absences", ["starts", "ends"], []),
    ("POST /api/v1/tasks/{task_id}/postponements", [], ["proposed_due"]),
    ("POST /api/v1/improvement-actions", ["due_date"], []),
    ("POST /api/v1/reports", ["start", "end"], []),
]


@pytest.fixture
def admin_client(world: World, settings: Any) -> ApiClient:
    settings.MEDIA_ROOT = world.media_root
    return ApiClient(world.admin_key)


@pytest.mark.parametrize(("path", "fields"), DATED_READS)
def test_reads_with_extreme_dates_never_fail(admin_client: ApiClient, path: str, fields: list[str]) -> None:
    for field in fields:
        for value in EXTREME_DATES:
            response = admin_client.get(path, {field: value})
            assert response.status_code < 500, (path, field, value)
    for low, high in itertools.product(EXTREME_DATES, repeat=2):
        response = admin_client.get(path, dict(zip(fields, [low, high], strict=False)))
        assert response.status_code < 500, (path, low, high)


@pytest.mark.parametrize(("label", "dates", "times"), DATED_WRITES, ids=[label for label, _d, _t in DATED_WRITES])
def test_writes_with_extreme_dates_never_fail(
    world: World, admin_client: ApiClient, label: str, dates: list[str], times: list[str]
) -> None:
    method, path = label.split(" ")
    for name in re.findall(r"\{(\w+)\}", path):
        path = path.replace(f"{{{name}}}", str(world.values(path, name)[0]))
    body = dict(world.bodies.get(label) or {})
    if label == "POST /api/v1/reports":
        body = {"start": "2026-01-01", "end": "2026-01-31", "language": "en"}
    variants = [(field, value) for field in dates for value in EXTREME_DATES]
    variants += [(field, value) for field in times for value in EXTREME_TIMES]
    for field, value in variants:
        with transaction.atomic():  # each variant on the same records, not on what the previous one wrote
            response = admin_client.generic(method, path, json.dumps({**body, field: value}), "application/json")
            transaction.set_rollback(True)
        assert response.status_code < 500, (label, field, value, response.content[:300])


def _string_fields(body: dict[str, Any]) -> list[str]:
    return [name for name, value in body.items() if isinstance(value, str)]


WRITES_WITH_BODIES = [
    "POST /api/v1/complaints",
    "POST /api/v1/complaints/{number}/mark-duplicate",
    "POST /api/v1/complaints/{number}/dispatch",
    "POST /api/v1/tasks/{task_id}/reassign",
    "POST /api/v1/roster",
    "PATCH /api/v1/roster/{entry_id}",
    "POST /api/v1/absences",
    "POST /api/v1/tasks/{task_id}/disputes",
    "POST /api/v1/disputes/{pk}/decide",
    "POST /api/v1/followups/{pk}/record",
    "POST /api/v1/complaints/{number}/repeat-link",
    "POST /api/v1/complaints/{number}/merge",
    "POST /api/v1/report-recipients",
    "POST /api/v1/improvement-actions",
    "POST /api/v1/defects/alerts/{pk}/link",
    "POST /api/v1/defects/incidents/{pk}/complaints",
    "POST /api/v1/defects/incidents/{pk}/complaints/remove",
]


@pytest.mark.parametrize("label", WRITES_WITH_BODIES)
def test_an_empty_or_null_reference_is_never_a_500(world: World, admin_client: ApiClient, label: str) -> None:
    """Every text field of a valid body — the references among them (a department, a person, a
    complaint number, an incident) — sent empty, blank and null: refused with a 4xx or accepted."""
    method, path = label.split(" ")
    for name in re.findall(r"\{(\w+)\}", path):
        path = path.replace(f"{{{name}}}", str(world.values(path, name)[0]))
    body = world.bodies[label]
    nested = {"POST /api/v1/complaints/{number}/dispatch": "assignments"}
    variants: list[dict[str, Any]] = []
    for field in _string_fields(body):
        variants += [{**body, field: value} for value in ("", "   ", None)]
    if label in nested:
        key = nested[label]
        for field in _string_fields(body[key][0]):
            variants += [{**body, key: [{**body[key][0], field: value}]} for value in ("", "   ", None)]
    assert variants
    for variant in variants:
        with transaction.atomic():
            response = admin_client.generic(method, path, json.dumps(variant), "application/json")
            transaction.set_rollback(True)
        assert response.status_code < 500, (label, variant, response.content[:300])
