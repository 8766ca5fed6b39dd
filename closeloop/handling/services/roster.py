"""The responsibility roster (责任岗位表): who takes which complaints, and short leave.

Lines are edited by the managers of their department (or an admin); every change is written to
RosterChange with the line before and after. Leave does not edit the roster: an Absence names a
cover, or leaves the task to the department pool for the manager to assign.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from closeloop import authz
from closeloop.complaints.models import Complaint
from closeloop.core.errors import DomainError, PermissionDeniedError, ValidationFailed
from closeloop.core.types import User
from closeloop.directory.models import Absence, ComplaintType, Department, Membership, RosterChange, RosterEntry
from closeloop.directory.regions import province_standard

# The fields of a roster line that an update may change.
EDITABLE_FIELDS = ("handler", "complaint_type", "product_line", "province", "valid_from", "valid_to", "note")


def roster_may_edit(*, user: User | None, department: Department) -> bool:
    """Managers of the department, and admins."""
    return authz.allowed(user, "handling.edit_roster", department)


def _check_editor(actor: User | None, department: Department) -> None:
    if not roster_may_edit(user=actor, department=department):
        raise PermissionDeniedError(_("Only the department's manager or an administrator may edit its roster."))


def _snapshot(entry: RosterEntry) -> dict[str, Any]:
    return {
        "department": entry.department.code,
        "handler": entry.handler.get_username() if entry.handler else None,
        "complaint_type": entry.complaint_type.code if entry.complaint_type else None,
        "product_line": entry.product_line.code if entry.product_line else None,
        "province": entry.province,
        "valid_from": entry.valid_from.isoformat(),
        "valid_to": entry.valid_to.isoformat() if entry.valid_to else None,
        "note": entry.note,
    }


def _validate(entry: RosterEntry) -> None:
    errors: dict[str, list[str]] = {}
    if (
        entry.handler_id
        and not Membership.objects.filter(user_id=entry.handler_id, department=entry.department).exists()
    ):
        errors["handler"] = [str(_("The handler must be a member of the department."))]
    if entry.valid_from is None:
        errors["valid_from"] = [str(_("Give the date the line takes effect."))]
    elif entry.valid_to is not None and entry.valid_to < entry.valid_from:
        errors["valid_to"] = [str(_("The end date cannot be before the start date."))]
    if len(entry.province or "") > 30:
        errors["province"] = [str(_("At most 30 characters."))]
    if len(entry.note or "") > 200:
        errors["note"] = [str(_("At most 200 characters."))]
    if errors:
        raise ValidationFailed(errors)


def _log(entry: RosterEntry, action: str, actor: Any, now: datetime.datetime, before: dict[str, Any]) -> None:
    RosterChange.objects.create(
        entry=entry,
        at=now,
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        before=before,
        after=_snapshot(entry),
    )


def roster_entry_create(
    *,
    department: Department | None,
    handler: User | None = None,
    complaint_type: ComplaintType | None = None,
    product_line: Any = None,
    province: str = "",
    valid_from: datetime.date,
    valid_to: datetime.date | None = None,
    note: str = "",
    actor: User | None,
    now: datetime.datetime | None = None,
) -> RosterEntry:
    now = now or timezone.now()
    if department is None:
        raise ValidationFailed({"department": [str(_("Choose the department the line belongs to."))]})
    _check_editor(actor, department)
    entry = RosterEntry(
        department=department,
        handler=handler,
        complaint_type=complaint_type,
        product_line=product_line,
        province=province_standard(province),
        valid_from=valid_from,
        valid_to=valid_to,
        note=(note or "").strip(),
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    _validate(entry)
    with transaction.atomic():
        entry.save()
        _log(entry, "created", actor, now, {})
    return entry


def roster_entry_update(
    *,
    entry: RosterEntry,
    values: dict[str, Any],
    actor: User | None,
    now: datetime.datetime | None = None,
) -> RosterEntry:
    """Change a line; only the fields in `values` (from EDITABLE_FIELDS). No change, no log row."""
    now = now or timezone.now()
    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise DomainError(_("These fields cannot be changed: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    with transaction.atomic():
        locked = (
            RosterEntry.objects.select_for_update(no_key=True, of=("self",))
            .select_related("department", "handler", "complaint_type", "product_line")
            .get(pk=entry.pk)
        )
        _check_editor(actor, locked.department)
        before = _snapshot(locked)
        for name, value in values.items():
            if name == "province":
                value = province_standard(value)
            elif name == "note":
                value = (value or "").strip()
            setattr(locked, name, value)
        _validate(locked)
        if _snapshot(locked) == before:
            return locked
        locked.save()
        _log(locked, "updated", actor, now, before)
    return locked


def roster_entry_end(
    *,
    entry: RosterEntry,
    actor: User | None,
    on: datetime.date | None = None,
    now: datetime.datetime | None = None,
) -> RosterEntry:
    """End a line: `on` is its last valid day (default: yesterday, so it no longer applies today).
    Lines are never deleted."""
    now = now or timezone.now()
    on = on or (timezone.localdate(now) - datetime.timedelta(days=1))
    with transaction.atomic():
        locked = (
            RosterEntry.objects.select_for_update(no_key=True, of=("self",))
            .select_related("department", "handler", "complaint_type", "product_line")
            .get(pk=entry.pk)
        )
        _check_editor(actor, locked.department)
        if locked.valid_to is not None and locked.valid_to <= on:
            raise DomainError(_("This line has already ended."), field="valid_to")
        if on < locked.valid_from - datetime.timedelta(days=1):
            raise DomainError(_("A line cannot end before it starts."), field="valid_to")
        before = _snapshot(locked)
        locked.valid_to = on
        locked.save(update_fields=["valid_to"])
        _log(locked, "ended", actor, now, before)
    return locked


def absence_create(
    *,
    user: User | None,
    starts: datetime.date,
    ends: datetime.date,
    cover: User | None = None,
    note: str = "",
    actor: User | None,
) -> Absence:
    """Short leave, recorded by a manager of one of the person's departments (or an admin). The cover,
    if named, must share a department with the person."""
    if user is None:
        raise ValidationFailed({"user": [str(_("Name the person who is on leave."))]})
    departments = set(Membership.objects.filter(user=user).values_list("department_id", flat=True))
    is_admin = authz.allowed(actor, "handling.edit_every_roster")
    managed = set(
        Membership.objects.filter(user=actor, is_manager=True).values_list("department_id", flat=True)
        if actor is not None and actor.is_authenticated
        else []
    )
    if not is_admin and not (departments & managed):
        raise PermissionDeniedError(_("Only the person's department manager may record their leave."))
    errors: dict[str, list[str]] = {}
    if ends < starts:
        errors["ends"] = [str(_("The leave cannot end before it starts."))]
    if cover is not None:
        if cover.pk == user.pk:
            errors["cover"] = [str(_("Nobody covers for themselves."))]
        elif not Membership.objects.filter(user=cover, department_id__in=departments).exists():
            errors["cover"] = [str(_("The cover must be a member of the same department."))]
    if len(note or "") > 200:
        errors["note"] = [str(_("At most 200 characters."))]
    if errors:
        raise ValidationFailed(errors)
    return Absence.objects.create(
        user=user,
        starts=starts,
        ends=ends,
        cover=cover,
        note=(note or "").strip(),
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )


# --- proposals at dispatch ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    department: Department
    handler: Any  # User | None: None means the department pool (the manager assigns)
    entry: RosterEntry | None = None
    covering_for: Any = None  # the absent rostered handler, when a cover is proposed


def roster_active_on(on: datetime.date) -> Q:
    return Q(valid_from__lte=on) & (Q(valid_to__isnull=True) | Q(valid_to__gte=on))


def _type_ancestry(complaint_type: ComplaintType | None) -> list[int]:
    """The complaint's type and its parents: a line for 质量 also covers its sub-types."""
    ids: list[int] = []
    current = complaint_type
    while current is not None and current.pk not in ids:
        ids.append(current.pk)
        current = current.parent
    return ids


def roster_propose(*, complaint: Complaint, on: datetime.date) -> list[Proposal]:
    """Per department, the most specific active line matching the complaint's type, product line and
    province (empty criteria match anything); the more specific line, then the more recent one, wins.
    A rostered handler absent that day is replaced by the absence's cover, or by None (the pool).
    With no matching line, the type's responsible department is proposed without a handler."""
    type_ids = _type_ancestry(complaint.type)
    line_id = complaint.product.line_id if complaint.product else None
    province = province_standard(complaint.province)
    candidates = (
        RosterEntry.objects.filter(roster_active_on(on), department__is_active=True)
        .filter(Q(complaint_type__isnull=True) | Q(complaint_type_id__in=type_ids))
        .filter(Q(product_line__isnull=True) | Q(product_line_id=line_id))
        .filter(Q(province="") | Q(province=province))
        .select_related("department", "handler")
    )

    def specificity(entry: RosterEntry) -> tuple[int, int, datetime.date, int]:
        # A line naming the exact type beats one naming a parent type.
        type_rank = 0
        if entry.complaint_type_id:
            type_rank = len(type_ids) - type_ids.index(entry.complaint_type_id)
        criteria = sum(bool(x) for x in (entry.complaint_type_id, entry.product_line_id, entry.province))
        return (criteria, type_rank, entry.valid_from, entry.pk)

    best: dict[int, RosterEntry] = {}
    for entry in candidates:
        current = best.get(entry.department_id)
        if current is None or specificity(entry) > specificity(current):
            best[entry.department_id] = entry
    ordered = sorted(
        best.values(),
        key=lambda e: (tuple(-x if isinstance(x, int) else 0 for x in specificity(e)[:2]), e.department.code),
    )
    handler_ids = [e.handler_id for e in ordered if e.handler_id]
    absences = {
        a.user_id: a
        for a in Absence.objects.filter(user_id__in=handler_ids, starts__lte=on, ends__gte=on).select_related("cover")
    }
    proposals = []
    for entry in ordered:
        handler, covering_for = entry.handler, None
        absence = absences.get(entry.handler_id) if entry.handler_id else None
        if absence is not None:
            covering_for, handler = entry.handler, absence.cover
        proposals.append(Proposal(department=entry.department, handler=handler, entry=entry, covering_for=covering_for))
    if not proposals and complaint.department and complaint.department.is_active:
        proposals.append(Proposal(department=complaint.department, handler=None))
    return proposals
