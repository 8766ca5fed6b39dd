"""What a generated client relies on in the document: short unique operationIds, a type on every field,
binary responses with a schema; and the refusal of query parameters an operation does not declare."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from closeloop.complaints.models import Complaint
from closeloop.core.api_contract import error_code, operation_id, resource_of
from tests.api.conftest import ApiClient, intake_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def document(client: Client) -> dict[str, Any]:
    return client.get("/api/v1/openapi.json").json()  # type: ignore[no-any-return]


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, op) for path, methods in document["paths"].items() for method, op in methods.items()]


def test_operation_ids_are_short_resource_verbs_and_unique(document: dict[str, Any]) -> None:
    ids = {f"{method} {path}": op["operationId"] for method, path, op in _operations(document)}

    assert len(set(ids.values())) == len(ids)
    bad = {label: i for label, i in ids.items() if not re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", i) or len(i) > 40}
    assert bad == {}
    assert ids["GET /api/v1/complaints/{number}"] == "complaints_get"
    assert ids["GET /api/v1/complaints"] == "complaints_list"
    assert ids["POST /api/v1/complaints"] == "complaints_create"
    assert ids["POST /api/v1/tasks/{task_id}/reply"] == "tasks_reply"
    assert ids["POST /api/v1/complaints/{number}/dispatch"] == "complaints_dispatch"
    assert ids["GET /api/v1/feedback-forms/{pk}/pdf"] == "feedback_forms_pdf_get"
    assert ids["DELETE /api/v1/report-recipients/{pk}"] == "report_recipients_delete"
    assert ids["PATCH /api/v1/roster/{entry_id}"] == "roster_update"


def test_operation_id_rule() -> None:
    assert operation_id("GET", "/tasks", returns_many=True, creates=False) == "tasks_list"
    assert operation_id("GET", "/lifecycle", returns_many=False, creates=False) == "lifecycle_get"
    assert operation_id("POST", "/tasks/{id}/contacts", returns_many=False, creates=True) == "tasks_contacts_create"
    assert operation_id("POST", "/retention/anonymise", returns_many=False, creates=False) == "retention_anonymise"
    assert operation_id("PUT", "/defects/rules/{code}", returns_many=False, creates=False) == "defects_rules_update"
    assert operation_id("GET", "/imports/t.xlsx", returns_many=False, creates=False) == "imports_t_xlsx_get"


def _untyped(schema: Any, where: str) -> list[str]:
    """Properties a generator cannot type: no type, no reference, no union."""
    if not isinstance(schema, dict):
        return []
    found = []
    for name, prop in schema.get("properties", {}).items():
        if not ({"type", "$ref", "anyOf", "oneOf", "allOf", "enum", "const"} & prop.keys()):
            found.append(f"{where}.{name}")
        found.extend(_untyped(prop, f"{where}.{name}"))
    for key in ("items", "additionalProperties"):
        found.extend(_untyped(schema.get(key), f"{where}[]"))
    for key in ("anyOf", "oneOf", "allOf"):
        for i, part in enumerate(schema.get(key, [])):
            if isinstance(part, dict) and not part:
                found.append(f"{where}|{i}")
            found.extend(_untyped(part, where))
    return found


def test_every_field_has_a_type(document: dict[str, Any]) -> None:
    untyped = [f for name, schema in document["components"]["schemas"].items() for f in _untyped(schema, name)]
    for method, path, op in _operations(document):
        for media in op.get("requestBody", {}).get("content", {}).values():
            untyped.extend(_untyped(media["schema"], f"{method} {path}"))
            for name, prop in media["schema"].get("properties", {}).items():
                # A multipart enum must be the enum, not an object wrapping it.
                assert "allOf" not in prop, (method, path, name)

    assert untyped == []


def test_states_are_enums(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]

    assert schemas["DeadlineState"]["enum"] == ["ok", "warning", "breached", "paused", "none"]
    assert schemas["ComplaintSummaryOut"]["properties"]["deadline_state"]["$ref"].endswith("/DeadlineState")
    assert "met" in schemas["ClockState"]["enum"]
    for name, prop in (("SolutionOut", "status"), ("TaskOut", "status"), ("ChecklistOut", "status")):
        assert "$ref" in schemas[name]["properties"][prop], name


def test_file_responses_are_binary(document: dict[str, Any]) -> None:
    files = {
        (method, path, media_type): media.get("schema")
        for method, path, op in _operations(document)
        for response in op["responses"].values()
        for media_type, media in response.get("content", {}).items()
        if "json" not in media_type
    }

    assert {path for _, path, _ in files} >= {"/api/v1/feedback-forms/{pk}/pdf", "/api/v1/reports/{pk}/xlsx"}
    assert set(map(str, files.values())) == {str({"type": "string", "format": "binary"})}


def test_solution_approval_documents_what_the_server_reads(document: dict[str, Any]) -> None:
    body = document["paths"]["/api/v1/solutions/{solution_id}/approve"]["post"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    (ref,) = [part["$ref"].rsplit("/", 1)[-1] for part in [schema, *schema.get("anyOf", [])] if "$ref" in part]

    assert set(document["components"]["schemas"][ref]["properties"]) == {"reason"}


# --- unknown query parameters --------------------------------------------------------------------


def test_an_unknown_query_parameter_is_refused_naming_it(agent_api: ApiClient) -> None:
    # A typo of a real filter: answered as an empty sync, it would go unnoticed.
    response = agent_api.get("/api/v1/complaints", {"updated_snice": "2026-01-01", "status": "registered"})

    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["query", "updated_snice"]
    assert error["type"] == "unknown_parameter"
    assert "status" in error["ctx"]["allowed"]


def test_every_unknown_parameter_is_named_also_where_none_are_declared(agent_api: ApiClient) -> None:
    response = agent_api.get("/api/v1/lifecycle?cursor=1&since=2&cursor=3")

    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [["query", "cursor"], ["query", "since"]]


def test_declared_parameters_still_work(agent_api: ApiClient) -> None:
    assert agent_api.get("/api/v1/complaints", {"status": "registered", "limit": 5}).status_code == 200
    assert agent_api.get("/api/v1/lifecycle").status_code == 200


# --- machine codes of business errors --------------------------------------------------------------


def test_a_business_error_carries_a_stable_code_beside_the_message(
    agent_api: ApiClient, make_complaint: Callable[..., Complaint]
) -> None:
    complaint = make_complaint()
    agent_api.post_json(f"/api/v1/complaints/{complaint.number}/invalidate", {"reason": "spam"})

    refused = agent_api.post_json(f"/api/v1/complaints/{complaint.number}/acknowledge").json()["detail"][0]
    invalid_phone = agent_api.post_json("/api/v1/complaints", intake_payload(phone="12-ab")).json()["detail"][0]
    unknown_action = agent_api.post_json(
        f"/api/v1/complaints/{complaint.number}/transitions", {"action": "fly"}
    ).json()["detail"][0]

    assert (refused["type"], refused["code"]) == ("transition_not_allowed", "complaint.not_open")
    assert invalid_phone["loc"] == ["body", "phone"] and invalid_phone["code"] == "complaint.invalid_phone"
    assert unknown_action["code"] == "complaint.unknown_action"
    english = agent_api.post(
        f"/api/v1/complaints/{complaint.number}/acknowledge", content_type="application/json", data={},
        headers={"Accept-Language": "en"},
    ).json()["detail"][0]  # fmt: skip
    assert english["code"] == "complaint.not_open" and english["msg"] != refused["msg"]


def test_error_codes_name_the_resource_and_the_rule() -> None:
    assert resource_of("/api/v1/complaints/TS20261123-0007/dispatch") == "complaint"
    assert resource_of("/api/v1/feedback-forms/3/submit") == "feedback_form"
    assert resource_of("/api/v1/defects/alerts/2/dismiss") == "defect_alert"
    assert resource_of("/api/v1/policies") == "policy"
    assert error_code(resource="task", kind="invalid", field="handler", reason=None) == "task.invalid_handler"
    assert error_code(resource="task", kind="transition_not_allowed", field="action", reason=None) == (
        "task.transition_not_allowed"
    )
    assert error_code(resource="complaint", kind="invalid", field="x", reason="not_open") == "complaint.not_open"
    assert error_code(resource="complaint", kind="invalid", field=None, reason="sla.no_policy") == "sla.no_policy"
