"""Saved views of the queue: a named set of its filters, a user's own or shared with everyone.

Reads (`saved_views_for`) and writes (`saved_view_save`, `saved_view_delete`) for the desk's picker
(templates/desk/_saved_views.html) and the API (/api/v1/saved-views). A shared view is created, replaced
and deleted by CS supervisors only (authz: complaints.share_saved_view), and names no phone number or
e-mail address: everyone, masked roles too, reads its filters."""

from __future__ import annotations

import re

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from closeloop import authz
from closeloop.complaints.models import SavedView
from closeloop.complaints.selectors import PART_OF_NUMBER, contact_in_term
from closeloop.core.errors import DomainError, PermissionDeniedError
from closeloop.core.types import AnyUser

# The queue's filters a view keeps (complaints.forms.QueueFilterForm); the page number is not one.
FILTER_KEYS = ("q", "status", "priority", "type", "channel", "product", "received_from", "received_to", "due", "sort")
NAME_MAX = 60
# Digits that could be part of a phone number: in a shared view they would reach masked roles.
_DIGIT_RUN = re.compile(r"\d{5,}")


def saved_view_query(data: QueryDict | dict[str, str]) -> str:
    """The filters of a queue address as a view keeps them: known keys, no empty values, in a fixed order."""
    kept = QueryDict(mutable=True)
    for key in FILTER_KEYS:
        value = (data.get(key) or "").strip()
        if value:
            kept[key] = value[:200]
    return kept.urlencode()


def saved_views_for(*, user: AnyUser) -> QuerySet[SavedView]:
    """The user's own views and every shared one (one query), shared ones first."""
    if not user.is_authenticated:
        return SavedView.objects.none()
    return SavedView.objects.filter(Q(owner=user) | Q(shared=True)).order_by("-shared", "name", "id")


def _check_shareable(query: str) -> None:
    term = QueryDict(query).get("q", "")
    if term and (
        contact_in_term(term)[0] or "@" in term or (_DIGIT_RUN.search(term) and not PART_OF_NUMBER.match(term))
    ):
        raise DomainError(
            _("A shared view may not search for a phone number or an e-mail address: everyone reads it."),
            field="query",
            reason="saved_view.personal_data_in_shared_view",
        )


def saved_view_save(*, owner: AnyUser, name: str, query: str, shared: bool = False) -> SavedView:
    """Create the view, or replace the filters of the owner's view of that name."""
    name = name.strip()
    if not name:
        raise DomainError(_("Give the view a name."), field="name", code="required")
    if len(name) > NAME_MAX:
        raise DomainError(_("At most %(max)d characters.") % {"max": NAME_MAX}, field="name")
    query = saved_view_query(QueryDict(query))
    if shared:
        authz.require(owner, "complaints.share_saved_view")
        _check_shareable(query)
    try:
        with transaction.atomic():
            view, _created = SavedView.objects.update_or_create(
                owner=owner, name=name, defaults={"query": query, "shared": shared}
            )
    except IntegrityError:  # the same name saved at the same moment by another request of the owner
        raise DomainError(
            _("You already have a view of this name."), field="name", reason="saved_view.duplicate"
        ) from None
    return view


def saved_view_delete(*, view: SavedView, actor: AnyUser) -> None:
    """The owner deletes their own view; a shared one is deleted by any CS supervisor."""
    if view.shared:
        authz.require(actor, "complaints.share_saved_view")
    elif view.owner_id != actor.pk:
        raise PermissionDeniedError(_("Only its owner may delete this view."))
    view.delete()


def saved_view_get(*, user: AnyUser, pk: int) -> SavedView:
    """A view the user may use (their own or a shared one); SavedView.DoesNotExist otherwise."""
    return saved_views_for(user=user).get(pk=pk)
