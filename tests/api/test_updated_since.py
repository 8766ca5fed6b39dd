"""`updated_since` and `updated_at` on every list of the API (issue 14, must-have 3), read from the
live document so that a new list without them fails here: each list declares the parameter, each item
carries `updated_at`, and on the world of real records (tests/api/world.py) the filter keeps exactly
the items changed at or after the instant asked for."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.test import Client

from closeloop.api import api
from tests.api.world import World, world_fixture  # noqa: F401  (the module's `world`)

# Lists that are not records: nothing in them changes by itself.
NOT_RECORDS = {
    "lifecycles_list": "the lifecycle tables are code",
    "calendars_days_list": "computed from the calendar for the dates asked",
    "complaints_roster_proposal_list": "computed from the roster for the complaint, now",
    "events_list": "the change feed itself: resumed by cursor (`after`)",
    "kpis_service_orders_list": "figures of a month, computed",
    "events_service_orders_list": "the service orders' change feed itself: resumed by cursor (`after`)",
    "saved_views_list": "a person's own queue filters (a handful), read whole by the desk",
}
# Models with an `updated_at` that no list filters on.
UNLISTED = {
    "notifications.StaffChannelPreference": "a person's own setting, read on their settings page only",
    "triage.HazardLexicon": "the hazard words, edited in the admin; no API list",
}


def _document() -> dict[str, Any]:
    return api.get_openapi_schema()


def _list_operations() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path, methods in _document()["paths"].items():
        operation = methods.get("get")
        if operation and operation["operationId"].endswith("_list") and operation["operationId"] not in NOT_RECORDS:
            found.append((path, operation))
    return found


LISTS = _list_operations()


def _item_schema(operation: dict[str, Any]) -> dict[str, Any]:
    components = _document()["components"]["schemas"]

    def resolve(schema: dict[str, Any]) -> dict[str, Any]:
        ref = schema.get("$ref")
        return components[ref.rsplit("/", 1)[1]] if ref else schema

    responses = operation["responses"]
    schema = resolve((responses.get("200") or responses[200])["content"]["application/json"]["schema"])
    if schema.get("type") == "array":
        return resolve(schema["items"])
    return resolve(schema["properties"]["items"]["items"])


def test_every_list_is_found() -> None:
    assert len(LISTS) >= 30


@pytest.mark.parametrize(("path", "operation"), LISTS, ids=[op["operationId"] for _p, op in LISTS])
def test_every_list_declares_updated_since_and_answers_updated_at(path: str, operation: dict[str, Any]) -> None:
    parameters = {p["name"]: p for p in operation.get("parameters", [])}
    assert "updated_since" in parameters, f"{path} has no updated_since"
    assert parameters["updated_since"]["schema"]["anyOf"][0]["format"] == "date-time"
    assert "updated_at" in _item_schema(operation)["properties"], f"the items of {path} have no updated_at"


def test_every_updated_at_is_indexed() -> None:
    """The filter is `updated_at >= …`: every model with the column has an index that starts with it."""
    for model in apps.get_models():
        if not model.__module__.startswith("closeloop") or model._meta.label in UNLISTED:
            continue
        try:
            field = model._meta.get_field("updated_at")
        except FieldDoesNotExist:
            continue
        assert isinstance(field, models.DateTimeField)
        indexed = bool(getattr(field, "db_index", False)) or any(
            index.fields[:1] == ["updated_at"] for index in model._meta.indexes
        )
        assert indexed, f"{model._meta.label}.updated_at has no index"


def _items(body: Any) -> list[dict[str, Any]]:
    return body if isinstance(body, list) else body["items"]


def _path_with_real_ids(world: World, path: str) -> str | None:
    filled = path
    for name in [part[1:-1] for part in path.split("/") if part.startswith("{")]:
        if name in {"kpi", "side"}:
            filled = filled.replace("{kpi}", "timely_reply").replace("{side}", "denominator")
            continue
        values = world.values(path, name)
        if not values:
            return None
        filled = filled.replace("{" + name + "}", str(values[0]))
    return filled


@pytest.mark.parametrize(("path", "operation"), LISTS, ids=[op["operationId"] for _p, op in LISTS])
@pytest.mark.django_db
def test_updated_since_keeps_what_changed_at_or_after(
    path: str, operation: dict[str, Any], world: World, client: Client
) -> None:
    url = _path_with_real_ids(world, path)
    assert url is not None, f"the world has no record for {path}"
    headers = {"Authorization": f"Bearer {world.admin_key}"}
    everything = client.get(url, {"limit": 200} if _has_limit(operation) else {}, headers=headers)
    assert everything.status_code == 200, everything.content
    items = _items(everything.json())

    future = client.get(url, {"updated_since": "2999-01-01T00:00:00Z"}, headers=headers)
    assert future.status_code == 200, future.content
    assert _items(future.json()) == []
    # An offset Python accepts and PostgreSQL would refuse: the same instant in UTC (2998-12-31 23:00).
    odd = client.get(url, {"updated_since": "2999-01-01T22:59:00+23:59"}, headers=headers)
    assert odd.status_code == 200, odd.content
    assert _items(odd.json()) == []

    stamps = sorted(datetime.datetime.fromisoformat(i["updated_at"]) for i in items if i["updated_at"])
    if not stamps:
        return  # an empty list in the world (e.g. nothing awaiting approval): the future check is all
    middle = stamps[len(stamps) // 2]
    params: dict[str, Any] = {"updated_since": middle.isoformat()}
    if _has_limit(operation):
        params["limit"] = 200
    since = client.get(url, params, headers=headers)
    assert since.status_code == 200, since.content
    kept = _items(since.json())
    assert all(datetime.datetime.fromisoformat(i["updated_at"]) >= middle for i in kept)
    if len(items) < 200:  # the whole list was read: the filter keeps exactly those at or after
        assert len(kept) == sum(1 for stamp in stamps if stamp >= middle)


def _has_limit(operation: dict[str, Any]) -> bool:
    return any(p["name"] == "limit" for p in operation.get("parameters", []))
