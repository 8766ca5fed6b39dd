"""Every operation of the live document says what it does and how it can fail: a description (who may
call it, what it does, notable errors) and its error responses, each with a body."""

from __future__ import annotations

from typing import Any

import pytest

from closeloop.api import api


def _operations() -> list[tuple[str, dict[str, Any]]]:
    document = api.get_openapi_schema()
    return [
        (f"{method.upper()} {path}", operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]


OPERATIONS = _operations()


def test_the_document_has_every_operation() -> None:
    assert len(OPERATIONS) >= 150


@pytest.mark.parametrize(("label", "operation"), OPERATIONS, ids=[label for label, _op in OPERATIONS])
def test_every_operation_has_a_description(label: str, operation: dict[str, Any]) -> None:
    description = (operation.get("description") or "").strip()
    assert len(description) >= 40, f"{label} has no description (a docstring on its function)"
    assert description != operation.get("summary"), f"{label}: the description repeats the summary"


@pytest.mark.parametrize(("label", "operation"), OPERATIONS, ids=[label for label, _op in OPERATIONS])
def test_every_operation_documents_its_errors_with_a_body(label: str, operation: dict[str, Any]) -> None:
    errors = {str(status): response for status, response in operation["responses"].items() if str(status)[0] in "45"}
    # Every operation can be refused (401 without a token, 422 on bad input, 429 over the rate, 503 when
    # the database is in trouble); each documented refusal has its body's schema.
    assert {"401", "422", "429", "503"} <= set(errors), f"{label} documents only {sorted(errors)}"
    for status, response in errors.items():
        assert "schema" in response.get("content", {}).get("application/json", {}), f"{label} {status} has no body"
