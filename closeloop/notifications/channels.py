"""Which channel tells a member of staff, besides the in-app inbox that always gets the message.

The channel is the person's own choice (StaffChannelPreference, set on "My account"), else the one of the
first role they hold in STAFF_CHANNEL_BY_ROLE, else STAFF_CHANNEL_DEFAULT (e-mail: what CloseLoop did
before there was a choice). A chat channel that cannot reach the person — WeCom not configured or no
WeCom userid, no robot for any of their roles — falls back to e-mail, so that nothing is only in-app by
accident. Documents (the monthly report) go by e-mail whatever the channel: a chat carries no files.

A group robot posts into the chat of a role: one post per message and group however many of its members
are told (`address` names the role; the webhook, which holds the robot's key, stays in the settings).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from closeloop.core.errors import DomainError, PermissionDeniedError
from closeloop.core.roles import Role
from closeloop.core.types import User
from closeloop.notifications.models import Method, Notification, StaffChannel, StaffChannelPreference, State

if TYPE_CHECKING:
    import datetime

    from closeloop.notifications.services import Message

# Kinds whose message goes by e-mail in any case: it carries files (insight/services/reports.py attaches
# the report to the e-mail rows).
EMAIL_ALWAYS_KINDS = frozenset({"report_sent"})
ROBOT_METHODS = {StaffChannel.WECOM_ROBOT: Method.WECOM_ROBOT, StaffChannel.DINGTALK_ROBOT: Method.DINGTALK_ROBOT}


@dataclass(frozen=True)
class Route:
    method: str
    address: str = ""  # a WeCom userid, or the role whose group a robot posts into
    personal: bool = True  # False: one row per group, not per person


def available_channels() -> list[str]:
    """The channels a person can choose here: those whose gateway is configured."""
    channels = [StaffChannel.IN_APP.value, StaffChannel.EMAIL.value]
    if settings.WECOM is not None:
        channels.append(StaffChannel.WECOM.value)
    if settings.WECOM_ROBOTS:
        channels.append(StaffChannel.WECOM_ROBOT.value)
    if settings.DINGTALK_ROBOTS:
        channels.append(StaffChannel.DINGTALK_ROBOT.value)
    return channels


def role_channel(roles: Iterable[str]) -> str:
    held = set(roles)
    for role, channel in settings.STAFF_CHANNEL_BY_ROLE.items():
        if role in held:
            return channel
    return settings.STAFF_CHANNEL_DEFAULT


def _ordered_roles(roles: Iterable[str]) -> list[str]:
    """The roles in the order STAFF_CHANNEL_BY_ROLE lists them, then in the order of `Role`."""
    held = set(roles)
    order = [*settings.STAFF_CHANNEL_BY_ROLE, *(r.value for r in Role)]
    return [role for role in dict.fromkeys(order) if role in held] + sorted(held - set(order))


def staff_routes(
    *, user: User, preference: StaffChannelPreference | None, roles: Iterable[str], kind: str, email: bool
) -> list[Route]:
    """Where one person's copy goes besides in-app."""
    roles = _ordered_roles(roles)
    chosen = (preference.channel if preference else "") or role_channel(roles)
    address = str(getattr(user, "email", "") or "")
    routes: list[Route] = []
    if chosen == StaffChannel.WECOM and settings.WECOM is not None and preference and preference.wecom_userid:
        routes.append(Route(Method.WECOM, preference.wecom_userid))
    elif chosen in ROBOT_METHODS:
        robots = settings.WECOM_ROBOTS if chosen == StaffChannel.WECOM_ROBOT else settings.DINGTALK_ROBOTS
        group = next((role for role in roles if role in robots), None)
        if group is not None:
            routes.append(Route(ROBOT_METHODS[StaffChannel(chosen)], group, personal=False))
    wants_email = chosen == StaffChannel.EMAIL or (chosen != StaffChannel.IN_APP and not routes)
    if email and address and (wants_email or kind in EMAIL_ALWAYS_KINDS):
        routes.append(Route(Method.EMAIL))
    return routes


def _robot_dedup_key(message: Message, route: Route) -> str | None:
    if not message.dedup:
        return None
    digest = hashlib.sha256(f"{message.dedup}\n{message.subject}\n{message.body}".encode()).hexdigest()
    return f"{route.method}:{route.address}:{digest[:40]}"[:120]


def staff_rows(
    *, message: Message, recipients: Iterable[User], now: datetime.datetime, email: bool
) -> list[Notification]:
    """The outbox rows of a message to staff: in-app for each person, and each person's channel."""
    people = list({u.pk: u for u in recipients}.values())
    preferences = {p.user_id: p for p in StaffChannelPreference.objects.filter(user__in=[u.pk for u in people])}
    roles: dict[int, list[str]] = {}
    if settings.STAFF_CHANNEL_BY_ROLE or settings.WECOM_ROBOTS or settings.DINGTALK_ROBOTS:
        memberships = get_user_model().groups.through.objects.filter(user_id__in=[u.pk for u in people])
        for user_id, name in memberships.values_list("user_id", "group__name"):
            roles.setdefault(user_id, []).append(name)

    def row(method: str, *, user: User | None, address: str = "", dedup_key: str | None) -> Notification:
        in_app = method == Method.IN_APP
        return Notification(
            created_at=now,
            method=method,
            recipient=user,
            address=address,
            complaint_id=message.complaint_id,
            kind=message.kind,
            subject=message.subject[:200],
            body=message.body,
            subject_key=message.subject_key if in_app else "",
            body_key=message.body_key if in_app else "",
            params=message.params if in_app else {},
            link=message.link,
            todo=message.todo if in_app else "",
            dedup_key=dedup_key,
            state=State.SENT if in_app else State.PENDING,
            sent_at=now if in_app else None,
            next_attempt_at=now,
        )

    def personal_key(user: User, method: str) -> str | None:
        return f"{message.dedup}:{user.pk}:{method}"[:120] if message.dedup else None

    rows = []
    groups_told: set[tuple[str, str]] = set()
    for user in people:
        rows.append(row(Method.IN_APP, user=user, dedup_key=personal_key(user, Method.IN_APP)))
        routes = staff_routes(
            user=user,
            preference=preferences.get(user.pk),
            roles=roles.get(user.pk, []),
            kind=message.kind,
            email=email,
        )
        for route in routes:
            if route.personal:
                rows.append(
                    row(route.method, user=user, address=route.address, dedup_key=personal_key(user, route.method))
                )
            elif (route.method, route.address) not in groups_told:
                groups_told.add((route.method, route.address))
                rows.append(
                    row(route.method, user=None, address=route.address, dedup_key=_robot_dedup_key(message, route))
                )
    return rows


# --- the person's own choice ("My account") ----------------------------------------------------------


def channel_label(channel: str) -> str:
    return str(StaffChannel(channel).label)


def staff_channel_of(user: User) -> tuple[StaffChannelPreference | None, str]:
    """(the person's preference row, if any; the channel of their role) for the account page."""
    preference = StaffChannelPreference.objects.filter(user=user).first()
    roles = list(user.groups.values_list("name", flat=True))
    return preference, role_channel(_ordered_roles(roles))


def staff_channel_set(*, user: User, channel: str, actor: User) -> StaffChannelPreference:
    """A person chooses where they are told ("": their role's default). Only channels that can reach them
    are accepted: WeCom needs the WeCom userid an administrator entered, a group robot one of their roles."""
    if actor.pk != user.pk and not actor.is_superuser:
        raise PermissionDeniedError(_("Only you choose where you are told."))
    if channel and channel not in available_channels():
        raise DomainError(_("This channel is not set up here."), field="channel")
    with transaction.atomic():
        preference, _created = StaffChannelPreference.objects.select_for_update().get_or_create(user=user)
        roles = set(user.groups.values_list("name", flat=True))
        if channel == StaffChannel.WECOM and not preference.wecom_userid:
            raise DomainError(
                _("Your WeCom account is not known yet: ask an administrator to enter your WeCom userid."),
                field="channel",
            )
        robots = settings.WECOM_ROBOTS if channel == StaffChannel.WECOM_ROBOT else settings.DINGTALK_ROBOTS
        if channel in ROBOT_METHODS and not roles & set(robots):
            raise DomainError(_("None of your roles has a group chat on this channel."), field="channel")
        if preference.channel != channel:
            preference.channel, preference.updated_at = channel, timezone.now()
            preference.save(update_fields=["channel", "updated_at"])
    return preference
