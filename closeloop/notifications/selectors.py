from __future__ import annotations

from django.db.models import QuerySet

from closeloop.core.types import User
from closeloop.notifications.models import Method, Notification


def notifications_for(*, user: User) -> QuerySet[Notification]:
    return (
        Notification.objects.filter(recipient=user, method=Method.IN_APP)
        .select_related("complaint")
        .order_by("-created_at", "-id")
    )


def unread_count(*, user: User) -> int:
    """The badge: unread notices whose thing is not done yet (index notification_unread)."""
    return Notification.objects.filter(
        recipient=user, method=Method.IN_APP, read_at__isnull=True, done_at__isnull=True
    ).count()
