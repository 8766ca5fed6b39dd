"""The error bodies every endpoint documents, so that the OpenAPI schema lists each status it can answer."""

from __future__ import annotations

from typing import Any

from ninja import Field, Schema


class ErrorOut(Schema):
    detail: str


class FieldErrorOut(Schema):
    loc: list[str | int] = Field(description='Where the error is, e.g. ["body", "phone"] or ["query", "limit"].')
    msg: str
    type: str


class ValidationErrorOut(Schema):
    detail: list[FieldErrorOut]


# Use as `response={200: SomeOut, **ONE_ERRORS}`.
READ_ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 422: ValidationErrorOut}
WRITE_ERRORS: dict[int, Any] = {400: ErrorOut, **READ_ERRORS}
ONE_ERRORS: dict[int, Any] = {404: ErrorOut, **READ_ERRORS}
ONE_WRITE_ERRORS: dict[int, Any] = {404: ErrorOut, **WRITE_ERRORS}
