"""The life of a service order, one transition table per kind (the mechanism: closeloop/core/lifecycle.py).

All kinds share the states and a few rows (dispatch, cancel, the follow-up); each kind adds its path:
- visits (repair, installation, on-site inspection): book a technician's slot, record the visit; a
  repair may go to the depot instead (shipped in, received, shipped back);
- RMA (return, exchange): authorise against the product line's return policy, the customer's shipment
  or our pickup, received, inspected, then the refund (return) or the replacement sent (exchange);
- support and consultation: answered on the spot, or remote-assistance sessions then resolved.
A row's `meets` names the order's clocks the step stops (serviceorders/clocks.py starts them).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, cast

from django.db import models
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from closeloop import authz
from closeloop.core.errors import TransitionNotAllowed
from closeloop.core.lifecycle import Guard, Lifecycle, Transition, register
from closeloop.directory.models import ServiceKind

REGISTER = "serviceorders.register_order"
WORK = "serviceorders.work_order"
FOLLOW_UP = "followup.make_followup"


# The kinds live in directory (the SLA policy rules select by kind and sit below this package).
Kind = ServiceKind


VISIT_KINDS = frozenset({Kind.REPAIR, Kind.INSTALLATION, Kind.INSPECTION})
RMA_KINDS = frozenset({Kind.RETURN, Kind.EXCHANGE})
SUPPORT_KINDS = frozenset({Kind.SUPPORT, Kind.CONSULTATION})
# What a customer may ask for on the portal.
PORTAL_KINDS = (Kind.REPAIR, Kind.RETURN, Kind.EXCHANGE, Kind.INSTALLATION, Kind.SUPPORT)


class ServiceStatus(models.TextChoices):
    # Numbered, clocks running; nobody has taken it yet.
    REGISTERED = "registered", _("registered")
    # Handed to a department (and a person in it).
    DISPATCHED = "dispatched", _("dispatched")
    # A technician's slot is booked; the customer was told by SMS.
    SCHEDULED = "scheduled", _("visit booked")
    # The technician was there: diagnosis, parts, labour, signature.
    VISITED = "visited", _("visited")
    # Return / exchange authorised against the policy; waiting for the goods.
    AUTHORISED = "authorised", _("return authorised")
    # The goods are on their way to us (customer's shipment or our pickup; a repair to the depot).
    IN_TRANSIT = "in_transit", _("on the way to us")
    # The goods arrived at the warehouse or depot.
    RECEIVED = "received", pgettext_lazy("service order state", "received")
    # The warehouse inspected them (result and photos).
    INSPECTED = "inspected", _("inspected")
    # The replacement or the repaired item is on its way to the customer.
    SENT = "sent", _("sent to the customer")
    # Remote assistance under way.
    IN_PROGRESS = "in_progress", _("in progress")
    # Done for the customer; the follow-up is due.
    RESOLVED = "resolved", _("resolved")
    # Followed up (satisfied, unreachable, or not satisfied and turned into a complaint).
    CLOSED = "closed", pgettext_lazy("service order state", "closed")
    # Return / exchange refused: outside the policy, or the inspection found damage by use.
    REFUSED = "refused", _("refused")
    CANCELLED = "cancelled", _("cancelled")


S = ServiceStatus
OPEN_STATUSES = frozenset(s for s in S if s not in {S.RESOLVED, S.CLOSED, S.REFUSED, S.CANCELLED})
_BEFORE_WORK = frozenset({S.REGISTERED, S.DISPATCHED})


def _row(action: str, label: object, sources: frozenset[S] | set[S], target: S, **kw: object) -> Transition:
    kw.setdefault("permission", WORK)
    return Transition(action=action, label=label, sources=frozenset(sources), target=target, **kw)  # type: ignore[arg-type]


def _common() -> tuple[Transition, ...]:
    return (
        _row("dispatch", _("Dispatch"), _BEFORE_WORK, S.DISPATCHED, required=("department",)),
        _row(
            "cancel",
            _("Cancel"),
            OPEN_STATUSES,
            S.CANCELLED,
            required=("reason",),
            cancels_deadlines=True,
            style="danger",
            permission=REGISTER,
        ),
        _row(
            "follow_up",
            _("Record the follow-up"),
            {S.RESOLVED},
            S.CLOSED,
            required=("result",),
            meets=("followup",),
            permission=FOLLOW_UP,
        ),
    )


def _visit_rows(kind: Kind) -> tuple[Transition, ...]:
    rows = [
        _row(
            "book",
            _("Book a visit"),
            {S.REGISTERED, S.DISPATCHED, S.SCHEDULED},
            S.SCHEDULED,
            required=("technician", "day", "slot"),
        ),
        _row(
            "record_visit",
            _("Record the visit"),
            {S.SCHEDULED},
            S.VISITED,
            required=("arrived_at", "diagnosis"),
            meets=("reply", "visit"),
        ),
    ]
    resolve_from = {S.VISITED}
    if kind == Kind.REPAIR:
        # Repair at the depot: the item travels both ways.
        rows += [
            _row(
                "ship_in",
                _("Send to the depot"),
                {S.REGISTERED, S.DISPATCHED, S.VISITED},
                S.IN_TRANSIT,
                required=("carrier", "tracking_no"),
                meets=("reply",),
            ),
            _row("receive", _("Received at the depot"), {S.IN_TRANSIT}, S.RECEIVED, meets=("receive",)),
            _row(
                "send_back",
                _("Send the repaired item back"),
                {S.RECEIVED},
                S.SENT,
                required=("carrier", "tracking_no"),
                meets=("send_back",),
            ),
        ]
        resolve_from.add(S.SENT)
    rows.append(
        _row("resolve", _("Resolve"), resolve_from, S.RESOLVED, required=("resolution",), meets=("resolution",))
    )
    return tuple(rows)


def _rma_rows(kind: Kind) -> tuple[Transition, ...]:
    rows = [
        _row(
            "authorise",
            _("Authorise the return"),
            _BEFORE_WORK,
            S.AUTHORISED,
            guards=("closeloop.serviceorders.services.policy_guard",),
            meets=("reply",),
        ),
        _row(
            "refuse",
            _("Refuse"),
            _BEFORE_WORK | {S.INSPECTED},
            S.REFUSED,
            required=("reason",),
            meets=("reply",),
            cancels_deadlines=True,
            style="danger",
        ),
        _row(
            "ship_in",
            _("Record the shipment to us"),
            {S.AUTHORISED},
            S.IN_TRANSIT,
            required=("carrier", "tracking_no"),
            meets=("ship_in",),
        ),
        _row("receive", _("Received at the warehouse"), {S.IN_TRANSIT}, S.RECEIVED, meets=("receive",)),
        _row(
            "inspect", _("Record the inspection"), {S.RECEIVED}, S.INSPECTED, required=("result",), meets=("inspect",)
        ),
    ]
    if kind == Kind.EXCHANGE:
        rows += [
            _row(
                "send_back",
                _("Send the replacement"),
                {S.INSPECTED},
                S.SENT,
                required=("carrier", "tracking_no"),
                meets=("send_back",),
            ),
            _row("resolve", _("Resolve"), {S.SENT}, S.RESOLVED, required=("resolution",), meets=("resolution",)),
        ]
    else:
        rows.append(
            _row(
                "refund",
                _("Record the refund"),
                {S.INSPECTED},
                S.RESOLVED,
                required=("resolution",),
                meets=("send_back", "resolution"),
            )
        )
    return tuple(rows)


def _support_rows(kind: Kind) -> tuple[Transition, ...]:
    rows = [
        _row(
            "answer",
            _("Answered on the spot"),
            _BEFORE_WORK,
            S.RESOLVED,
            required=("resolution",),
            meets=("reply", "resolution"),
        )
    ]
    resolve_from = {S.DISPATCHED}
    if kind == Kind.SUPPORT:
        rows.append(
            _row(
                "record_session",
                _("Record a remote-assistance session"),
                {S.REGISTERED, S.DISPATCHED, S.IN_PROGRESS},
                S.IN_PROGRESS,
                required=("minutes", "notes"),
                meets=("reply",),
            )
        )
        resolve_from.add(S.IN_PROGRESS)
    rows.append(
        _row("resolve", _("Resolve"), resolve_from, S.RESOLVED, required=("resolution",), meets=("resolution",))
    )
    return tuple(rows)


def _rows(kind: Kind) -> tuple[Transition, ...]:
    if kind in VISIT_KINDS:
        return _visit_rows(kind) + _common()
    if kind in RMA_KINDS:
        return _rma_rows(kind) + _common()
    return _support_rows(kind) + _common()


def _table(kind: Kind) -> Lifecycle:
    """The kind's own table: what the services check and the desk offers for an order of this kind."""
    return Lifecycle(
        name=f"serviceorder_{kind.value}",
        title=cast(Promise, format_lazy("{}: {}", _("Service order"), kind.label)),
        model="serviceorders.ServiceOrder",
        states=ServiceStatus,
        transitions=_rows(kind),
        open_states=OPEN_STATUSES,
        default_service="closeloop.serviceorders.services.order_transition",
        authorize=authz.allowed,
    )


LIFECYCLES: dict[str, Lifecycle] = {kind.value: _table(kind) for kind in Kind}


def lifecycle_of(kind: str) -> Lifecycle:
    return LIFECYCLES[kind]


def _kind_guard(action: str) -> Guard:
    def kind_allows(order: Any, data: dict[str, object]) -> str | None:
        table = LIFECYCLES[order.kind]
        row = table.by_action.get(action)
        if row is None or order.status not in row.sources:
            return _("“%(action)s” is not a step of a %(kind)s order in this state.") % {
                "action": action,
                "kind": Kind(order.kind).label,
            }
        return None

    return kind_allows


def _merged() -> tuple[Transition, ...]:
    """Every kind's rows in one table, a row per action (its sources the union, the kind's own table
    deciding through the guard): the one registered, printed and published."""
    by_action: dict[str, Transition] = {}
    kinds: dict[str, list[str]] = {}
    for kind in Kind:
        for row in _rows(kind):
            kinds.setdefault(row.action, []).append(kind.value)
            known = by_action.get(row.action)
            if known is None:
                by_action[row.action] = replace(row, guards=(*row.guards, _kind_guard(row.action)))
            else:
                by_action[row.action] = replace(
                    known, sources=known.sources | row.sources, meets=tuple(dict.fromkeys(known.meets + row.meets))
                )
    return tuple(by_action.values())


LIFECYCLE = register(
    Lifecycle(
        name="serviceorder",
        title=_("Service order (every kind; each kind's own rows in serviceorders/lifecycle.py)"),
        model="serviceorders.ServiceOrder",
        states=ServiceStatus,
        transitions=_merged(),
        open_states=OPEN_STATUSES,
        default_service="closeloop.serviceorders.services.order_transition",
        authorize=authz.allowed,
    )
)


# --- waiting (clocks paused) ------------------------------------------------------------------------------


class WaitingFor(models.TextChoices):
    """What an order waits for while its clocks are paused (`ServiceOrder.waiting_for`). Not a status: the
    order stays where it is, as a complaint waiting for the customer does (docs/decisions.md, issue 16)."""

    CUSTOMER = "customer", _("waiting for the customer")
    PARTS = "parts", _("waiting for parts")


# --- postponement requests --------------------------------------------------------------------------------


class ServicePostponementStatus(models.TextChoices):
    REQUESTED = "requested", pgettext_lazy("service order postponement", "requested")
    APPROVED = "approved", pgettext_lazy("service order postponement", "approved")
    REJECTED = "rejected", pgettext_lazy("service order postponement", "rejected")
    # The order ended (resolved, refused, cancelled) before anyone decided: nothing left to move.
    LAPSED = "lapsed", pgettext_lazy("service order postponement", "lapsed: the order ended first")


DECIDE_POSTPONEMENT = "serviceorders.decide_postponement"


def _postponement_wrong_state(postponement: Any, transition: Transition) -> TransitionNotAllowed:
    return TransitionNotAllowed(
        _("Not possible: the request is %(status)s.") % {"status": postponement.get_status_display()},
        reason="wrong_state",
    )


POSTPONEMENT_LIFECYCLE = register(
    Lifecycle(
        name="serviceorder_postponement",
        title=_("Service order postponement (延期) request"),
        model="serviceorders.ServicePostponement",
        states=ServicePostponementStatus,
        wrong_state=_postponement_wrong_state,
        default_service="closeloop.serviceorders.services.postponement_decide",
        authorize=authz.allowed,
        transitions=(
            Transition(
                action="approve",
                label=_("Approve the postponement"),
                sources=frozenset({ServicePostponementStatus.REQUESTED}),
                target=ServicePostponementStatus.APPROVED,
                permission=DECIDE_POSTPONEMENT,
            ),
            Transition(
                action="reject",
                label=_("Reject the postponement"),
                sources=frozenset({ServicePostponementStatus.REQUESTED}),
                target=ServicePostponementStatus.REJECTED,
                permission=DECIDE_POSTPONEMENT,
                required=("note",),
                style="danger",
            ),
            # The system's, when a step of the order's table ends it (services.order_transition).
            Transition(
                action="lapse",
                label=_("The order ended: the request lapses"),
                sources=frozenset({ServicePostponementStatus.REQUESTED}),
                target=ServicePostponementStatus.LAPSED,
            ),
        ),
    )
)
