"""The distribution list of the analysis report (分析统计报告发送接收人, 附表四): people, role groups and
outside e-mail addresses; expanded to people when a report is sent."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from closeloop import authz
from closeloop.core.errors import DomainError, PermissionDeniedError, ValidationFailed
from closeloop.core.types import AnyUser, User
from closeloop.insight.models import Recipient

Actor = AnyUser | None


def recipients_may_manage(user: Actor) -> bool:
    return authz.allowed(user, "insight.manage_report_recipients")


def _check(actor: Actor) -> None:
    if not recipients_may_manage(actor):
        raise PermissionDeniedError(
            _("Only CS supervisors, management and administrators may change the distribution list.")
        )


def recipient_add(*, actor: Actor, user: User | None = None, group: Group | None = None, email: str = "") -> Recipient:
    """Add one person, one role group or one outside address; each entry at most once."""
    _check(actor)
    email = (email or "").strip()
    given = [name for name, value in (("user", user), ("group", group), ("email", email)) if value]
    if len(given) != 1:
        raise DomainError(_("Give exactly one: a person, a group or an e-mail address."), field="kind")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise ValidationFailed({"email": [str(_("Enter a valid e-mail address."))]}) from None
    if user is not None and not user.is_active:
        raise ValidationFailed({"user": [str(_("This account is not active."))]})
    with transaction.atomic():
        existing = Recipient.objects.select_for_update(no_key=True).filter(is_active=True)
        if user is not None:
            existing = existing.filter(user=user)
        elif group is not None:
            existing = existing.filter(group=group)
        else:
            existing = existing.filter(email__iexact=email)
        if existing.exists():
            raise ValidationFailed({given[0]: [str(_("Already on the distribution list."))]})
        return Recipient.objects.create(user=user, group=group, email=email)


def recipient_remove(*, actor: Actor, recipient: Recipient) -> None:
    _check(actor)
    with transaction.atomic():
        Recipient.objects.filter(pk=recipient.pk).delete()


def recipients_list(*, since: datetime.datetime | None = None) -> list[Recipient]:
    rows = Recipient.objects.filter(is_active=True)
    if since is not None:
        rows = rows.filter(updated_at__gte=since)
    return list(rows.select_related("user", "group").order_by("pk"))


def recipients_expand() -> tuple[list[Any], list[str]]:
    """The people (named, and the active members of named groups, each once) and the outside addresses
    (each once, leaving out those that are already a listed person's address). Two queries."""
    entries = list(Recipient.objects.filter(is_active=True).values("user_id", "group_id", "email"))
    user_ids = {e["user_id"] for e in entries if e["user_id"]}
    group_ids = {e["group_id"] for e in entries if e["group_id"]}
    people: list[Any] = []
    if user_ids or group_ids:
        people = list(
            get_user_model()
            .objects.filter(is_active=True)
            .filter(Q(pk__in=user_ids) | Q(groups__in=group_ids))
            .distinct()
            .order_by("pk")
        )
    known = {(getattr(u, "email", "") or "").lower() for u in people}
    addresses: list[str] = []
    for entry in entries:
        address = (entry["email"] or "").strip()
        if address and address.lower() not in known:
            known.add(address.lower())
            addresses.append(address)
    return people, addresses
