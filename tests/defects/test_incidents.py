"""Quality acts on an alert: dismiss it, or open a defect incident that groups its complaints; add and
remove complaints; apply one remedy to all in one transaction; close. Refusals change nothing."""

from __future__ import annotations

from collections.abc import Callable
from unittest import mock

import pytest
from django.contrib.auth.models import User

from closeloop.complaints.lifecycle import Status
from closeloop.complaints.models import Complaint, Event
from closeloop.core.errors import DomainError, PermissionDeniedError, TransitionNotAllowed
from closeloop.core.roles import Role
from closeloop.defects.models import (
    AlertStatus,
    DefectAlert,
    DefectIncident,
    IncidentEvent,
    IncidentRemedy,
    IncidentStatus,
)
from closeloop.defects.services.incidents import (
    alert_dismiss,
    alert_link_incident,
    alert_open_incident,
    incident_add_complaint,
    incident_apply_remedy,
    incident_close,
    incident_remove_complaint,
)
from closeloop.directory.models import Product

pytestmark = pytest.mark.django_db

Intake = Callable[..., Complaint]


@pytest.fixture
def spike(intake: Intake, quality: User) -> tuple[DefectAlert, list[Complaint]]:
    complaints = [intake(days_ago=days, batch_no="L7") for days in (3, 2, 1)]
    return DefectAlert.objects.get(), complaints


def state() -> tuple[object, ...]:
    return (
        tuple(DefectAlert.objects.order_by("pk").values_list("status", "incident_id", "decision_note")),
        tuple(DefectIncident.objects.order_by("pk").values_list("status", "remedy", "closed_note")),
        tuple(DefectIncident.complaints.through.objects.order_by("pk").values_list("pk", flat=True)),
        IncidentEvent.objects.count(),
        IncidentRemedy.objects.count(),
        Event.objects.count(),
    )


def test_open_an_incident_from_the_alert(spike: tuple[DefectAlert, list[Complaint]], quality: User) -> None:
    alert, complaints = spike
    incident = alert_open_incident(
        alert=alert, title="L7 批次驱动电源过热", description="供应商电容批次问题", actor=quality, via="desk"
    )
    assert incident.number.startswith("PC") and incident.number.endswith("-001") and len(incident.number) == 12
    assert (incident.product_id, incident.batch_no, incident.status) == (alert.product_id, "L7", IncidentStatus.OPEN)
    assert set(incident.complaints.all()) == set(complaints)
    alert.refresh_from_db()
    assert (alert.status, alert.incident, alert.decided_by) == (AlertStatus.INCIDENT, incident, quality)
    opened = IncidentEvent.objects.get(incident=incident, kind="opened")
    assert opened.data["alert"] == alert.pk and opened.actor == quality
    assert IncidentEvent.objects.filter(alert=alert, kind="incident_opened").exists()
    for complaint in complaints:
        event = Event.objects.get(complaint=complaint, action="defect_incident_joined")
        assert event.after == {"incident": incident.number} and event.actor == quality


def test_incident_numbers_follow_each_other_within_the_month(intake: Intake, quality: User) -> None:
    for batch in ("A", "B"):
        for days in (3, 2, 1):
            intake(days_ago=days, batch_no=batch)
    first, second = (
        alert_open_incident(alert=a, title=f"批次 {a.batch_no}", actor=quality, via="desk")
        for a in DefectAlert.objects.order_by("batch_no")
    )
    assert first.number[:-3] == second.number[:-3]
    assert int(second.number[-3:]) == int(first.number[-3:]) + 1


def test_dismiss_needs_a_reason_and_quality(
    spike: tuple[DefectAlert, list[Complaint]], quality: User, supervisor: User, auditor: User
) -> None:
    alert, _complaints = spike
    before = state()
    with pytest.raises(DomainError) as refused:
        alert_dismiss(alert=alert, reason="  ", actor=quality, via="desk")
    assert refused.value.field == "reason"
    for outsider in (supervisor, auditor):
        with pytest.raises(PermissionDeniedError):
            alert_dismiss(alert=alert, reason="巧合", actor=outsider, via="desk")
    assert state() == before

    alert_dismiss(alert=alert, reason="巧合", actor=quality, via="desk")
    alert.refresh_from_db()
    assert (alert.status, alert.decision_note) == (AlertStatus.DISMISSED, "巧合")
    with pytest.raises(TransitionNotAllowed):
        alert_open_incident(alert=alert, title="x", actor=quality, via="desk")


@pytest.mark.parametrize("role", [Role.CS_SUPERVISOR, Role.DEPT_MANAGER, Role.AUDITOR, Role.MANAGEMENT, Role.AGENT])
def test_only_quality_acts(
    spike: tuple[DefectAlert, list[Complaint]], quality: User, make_user: Callable[..., User], role: Role
) -> None:
    alert, complaints = spike
    incident = alert_open_incident(alert=alert, title="L7", actor=quality, via="desk")
    someone = make_user(role)
    before = state()
    for attempt in (
        lambda: incident_apply_remedy(
            incident=incident, remedy="换新", measure="replacement", actor=someone, via="api"
        ),
        lambda: incident_close(incident=incident, note="x", actor=someone, via="api"),
        lambda: incident_remove_complaint(
            incident=incident, complaint=complaints[0], reason="x", actor=someone, via="api"
        ),
    ):
        with pytest.raises(PermissionDeniedError):
            attempt()
    assert state() == before


def test_add_and_remove_complaints(
    spike: tuple[DefectAlert, list[Complaint]],
    quality: User,
    intake: Intake,
    other_product: Product,
    agent: User,
) -> None:
    alert, complaints = spike
    incident = alert_open_incident(alert=alert, title="L7", actor=quality, via="desk")
    same_model = intake(batch_no="L9", check=False)  # registered without the automatic check
    other_model = intake(product_model=other_product.model, check=False)
    before = state()
    with pytest.raises(DomainError) as refused:
        incident_add_complaint(incident=incident, complaint=other_model, actor=quality, via="desk")
    assert refused.value.field == "complaint" and "XD-100" in str(refused.value.message)
    with pytest.raises(DomainError, match="already in this incident"):
        incident_add_complaint(incident=incident, complaint=complaints[0], actor=quality, via="desk")
    assert state() == before

    incident_add_complaint(incident=incident, complaint=same_model, note="同型号其他批次", actor=quality, via="desk")
    assert same_model in incident.complaints.all()
    added = IncidentEvent.objects.get(incident=incident, kind="complaint_added")
    assert added.data["complaint"] == same_model.number and added.actor == quality and not added.data["automatic"]

    with pytest.raises(DomainError) as refused:
        incident_remove_complaint(incident=incident, complaint=same_model, reason="", actor=quality, via="desk")
    assert refused.value.field == "reason"
    incident_remove_complaint(incident=incident, complaint=same_model, reason="不同故障", actor=quality, via="desk")
    assert same_model not in incident.complaints.all()
    assert Event.objects.get(complaint=same_model, action="defect_incident_left").note == "不同故障"
    with pytest.raises(DomainError, match="not in this incident"):
        incident_remove_complaint(incident=incident, complaint=same_model, reason="x", actor=quality, via="desk")


def test_invalid_complaints_cannot_join(
    spike: tuple[DefectAlert, list[Complaint]], quality: User, intake: Intake, agent: User
) -> None:
    from closeloop.complaints.services import complaint_transition

    alert, _complaints = spike
    incident = alert_open_incident(alert=alert, title="L7", actor=quality, via="desk")
    spam = intake(batch_no="L7", check=False)
    complaint_transition(complaint=spam, action="invalidate", actor=agent, via="desk", data={"reason": "广告"})
    with pytest.raises(DomainError, match="not counted"):
        incident_add_complaint(incident=incident, complaint=spam, actor=quality, via="desk")


def test_remedy_applied_to_all_complaints_in_one_go(spike: tuple[DefectAlert, list[Complaint]], quality: User) -> None:
    alert, complaints = spike
    incident = alert_open_incident(alert=alert, title="L7", actor=quality, via="desk")
    archived = complaints[0]
    Complaint.objects.filter(pk=archived.pk).update(status=Status.ARCHIVED)  # e.g. an old one of the batch

    result = incident_apply_remedy(
        incident=incident, remedy="为该批次每台灯具免费更换新品", measure="replacement", actor=quality, via="desk"
    )

    assert result.applied == [c.number for c in complaints[1:]]
    assert result.skipped == [(archived.number, "archived complaints are read-only")]
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.REMEDIED and incident.remedy_measure == "replacement"
    assert incident.remedy_applied_by == quality
    for complaint in complaints[1:]:
        event = Event.objects.get(complaint=complaint, action="defect_remedy_applied")
        assert event.after == {"incident": incident.number, "measure": "replacement"}
        assert "为该批次每台灯具免费更换新品" in event.note and "replacement" in event.note
    assert not Event.objects.filter(complaint=archived, action="defect_remedy_applied").exists()
    assert IncidentRemedy.objects.filter(incident=incident).count() == 2
    recorded = IncidentEvent.objects.get(incident=incident, kind="remedy_applied")
    assert recorded.data["applied"] == result.applied and recorded.data["skipped"] == [archived.number]


def test_the_remedy_is_all_or_nothing(spike: tuple[DefectAlert, list[Complaint]], quality: User) -> None:
    alert, _complaints = spike
    incident = alert_open_incident(alert=alert, title="L7", actor=quality, via="desk")
    before = state()
    with (
        mock.patch("closeloop.defects.services.common.events_insert_many", side_effect=RuntimeError("disk full")),
        pytest.raises(RuntimeError),
    ):
        incident_apply_remedy(incident=incident, remedy="换新", measure="replacement", actor=quality, via="desk")
    assert state() == before
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.OPEN and incident.remedy == ""


def test_the_remedy_reaches_complaints_that_joined_later(
    spike: tuple[DefectAlert, list[Complaint]], quality: User, intake: Intake
) -> None:
    alert, complaints = spike
    incident = alert_open_incident(alert=alert, title="L7", actor=quality, via="desk")
    incident_apply_remedy(incident=incident, remedy="换新", measure="replacement", actor=quality, via="desk")
    with pytest.raises(DomainError, match="has the remedy already"):
        incident_apply_remedy(incident=incident, remedy="换新", measure="replacement", actor=quality, via="desk")

    late = intake(batch_no="L7")  # joins the (remedied, still open) incident
    assert late in incident.complaints.all()
    result = incident_apply_remedy(incident=incident, remedy="换新", measure="replacement", actor=quality, via="desk")
    assert result.applied == [late.number] and result.already == [c.number for c in complaints]


def test_remedy_refusals(spike: tuple[DefectAlert, list[Complaint]], quality: User) -> None:
    alert, _complaints = spike
    incident = alert_open_incident(alert=alert, title="L7", actor=quality, via="desk")
    before = state()
    with pytest.raises(DomainError) as refused:
        incident_apply_remedy(incident=incident, remedy="", measure="replacement", actor=quality, via="desk")
    assert refused.value.field == "remedy"
    with pytest.raises(DomainError) as refused:
        incident_apply_remedy(incident=incident, remedy="换新", measure="teleport", actor=quality, via="desk")
    assert refused.value.field == "measure"
    assert state() == before


def test_close_and_what_follows(spike: tuple[DefectAlert, list[Complaint]], quality: User, intake: Intake) -> None:
    alert, _complaints = spike
    incident = alert_open_incident(alert=alert, title="L7", actor=quality, via="desk")
    with pytest.raises(DomainError) as refused:
        incident_close(incident=incident, note="", actor=quality, via="desk")
    assert refused.value.field == "note"
    incident_close(incident=incident, note="供应商已更换电容，批次召回完成", actor=quality, via="desk")
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.CLOSED and incident.closed_at is not None
    with pytest.raises(TransitionNotAllowed):
        incident_apply_remedy(incident=incident, remedy="换新", measure="replacement", actor=quality, via="desk")
    with pytest.raises(TransitionNotAllowed):
        incident_close(incident=incident, note="again", actor=quality, via="desk")

    # closed: new complaints of the batch no longer join it; they count towards a new spike
    late = intake(batch_no="L7")
    assert late not in incident.complaints.all()
    assert not DefectAlert.objects.filter(status=AlertStatus.OPEN).exists()
    intake(batch_no="L7")
    intake(batch_no="L7")
    assert DefectAlert.objects.get(status=AlertStatus.OPEN).complaints.count() == 3


def test_link_an_alert_to_an_open_incident(intake: Intake, quality: User) -> None:
    for days in (3, 2, 1):
        intake(days_ago=days, batch_no="L7")
    incident = alert_open_incident(alert=DefectAlert.objects.get(), title="L7", actor=quality, via="desk")
    unknown = [intake(days_ago=days) for days in (2, 1, 0)]  # no batch given: a model alert of their own
    alert = DefectAlert.objects.get(status=AlertStatus.OPEN)
    assert alert.batch_no == ""

    alert_link_incident(alert=alert, incident=incident, actor=quality, via="desk")

    alert.refresh_from_db()
    assert (alert.status, alert.incident) == (AlertStatus.INCIDENT, incident)
    assert set(unknown) <= set(incident.complaints.all()) and incident.complaints.count() == 6
    assert IncidentEvent.objects.filter(incident=incident, kind="alert_linked").exists()
