"""Quality's side of early warning: dismiss an alert, or open a defect incident (批次问题) from it that
groups its complaints; add and remove complaints; apply one remedy to all of them in one transaction;
close the incident. Every change is an IncidentEvent; changes that concern a complaint are also on
its timeline. Each write takes the product model's lock first (as the spike check does), then its row."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from closeloop.complaints.lifecycle import NOT_COUNTED_STATUSES, Status
from closeloop.complaints.models import Complaint
from closeloop.core.errors import DomainError
from closeloop.core.types import User
from closeloop.defects.lifecycle import ALERT_LIFECYCLE, INCIDENT_LIFECYCLE
from closeloop.defects.models import (
    DefectAlert,
    DefectIncident,
    IncidentRemedy,
)
from closeloop.defects.services.common import (
    LIVE_INCIDENT,
    TITLE_MAX,
    batch_key,
    check_manage,
    complaint_events,
    defect_event,
    lock_product,
    required_text,
)
from closeloop.defects.services.spikes import alert_todo, join_incident
from closeloop.handling.models import Measure
from closeloop.notifications.services import notifications_done

NUMBER_PREFIX = "PC"  # 批次 (PiCi): PC202611-001


# --- locking --------------------------------------------------------------------------------------------


def _locked_alert(alert: DefectAlert) -> DefectAlert:
    lock_product(alert.product_id)
    return DefectAlert.objects.select_for_update(no_key=True).select_related("product").get(pk=alert.pk)


def _locked_incident(incident: DefectIncident) -> DefectIncident:
    lock_product(incident.product_id)
    return DefectIncident.objects.select_for_update(no_key=True).select_related("product").get(pk=incident.pk)


def _check_live_incident(incident: DefectIncident) -> None:
    """Complaints join or leave an incident in the states from which it can still be closed."""
    INCIDENT_LIFECYCLE.check_state(incident, "close")


# --- alerts ---------------------------------------------------------------------------------------------


def alert_dismiss(
    *,
    alert: DefectAlert,
    reason: str,
    actor: User,
    via: str,
    now: datetime.datetime | None = None,
) -> DefectAlert:
    """Quality judges the spike a coincidence. Its complaints stay counted once: only new complaints
    can raise the next alert for the model/batch."""
    now = now or timezone.now()
    ALERT_LIFECYCLE.check_actor("dismiss", actor)
    reason = required_text(reason, "reason")
    with transaction.atomic():
        locked = _locked_alert(alert)
        ALERT_LIFECYCLE.move(locked, "dismiss", actor)
        notifications_done(todo=alert_todo(locked), now=now)
        locked.decided_by, locked.decided_at, locked.decision_note = actor, now, reason
        locked.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        defect_event(kind="dismissed", at=now, actor=actor, alert=locked, note=reason, via=via)
    return locked


def _next_number(now: datetime.datetime) -> str:
    prefix = f"{NUMBER_PREFIX}{timezone.localtime(now):%Y%m}-"
    last = (
        DefectIncident.objects.filter(number__startswith=prefix)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    sequence = int(last[len(prefix) :]) + 1 if last and last[len(prefix) :].isdigit() else 1
    return f"{prefix}{sequence:03d}"


def _create_incident(**values: object) -> DefectIncident:
    """Numbers are per month; two incidents opened at once for different models may draw the same
    one, and the unique constraint sends the loser round again."""
    for _attempt in range(5):
        values["number"] = _next_number(values["opened_at"])  # type: ignore[arg-type]  # opened_at is set above
        try:
            with transaction.atomic():
                return DefectIncident.objects.create(**values)
        except IntegrityError:
            continue
    raise DomainError(_("Could not number the incident; try again."), field=None)


def alert_open_incident(
    *,
    alert: DefectAlert,
    title: str,
    description: str = "",
    batch_no: str | None = None,
    actor: User,
    via: str,
    now: datetime.datetime | None = None,
) -> DefectIncident:
    """Open a defect incident from an open alert, grouping its complaints. The batch defaults to the
    alert's; an empty batch makes the incident about the whole model (every later complaint about
    the model joins it while it is open)."""
    now = now or timezone.now()
    ALERT_LIFECYCLE.check_actor("open_incident", actor)
    title = required_text(title, "title", max_length=TITLE_MAX)
    description = (description or "").strip()
    with transaction.atomic():
        locked = _locked_alert(alert)
        ALERT_LIFECYCLE.check(locked, "open_incident", actor)
        batch = locked.batch_no if batch_no is None else batch_key(batch_no)
        incident = _create_incident(
            title=title,
            product_id=locked.product_id,
            batch_no=batch,
            description=description,
            opened_at=now,
            opened_by=actor,
        )
        complaints = list(locked.complaints.order_by("received_at", "id"))
        incident.complaints.add(*complaints)
        ALERT_LIFECYCLE.move(locked, "open_incident", actor, checked=True)
        notifications_done(todo=alert_todo(locked), now=now)
        locked.incident = incident
        locked.decided_by, locked.decided_at = actor, now
        locked.save(update_fields=["status", "incident", "decided_by", "decided_at"])
        numbers = [c.number for c in complaints]
        defect_event(
            kind="opened",
            at=now,
            actor=actor,
            incident=incident,
            data={"alert": locked.pk, "complaints": numbers, "batch_no": batch},
            note=title,
            via=via,
        )
        defect_event(
            kind="incident_opened", at=now, actor=actor, alert=locked, data={"incident": incident.number}, via=via
        )
        complaint_events(
            complaints=complaints,
            action="defect_incident_joined",
            at=now,
            actor=actor,
            via=via,
            after={"incident": incident.number},
            note=title,
        )
    return incident


def alert_link_incident(
    *,
    alert: DefectAlert,
    incident: DefectIncident,
    actor: User,
    via: str,
    now: datetime.datetime | None = None,
) -> DefectIncident:
    """The alert is part of an incident already open for the same model: its complaints join it."""
    now = now or timezone.now()
    ALERT_LIFECYCLE.check_actor("link_incident", actor)
    if incident.product_id != alert.product_id:
        raise DomainError(_("The incident is about another model."), field="incident")
    with transaction.atomic():
        locked = _locked_alert(alert)
        ALERT_LIFECYCLE.check(locked, "link_incident", actor)
        target = DefectIncident.objects.select_for_update(no_key=True).get(pk=incident.pk)
        if target.status not in LIVE_INCIDENT:
            raise DomainError(
                _("The incident is %(status)s.") % {"status": target.get_status_display()}, field="incident"
            )
        members = set(target.complaints.values_list("pk", flat=True))
        joining = [c for c in locked.complaints.order_by("received_at", "id") if c.pk not in members]
        target.complaints.add(*joining)
        ALERT_LIFECYCLE.move(locked, "link_incident", actor, checked=True)
        notifications_done(todo=alert_todo(locked), now=now)
        locked.incident, locked.decided_by, locked.decided_at = target, actor, now
        locked.save(update_fields=["status", "incident", "decided_by", "decided_at"])
        defect_event(
            kind="alert_linked",
            at=now,
            actor=actor,
            incident=target,
            data={"alert": locked.pk, "complaints": [c.number for c in joining]},
            via=via,
        )
        defect_event(
            kind="incident_linked", at=now, actor=actor, alert=locked, data={"incident": target.number}, via=via
        )
        complaint_events(
            complaints=joining,
            action="defect_incident_joined",
            at=now,
            actor=actor,
            via=via,
            after={"incident": target.number},
            note=target.title,
        )
    return target


# --- incidents ------------------------------------------------------------------------------------------


def incident_add_complaint(
    *,
    incident: DefectIncident,
    complaint: Complaint,
    actor: User,
    via: str,
    note: str = "",
    now: datetime.datetime | None = None,
) -> DefectIncident:
    """Quality groups one more complaint about the incident's model into it."""
    now = now or timezone.now()
    check_manage(actor)
    note = (note or "").strip()
    with transaction.atomic():
        locked = _locked_incident(incident)
        _check_live_incident(locked)
        current = Complaint.objects.get(pk=complaint.pk)
        if current.product_id != locked.product_id:
            raise DomainError(
                _("Only complaints about %(model)s can join this incident.") % {"model": locked.product.model},
                field="complaint",
            )
        if current.status in NOT_COUNTED_STATUSES:
            raise DomainError(
                _("%(number)s is %(status)s: it is not counted as a complaint.")
                % {"number": current.number, "status": current.get_status_display()},
                field="complaint",
            )
        if current.status == Status.ARCHIVED:
            raise DomainError(_("Archived complaints are read-only."), field="complaint")
        if locked.complaints.filter(pk=current.pk).exists():
            raise DomainError(
                _("%(number)s is already in this incident.") % {"number": current.number}, field="complaint"
            )
        other = (
            DefectIncident.objects.filter(complaints=current, status__in=LIVE_INCIDENT)
            .exclude(pk=locked.pk)
            .values_list("number", flat=True)
            .first()
        )
        if other:
            raise DomainError(
                _("%(number)s is already in the open incident %(incident)s.")
                % {"number": current.number, "incident": other},
                field="complaint",
            )
        join_incident(incident=locked, complaint=current, now=now, actor=actor, via=via, note=note)
    return locked


def incident_remove_complaint(
    *,
    incident: DefectIncident,
    complaint: Complaint,
    reason: str,
    actor: User,
    via: str,
    now: datetime.datetime | None = None,
) -> DefectIncident:
    """The complaint turned out not to be part of the defect. One that came with an alert stays listed
    there (so it is not counted towards a new spike again); a remedy recorded on it stays on its timeline."""
    now = now or timezone.now()
    check_manage(actor)
    reason = required_text(reason, "reason")
    with transaction.atomic():
        locked = _locked_incident(incident)
        _check_live_incident(locked)
        current = locked.complaints.filter(pk=complaint.pk).first()
        if current is None:
            raise DomainError(
                _("%(number)s is not in this incident.") % {"number": complaint.number}, field="complaint"
            )
        if current.status == Status.ARCHIVED:
            raise DomainError(_("Archived complaints are read-only."), field="complaint")
        locked.complaints.remove(current)
        defect_event(
            kind="complaint_removed",
            at=now,
            actor=actor,
            incident=locked,
            data={"complaint": current.number},
            note=reason,
            via=via,
        )
        complaint_events(
            complaints=[current],
            action="defect_incident_left",
            at=now,
            actor=actor,
            via=via,
            after={"incident": locked.number},
            note=reason,
        )
    return locked


@dataclass
class RemedyResult:
    incident: DefectIncident
    applied: list[str] = field(default_factory=list)
    # (number, why) of the complaints the remedy could not be recorded on.
    skipped: list[tuple[str, str]] = field(default_factory=list)
    already: list[str] = field(default_factory=list)


def incident_apply_remedy(
    *,
    incident: DefectIncident,
    remedy: str,
    measure: str,
    actor: User,
    via: str,
    now: datetime.datetime | None = None,
) -> RemedyResult:
    """Apply one remedy (e.g. replace every unit of the batch) to every complaint of the incident that
    does not have it yet, in one transaction: a timeline event on each, a row per complaint, and one
    event on the incident. Archived complaints are read-only and invalid or duplicate ones are not
    complaints: they are skipped and named in the result. Refused when no complaint is left to apply to."""
    now = now or timezone.now()
    INCIDENT_LIFECYCLE.check_actor("apply_remedy", actor)
    remedy = required_text(remedy, "remedy")
    if measure not in Measure.values:
        raise DomainError(_("Choose a measure from the list."), field="measure")
    with transaction.atomic():
        locked = _locked_incident(incident)
        INCIDENT_LIFECYCLE.check(locked, "apply_remedy", actor)
        # The complaints' rows are locked too: none is archived or changed while the remedy is recorded.
        complaints = list(
            Complaint.objects.select_for_update(no_key=True, of=("self",))
            .filter(defect_incidents=locked)
            .order_by("received_at", "id")
        )
        done = set(IncidentRemedy.objects.filter(incident=locked).values_list("complaint_id", flat=True))
        result = RemedyResult(incident=locked)
        targets = []
        for complaint in complaints:
            if complaint.pk in done:
                result.already.append(complaint.number)
            elif complaint.status == Status.ARCHIVED:
                result.skipped.append((complaint.number, _("archived complaints are read-only")))
            elif complaint.status in NOT_COUNTED_STATUSES:
                result.skipped.append((complaint.number, str(Status(complaint.status).label)))
            else:
                targets.append(complaint)
        if not targets:
            if result.skipped:
                names = ", ".join(f"{number} ({why})" for number, why in result.skipped)
                message = _("No complaint can take the remedy: %(names)s.") % {"names": names}
            else:
                message = _("Every complaint of the incident has the remedy already.")
            raise DomainError(message, field="remedy")
        IncidentRemedy.objects.bulk_create(
            [
                IncidentRemedy(
                    incident=locked, complaint=c, applied_at=now, applied_by=actor, remedy=remedy, measure=measure
                )
                for c in targets
            ]
        )
        with translation.override(settings.LANGUAGE_CODE):
            label = str(Measure(measure).label)
        complaint_events(
            complaints=targets,
            action="defect_remedy_applied",
            at=now,
            actor=actor,
            via=via,
            after={"incident": locked.number, "measure": measure},
            note=f"{locked.number} · {label}: {remedy}",
        )
        result.applied = [c.number for c in targets]
        before = {"status": locked.status, "remedy": locked.remedy, "measure": locked.remedy_measure}
        INCIDENT_LIFECYCLE.move(locked, "apply_remedy", actor, checked=True)
        locked.remedy, locked.remedy_measure = remedy, measure
        locked.remedy_applied_at, locked.remedy_applied_by = now, actor
        locked.save(update_fields=["status", "remedy", "remedy_measure", "remedy_applied_at", "remedy_applied_by"])
        defect_event(
            kind="remedy_applied",
            at=now,
            actor=actor,
            incident=locked,
            data={
                "before": before,
                "measure": measure,
                "applied": result.applied,
                "skipped": [number for number, _why in result.skipped],
                "already": result.already,
            },
            note=remedy,
            via=via,
        )
    return result


def incident_close(
    *,
    incident: DefectIncident,
    note: str,
    actor: User,
    via: str,
    now: datetime.datetime | None = None,
) -> DefectIncident:
    """Close with a note. From then on new complaints about the model/batch count towards a new spike."""
    now = now or timezone.now()
    INCIDENT_LIFECYCLE.check_actor("close", actor)
    note = required_text(note, "note")
    with transaction.atomic():
        locked = _locked_incident(incident)
        before, _target = INCIDENT_LIFECYCLE.move(locked, "close", actor)
        locked.closed_at, locked.closed_note = now, note
        locked.save(update_fields=["status", "closed_at", "closed_note"])
        defect_event(
            kind="closed",
            at=now,
            actor=actor,
            incident=locked,
            data={"before": before, "complaints": locked.complaints.count()},
            note=note,
            via=via,
        )
    return locked
