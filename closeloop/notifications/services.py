"""Queueing and delivering notifications through the outbox."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise

from closeloop.core.claims import Raw, claim
from closeloop.core.masking import mask_log_text
from closeloop.core.types import User
from closeloop.notifications import backends, texts
from closeloop.notifications.channels import staff_rows
from closeloop.notifications.gateways.errors import PermanentDeliveryError
from closeloop.notifications.models import Method, Notification, State

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Message:
    kind: str
    subject: str
    body: str = ""
    complaint_id: int | None = None
    dedup: str | None = None  # same dedup + recipient + method is queued at most once
    # Rendered in the reader's language in the inbox (notifications/texts.py); `subject`/`body` are the
    # text of the deliveries (e-mail, chat), in the installation's language. Made by `Message.words`.
    subject_key: str = ""
    body_key: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    link: str = ""  # where the notice leads; empty: the complaint's page
    todo: str = ""  # what it asks for: `notifications_done(todo=…)` clears it once done

    @classmethod
    def words(
        cls,
        *,
        kind: str,
        subject: str | Promise,
        body: str | Promise | None = None,
        params: dict[str, Any] | None = None,
        **fields: Any,
    ) -> Message:
        """A message whose subject (and body; default: the subject) are lazy translations with `%(name)s`
        parameters: stored as message ids, shown in each reader's language."""
        stored = texts.stored(params or {})
        subject_key = texts.key_of(subject)
        # A body that is not a translation (someone's own words, or nothing) is kept as it is.
        body_key = subject_key if body is None else texts.key_of(body) if isinstance(body, Promise) else ""
        language = settings.LANGUAGE_CODE
        return cls(
            kind=kind,
            subject=texts.in_language(language, subject_key, stored),
            body=texts.in_language(language, body_key, stored) if body_key else str(body or ""),
            subject_key=subject_key,
            body_key=body_key,
            params=stored,
            **fields,
        )


def notifications_build(
    *, message: Message, recipients: Iterable[User], now: datetime.datetime, email: bool = True
) -> list[Notification]:
    """In-app rows (delivered by being written) and, for each person, the row of their channel: e-mail,
    WeCom or their role's group robot (closeloop/notifications/channels.py decides; `email=False`: none
    by e-mail)."""
    return staff_rows(message=message, recipients=recipients, now=now, email=email)


def notifications_queue(rows: list[Notification]) -> None:
    """Insert in the caller's transaction; wake the worker after commit."""
    if not rows:
        return
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    if any(row.state == State.PENDING for row in rows):
        transaction.on_commit(outbox_wake)


def outbox_wake() -> None:
    from closeloop.notifications.tasks import outbox_deliver_task

    try:
        outbox_deliver_task()
    except Exception:  # the periodic flush delivers it anyway; never fail the user's request for this
        log.warning("could not enqueue outbox delivery", exc_info=True)


def _backoff(attempts: int) -> datetime.timedelta:
    return datetime.timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


def outbox_deliver(*, now: datetime.datetime | None = None, limit: int = 200) -> dict[str, int]:
    """Claim due messages one batch at a time and send them; failures are retried with backoff and
    marked failed after OUTBOX_MAX_ATTEMPTS (visible to admins)."""
    now = now or timezone.now()
    ids = list(
        Notification.objects.filter(state=State.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:limit]
    )
    claimed = claim(
        Notification,
        ids,
        assignments={"state": State.SENDING, "claimed_at": now, "attempts": Raw('"attempts" + 1')},
        condition="state = 'pending'",
    )
    result = {"sent": 0, "retry": 0, "failed": 0}
    for notification in Notification.objects.filter(pk__in=claimed).select_related("recipient", "complaint"):
        try:
            provider_message_id = backends.deliver(notification) or ""
        except Exception as exc:  # any backend error: keep the message and try again later
            # An error that another attempt would meet again (a bad template, a landline) fails at once.
            final = notification.attempts >= settings.OUTBOX_MAX_ATTEMPTS or isinstance(exc, PermanentDeliveryError)
            Notification.objects.filter(pk=notification.pk, state=State.SENDING).update(
                state=State.FAILED if final else State.PENDING,
                next_attempt_at=timezone.now() + _backoff(notification.attempts),
                last_error=f"{type(exc).__name__}: {exc}"[:2000],
                updated_at=timezone.now(),
            )
            result["failed" if final else "retry"] += 1
            # An SMTP refusal names the address it refused.
            error = mask_log_text(f"{type(exc).__name__}: {exc}")
            log.warning("outbox %s attempt %s failed: %s", notification.pk, notification.attempts, error)
            continue
        Notification.objects.filter(pk=notification.pk, state=State.SENDING).update(
            state=State.SENT,
            sent_at=timezone.now(),
            last_error="",
            provider_message_id=provider_message_id[:100],
            updated_at=timezone.now(),
        )
        result["sent"] += 1
    return result


def outbox_recover(*, now: datetime.datetime | None = None, stale_after: datetime.timedelta | None = None) -> int:
    """A worker killed mid-delivery leaves rows in `sending`; put them back so they are not lost."""
    now = now or timezone.now()
    stale_after = stale_after or datetime.timedelta(seconds=settings.OUTBOX_STALE_SECONDS)
    return Notification.objects.filter(state=State.SENDING, claimed_at__lt=now - stale_after).update(
        state=State.PENDING, next_attempt_at=now, updated_at=now
    )


def notification_mark_read(*, user: User, ids: Iterable[int] | None = None) -> int:
    qs = Notification.objects.filter(recipient=user, method=Method.IN_APP, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    now = timezone.now()
    return qs.update(read_at=now, updated_at=now)


def notifications_done(*, todo: str, now: datetime.datetime | None = None) -> int:
    """What the notices with this `todo` asked for is done (whoever did it): each is marked done and leaves
    its reader's unread count; the inbox shows it as done. Called in the transaction that did it."""
    if not todo:
        return 0
    return Notification.objects.filter(todo=todo, done_at__isnull=True).update(done_at=now or timezone.now())


def outbox_retry_failed(*, ids: Iterable[int]) -> int:
    """Admin action: give failed messages another round of attempts."""
    return Notification.objects.filter(pk__in=list(ids), state=State.FAILED).update(
        state=State.PENDING, attempts=0, next_attempt_at=timezone.now(), updated_at=timezone.now()
    )


def outbox_bounced(*, ids: Iterable[int], reason: str) -> int:
    """A mail server returned these e-mails (a bounce naming their Message-IDs): marked failed with the
    reason, so that admins see them with the other failures and the desk knows the customer was not told."""
    return Notification.objects.filter(pk__in=list(ids), method=Method.EMAIL).update(
        state=State.FAILED, last_error=f"bounced: {reason}"[:2000], updated_at=timezone.now()
    )
