"""Repeat complaints (domain rule 5) by hand, and merging duplicates.

A repeat is a NEW complaint by the same complainant about the same product model within
settings.REPEAT_WINDOW_DAYS after an earlier one of theirs was resolved: intake marks it
(complaints.repeats.detect_repeat, called by complaints.services.complaint_register); here the desk
links one intake could not find, with a reason, or unlinks one. A customer unsatisfied with a
solution reopens the complaint (followup.services.complaint_reopen): that is never a repeat, and
nothing here looks at reopens.

A duplicate is the same complaint registered twice: `complaint_merge` marks it duplicate of the one
being handled (the lifecycle's `mark_duplicate`), and the target's timeline shows both histories
(complaints.selectors.complaint_timeline).
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from closeloop import authz
from closeloop.complaints.events import event_record
from closeloop.complaints.lifecycle import NOT_COUNTED_STATUSES, TRANSITIONS, Status
from closeloop.complaints.models import Complaint
from closeloop.complaints.repeats import REASON_MAX
from closeloop.core.errors import DomainError, TransitionNotAllowed
from closeloop.core.types import User

# --- by hand ------------------------------------------------------------------------------------------


def _check_role(actor: User | None, label: str) -> None:
    refusal = _("Your role may not %(action)s.") % {"action": label}
    authz.require(actor, "followup.link_repeats", message=refusal)


def _check_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give a reason."), field="reason")
    return reason


def _check_writable(complaint: Complaint) -> None:
    if complaint.status == Status.ARCHIVED:
        raise TransitionNotAllowed(_("%(number)s is archived: it is read-only.") % {"number": complaint.number})


def complaint_link_repeat(
    *,
    complaint: Complaint,
    earlier: Complaint,
    reason: str,
    actor: User | None,
    via: str,
    now: datetime.datetime | None = None,
) -> Complaint:
    """Mark `complaint` a repeat of `earlier` by hand (the desk found what intake could not, e.g. the
    customer called from another number). `earlier` must be an earlier complaint the actor can see."""
    now = now or timezone.now()
    _check_role(actor, _("link repeat complaints"))
    reason = _check_reason(reason)
    if earlier.pk == complaint.pk:
        raise DomainError(_("A complaint cannot repeat itself."), field="earlier")
    if (earlier.received_at, earlier.pk) >= (complaint.received_at, complaint.pk):
        raise DomainError(
            _("%(number)s was received after this complaint: only an earlier complaint can be repeated.")
            % {"number": earlier.number},
            field="earlier",
        )
    if earlier.status in NOT_COUNTED_STATUSES:
        raise DomainError(
            _("%(number)s is %(status)s: link the complaint it stands for instead.")
            % {"number": earlier.number, "status": Status(earlier.status).label},
            field="earlier",
        )
    with transaction.atomic():
        locked = Complaint.objects.select_for_update(no_key=True).get(pk=complaint.pk)
        _check_writable(locked)
        if locked.repeat_of_id == earlier.pk:
            return locked
        before = locked.repeat_of.number if locked.repeat_of_id else None  # type: ignore[union-attr]  # the id was tested: the relation is set
        locked.repeat_of, locked.repeat_reason = earlier, reason[:REASON_MAX]
        locked.save(update_fields=["repeat_of", "repeat_reason", "updated_at"])
        event_record(
            complaint=locked,
            action="repeat_linked",
            actor=actor,
            via=via,
            at=now,
            before={"repeat_of": before},
            after={"repeat_of": earlier.number},
            note=reason,
        )
    return locked


def complaint_unlink_repeat(
    *,
    complaint: Complaint,
    reason: str,
    actor: User | None,
    via: str,
    now: datetime.datetime | None = None,
) -> Complaint:
    """Say that `complaint` is not a repeat after all (a different problem, another product…)."""
    now = now or timezone.now()
    _check_role(actor, _("unlink repeat complaints"))
    reason = _check_reason(reason)
    with transaction.atomic():
        locked = (
            Complaint.objects.select_for_update(no_key=True, of=("self",))
            .select_related("repeat_of")
            .get(pk=complaint.pk)
        )
        _check_writable(locked)
        if locked.repeat_of is None:
            raise TransitionNotAllowed(_("This complaint is not marked as a repeat."))
        before = {"repeat_of": locked.repeat_of.number, "repeat_reason": locked.repeat_reason}
        locked.repeat_of, locked.repeat_reason = None, ""
        locked.save(update_fields=["repeat_of", "repeat_reason", "updated_at"])
        event_record(
            complaint=locked,
            action="repeat_unlinked",
            actor=actor,
            via=via,
            at=now,
            before=before,
            after={"repeat_of": None},
            note=reason,
        )
    return locked


# --- merging duplicates -------------------------------------------------------------------------------

MERGEABLE = TRANSITIONS["mark_duplicate"].sources
# A complaint that is itself gone (invalid, merged) or read-only cannot receive another one.
NOT_TARGETS = (Status.INVALID, Status.DUPLICATE, Status.ARCHIVED)


def complaint_merge(
    *,
    duplicate: Complaint,
    into: Complaint,
    reason: str,
    actor: User | None,
    via: str,
    now: datetime.datetime | None = None,
) -> Complaint:
    """Merge `duplicate` (the same complaint registered twice) into `into`, the one being handled:
    `duplicate` becomes a duplicate of it (its clocks cancelled) and `into`'s timeline shows both
    histories. Only a complaint nobody works on yet (registered, acknowledged) can be merged: once
    dispatched it has tasks and deadlines of its own, which a merge would silently drop."""
    now = now or timezone.now()
    _check_role(actor, _("merge complaints"))
    reason = _check_reason(reason)
    if duplicate.pk == into.pk:
        raise DomainError(_("A complaint cannot be merged into itself."), field="duplicate")
    from closeloop.complaints.services import complaint_transition

    with transaction.atomic():
        # Both rows locked (in id order, so two opposite merges cannot deadlock) and checked as stored.
        locked = {
            c.pk: c
            for c in Complaint.objects.select_for_update(no_key=True)
            .filter(pk__in=[duplicate.pk, into.pk])
            .order_by("pk")
        }
        duplicate, target = locked[duplicate.pk], locked[into.pk]
        if duplicate.status not in MERGEABLE:
            raise DomainError(
                _(
                    "%(number)s is %(status)s: only a complaint not yet dispatched (registered or acknowledged) "
                    "can be merged; link it as a repeat or resolve it instead."
                )
                % {"number": duplicate.number, "status": Status(duplicate.status).label},
                field="duplicate",
            )
        if target.status in NOT_TARGETS:
            raise DomainError(
                _("%(number)s is %(status)s: merge into the complaint that is being handled.")
                % {"number": target.number, "status": Status(target.status).label},
                field="duplicate",
            )
        merged = complaint_transition(
            complaint=duplicate,
            action="mark_duplicate",
            actor=actor,
            via=via,
            data={"reason": reason, "duplicate_of": target},
            now=now,
        )
        event_record(
            complaint=merged,
            action="merged_into",
            actor=actor,
            via=via,
            at=now,
            after={"into": target.number},
            note=reason,
        )
        event_record(
            complaint=target,
            action="merged",
            actor=actor,
            via=via,
            at=now,
            after={"duplicate": merged.number},
            note=reason,
        )
    return target


# --- reads ---------------------------------------------------------------------------------------------


def complaint_repeats(*, complaint: Complaint) -> QuerySet[Complaint]:
    """The later complaints that repeat this one, oldest first."""
    return complaint.repeats.order_by("received_at", "id")


def complaint_duplicates(*, complaint: Complaint) -> QuerySet[Complaint]:
    """The complaints merged into this one, oldest first."""
    return complaint.duplicates.order_by("received_at", "id")
