"""History import over REST: up to 100 rows a call, checked all at once, written all or nothing."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Status

from closeloop.core.api_responses import READ_ERRORS, WRITE_ERRORS, ValidationErrorOut
from closeloop.core.files import file_response
from closeloop.core.schema import Schema
from closeloop.imports.models import ImportSource
from closeloop.imports.services import ImportResult, complaints_import, import_allowed
from closeloop.imports.template import import_template_xlsx

router = Router(tags=["history import"])

MAX_ROWS = 100
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Cell = str | int | float | bool | None


class ImportIn(Schema):
    rows: list[dict[str, Cell]] = Field(
        ...,
        min_length=1,
        max_length=MAX_ROWS,
        description=(
            "One object per complaint; keys are the template's column keys (received_at, customer_phone…), "
            "its Chinese headers (接收时间…) or its English ones. Dates as ISO 8601 (an offset is optional: "
            "local time otherwise)."
        ),
    )
    dry_run: bool = Field(False, description="check every row and write nothing")
    file_name: str = Field("", max_length=255, description="recorded with the import, e.g. the sheet it came from")


class ImportRowErrorOut(Schema):
    row: int = Field(description="position in `rows`, the first is 1")
    column: str = Field(description="the key or header as sent")
    message: str


class ImportOut(Schema):
    dry_run: bool
    rows: int
    numbers: list[str] = Field(description="the complaints' numbers, in the order of `rows` (empty on a dry run)")
    customers_created: int
    followups: int
    errors: list[ImportRowErrorOut] = Field(description="only on a dry run; a real run with errors answers 422")


def _out(result: ImportResult) -> dict[str, Any]:
    return {
        "dry_run": result.dry_run,
        "rows": result.rows,
        "numbers": result.numbers,
        "customers_created": result.customers_created,
        "followups": result.followups,
        "errors": [error.as_dict() for error in result.errors],
    }


@router.post(
    "/imports/complaints",
    response={200: ImportOut, 201: ImportOut, **WRITE_ERRORS, 422: ValidationErrorOut},
    summary="Import past complaints (administrators)",
    description=(
        "Writes finished complaints with their historical dates: no SLA clocks, no defect alerts, no customer "
        "messages, no repeat marks. A dry run answers 200 with every row error; a real run answers 201, or 422 "
        'with one entry per wrong cell (`loc`: ["body", "rows", index from 0, column]) and writes nothing.'
    ),
)
def imports_complaints(request: HttpRequest, payload: ImportIn) -> Status:
    import_allowed(request.user)
    result = complaints_import(
        rows=list(enumerate(payload.rows, start=1)),
        actor=request.user,  # type: ignore[arg-type]  # signed in by the API's authentication
        source=ImportSource.API,
        file_name=payload.file_name,
        dry_run=payload.dry_run,
    )
    if payload.dry_run:
        return Status(200, _out(result))
    if result.errors:
        return Status(
            422,
            {
                "detail": [
                    {"loc": ["body", "rows", error.row - 1, error.column], "msg": error.message, "type": "import_row"}
                    for error in result.errors
                ]
            },
        )
    return Status(201, _out(result))


@router.get(
    "/imports/complaints/template.xlsx",
    url_name="imports_complaints_template",
    response={200: None, **READ_ERRORS},
    summary="The import template (Chinese headers; a second sheet explains each column)",
    openapi_extra={"responses": {200: {"content": {XLSX: {}}, "description": "Excel workbook"}}},
)
def imports_complaints_template(request: HttpRequest) -> HttpResponse:
    """The history-import template: the summary table's columns with Chinese headers, and a second sheet that
    explains each column (imports.import_complaints, 403 otherwise)."""
    import_allowed(request.user)
    return file_response(import_template_xlsx(), filename="complaints-import-template.xlsx", content_type=XLSX)
