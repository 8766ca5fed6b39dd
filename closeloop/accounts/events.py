"""Security events: one row per event and one log line, neither with an address or a secret."""

from __future__ import annotations

import logging
from typing import Any

from closeloop.accounts.models import SecurityEvent, SecurityEventKind
from closeloop.core.types import User

log = logging.getLogger("closeloop.security")


def security_event_record(
    *,
    kind: SecurityEventKind,
    user: User | None,
    actor: User | None = None,
    **detail: Any,
) -> SecurityEvent:
    event = SecurityEvent.objects.create(
        kind=kind,
        user=user if user is not None and user.pk else None,
        actor=actor if actor is not None and actor.is_authenticated else None,
        detail=detail,
    )
    # Ids, not usernames: the log may be shipped elsewhere; the row links to the account.
    log.info(
        "security event %s user=%s actor=%s %s",
        kind.value,
        event.user_id or "-",
        event.actor_id or "-",
        " ".join(f"{key}={value}" for key, value in sorted(detail.items())),
    )
    return event
