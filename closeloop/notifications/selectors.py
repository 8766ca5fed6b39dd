from __future__ import annotations

from django.db.models import QuerySet

from closeloop.core.prepared import Param, Prepared
from closeloop.core.types import User
from closeloop.notifications.models import Method, Notification


def notifications_for(*, user: User) -> QuerySet[Notification]:
    return (
        Notification.objects.filter(recipient=user, method=Method.IN_APP)
        .select_related("complaint")
        .order_by("-created_at", "-id")
    )


def unread_count(*, user: User) -> int:
    """The badge: unread notices whose thing is not done yet (index notification_unread; SQLite plans the
    statement again with the bound method, so the partial index serves it). Asked on every page: built
    once (core/prepared.py)."""
    return _UNREAD.count(user=user.pk, method=Method.IN_APP)


_UNREAD = Prepared(
    lambda: Notification.objects.filter(
        recipient=Param("user"), method=Param("method"), read_at__isnull=True, done_at__isnull=True
    ).values_list("pk")
)
