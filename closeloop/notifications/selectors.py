from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from closeloop.notifications.models import Method, Notification


def notifications_for(*, user: AbstractBaseUser) -> QuerySet[Notification]:
    return (
        Notification.objects.filter(recipient=user, method=Method.IN_APP)
        .select_related("complaint")
        .order_by("-created_at", "-id")
    )


def unread_count(*, user: AbstractBaseUser) -> int:
    return Notification.objects.filter(recipient=user, method=Method.IN_APP, read_at__isnull=True).count()
