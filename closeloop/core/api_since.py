"""`updated_since` on every list of the API: one query parameter, one filter, one meaning.

A CRM or a data warehouse syncs a list by asking again with the largest `updated_at` it has seen
(at or after: a row changed in the same instant is read twice rather than missed). Rows that are
never changed once written (contacts, roster and policy changes) answer with the time they were
written. For every change of the records in order, read the change feed, GET /events.
"""

from __future__ import annotations

import datetime
from typing import Annotated, TypeVar

from django.db.models import Model, QuerySet
from ninja import Field
from pydantic import AfterValidator

from closeloop.core.schema import Schema

M = TypeVar("M", bound=Model)

DESCRIPTION = (
    "only what changed at or after this instant (each item's `updated_at`); ask again with the largest "
    "`updated_at` you have seen. For every change in order read GET /events."
)


def _in_utc(value: datetime.datetime) -> datetime.datetime:
    """An instant in UTC before any database sees it: PostgreSQL refuses offsets beyond ±15:59 that
    Python accepts (found by schemathesis: "8522-12-22 18:11+23:26")."""
    if value.tzinfo is None:
        return value
    try:
        return value.astimezone(datetime.UTC)
    except OverflowError:
        raise ValueError("the instant is out of range (years 1 to 9999 in UTC)") from None


Instant = Annotated[datetime.datetime, AfterValidator(_in_utc)]


class UpdatedSince(Schema):
    updated_since: Instant | None = Field(None, description=DESCRIPTION)


def updated_since(
    queryset: QuerySet[M], since: UpdatedSince | datetime.datetime | None, *, field: str = "updated_at"
) -> QuerySet[M]:
    """The rows of `queryset` changed at or after `since` (all of them when it is not given). Every
    model a list reads has an index on `field` (tests/api/test_updated_since.py lists them)."""
    value = since.updated_since if isinstance(since, UpdatedSince) else since
    if value is None:
        return queryset
    if value.tzinfo is not None:
        # In UTC before the database sees it: PostgreSQL refuses offsets beyond ±15:59 that Python accepts.
        try:
            value = value.astimezone(datetime.UTC)
        except OverflowError:  # before year 1 or after 9999 in UTC
            return queryset if value.year < 5000 else queryset.none()
    return queryset.filter(**{f"{field}__gte": value})
