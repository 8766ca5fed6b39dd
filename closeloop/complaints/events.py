"""Writing events. Every service that changes a complaint or its records calls `event_record`
inside its own transaction, so the change and its event commit or roll back together."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import models
from django.utils import timezone

from closeloop.complaints.models import Complaint, Event


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def event_record(
    *,
    complaint: Complaint,
    action: str,
    actor: AbstractBaseUser | None,
    via: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str = "",
    at: datetime.datetime | None = None,
) -> Event:
    return Event.objects.create(
        complaint=complaint,
        at=at or timezone.now(),
        action=action,
        actor=actor if actor is not None and actor.is_authenticated else None,
        via=via,
        before=_jsonable(before or {}),
        after=_jsonable(after or {}),
        note=note,
    )
