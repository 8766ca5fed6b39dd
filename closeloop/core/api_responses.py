"""The error bodies every endpoint documents, so that the OpenAPI schema lists each status it can answer."""

from __future__ import annotations

from typing import Any

from ninja import Field

from closeloop.core.schema import Schema


class ErrorOut(Schema):
    detail: str = Field(description="the message, in the language of the request")
    code: str | None = Field(
        None,
        description="a stable machine code: a business rule's (complaint.permission_denied, 403; "
        "complaint.rate_limited, 429) or the kind of a 400 (bad_request)",
    )


class FieldErrorOut(Schema):
    loc: list[str | int] = Field(description='Where the error is, e.g. ["body", "phone"] or ["query", "limit"].')
    msg: str = Field(description="the message, in the language of the request")
    type: str = Field(description="the kind: invalid, required, transition_not_allowed, unknown_parameter, …")
    code: str | None = Field(
        None,
        description="for a business rule: its stable machine code, e.g. complaint.not_open, task.invalid_handler",
    )


class ValidationErrorOut(Schema):
    detail: list[FieldErrorOut]


class UnavailableOut(Schema):
    """The database is locked, read-only or unreachable (closeloop/core/outage.py); nothing was written.
    Sent with `Retry-After`."""

    detail: str
    code: str = Field(description="database_locked, database_read_only or database_unavailable")


# Use as `response={200: SomeOut, **ONE_ERRORS}`.
# 429: every token has its requests per minute (API_TOKEN_RATE_PER_MINUTE), whatever the operation.
READ_ERRORS: dict[int, Any] = {
    401: ErrorOut,
    403: ErrorOut,
    422: ValidationErrorOut,
    429: ErrorOut,
    503: UnavailableOut,
}
WRITE_ERRORS: dict[int, Any] = {400: ErrorOut, **READ_ERRORS}
ONE_ERRORS: dict[int, Any] = {404: ErrorOut, **READ_ERRORS}
ONE_WRITE_ERRORS: dict[int, Any] = {404: ErrorOut, **WRITE_ERRORS}
