"""Writing canned replies and sending a message from one: permission and validation first, one write path
for the desk page and the API. Sending goes through the complaint's own service
(complaints.services.customer_message_send): outbox, gateways, timeline."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from closeloop import authz
from closeloop.complaints.customer_messages import LATE_PLACEHOLDERS
from closeloop.complaints.models import Complaint
from closeloop.complaints.services import customer_message_send
from closeloop.core.errors import PermissionDeniedError, ValidationFailed
from closeloop.core.types import User
from closeloop.macros.models import Macro
from closeloop.macros.placeholders import render, unknown_placeholders
from closeloop.notifications.models import Notification

TITLE_MAX = 80
SUBJECT_MAX = 200
TEXT_MAX = 2000


def may_use(user: User | None) -> bool:
    return authz.allowed(user, "macros.use_macros")


def may_share(user: User | None) -> bool:
    return authz.allowed(user, "macros.share_macros")


def macros_for(user: User) -> QuerySet[Macro]:
    """The replies `user` may pick: their own, then the shared ones. One query."""
    return Macro.objects.filter(Q(owner=user) | Q(owner__isnull=True)).order_by("owner", "title", "id")


def may_edit(user: User, macro: Macro) -> bool:
    if macro.owner_id is None:
        return may_share(user)
    return macro.owner_id == user.pk and may_use(user)


def _clean(*, title: str, subject: str, text: str) -> dict[str, str]:
    errors: dict[str, list[str]] = {}
    title, subject, text = title.strip(), subject.strip(), text.strip()
    if not title:
        errors["title"] = [_("Give the reply a name.")]
    elif len(title) > TITLE_MAX:
        errors["title"] = [_("At most %(limit)s characters.") % {"limit": TITLE_MAX}]
    if len(subject) > SUBJECT_MAX:
        errors["subject"] = [_("At most %(limit)s characters.") % {"limit": SUBJECT_MAX}]
    if not text:
        errors["text"] = [_("Write the reply.")]
    elif len(text) > TEXT_MAX:
        errors["text"] = [_("At most %(limit)s characters.") % {"limit": TEXT_MAX}]
    for name, value in (("subject", subject), ("text", text)):
        unknown = [p for p in unknown_placeholders(value) if p not in LATE_PLACEHOLDERS]
        if unknown and name not in errors:
            errors[name] = [_("Unknown placeholder: %(names)s.") % {"names": ", ".join("{" + p + "}" for p in unknown)}]
    if errors:
        raise ValidationFailed(errors)
    return {"title": title, "subject": subject, "text": text}


def macro_create(*, actor: User, title: str, text: str, subject: str = "", shared: bool = False) -> Macro:
    authz.require(actor, "macros.share_macros" if shared else "macros.use_macros")
    values = _clean(title=title, subject=subject, text=text)
    return Macro.objects.create(owner=None if shared else actor, **values)


def macro_update(*, actor: User, macro: Macro, title: str, text: str, subject: str = "") -> Macro:
    if not may_edit(actor, macro):
        raise PermissionDeniedError(_("You may change your own replies; CS supervisors change the shared ones."))
    values = _clean(title=title, subject=subject, text=text)
    for name, value in values.items():
        setattr(macro, name, value)
    macro.save()
    return macro


def macro_delete(*, actor: User, macro: Macro) -> None:
    if not may_edit(actor, macro):
        raise PermissionDeniedError(_("You may change your own replies; CS supervisors change the shared ones."))
    macro.delete()


def macro_draft(*, macro: Macro, complaint: Complaint, actor: User) -> tuple[str, str]:
    """(subject, text) of the reply with the complaint's values, for the agent to edit before sending."""
    return (
        render(macro.subject, complaint=complaint, agent=actor),
        render(macro.text, complaint=complaint, agent=actor),
    )


def macro_send(
    *, actor: User, complaint: Complaint, method: str, text: str, subject: str = "", macro: Macro | None, via: str
) -> Notification:
    """Sends the (edited) text to the customer by SMS or e-mail; the timeline names the reply it started from.
    Placeholders still in the text are filled now."""
    if macro is not None and not (macro.owner_id is None or macro.owner_id == actor.pk):
        raise PermissionDeniedError(_("This is another agent's reply."))
    return customer_message_send(
        complaint=complaint,
        method=method,
        text=render(text, complaint=complaint, agent=actor),
        subject=render(subject, complaint=complaint, agent=actor),
        actor=actor,
        via=via,
        template=f"macro:{macro.pk}" if macro is not None else "",
    )
