"""The spike rule: complaints about one model (and batch) reaching the threshold within the sliding
window raise ONE alert to quality; further complaints join it; keys, window, exclusions, rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from huey.contrib.djhuey import HUEY

from closeloop.complaints.models import Complaint, Event
from closeloop.complaints.services import complaint_transition
from closeloop.defects.models import AlertStatus, DefectAlert, IncidentEvent, SpikeRule
from closeloop.defects.services.incidents import alert_dismiss, alert_open_incident
from closeloop.defects.services.spikes import Outcome, spike_check
from closeloop.directory.models import Product
from closeloop.notifications.models import Method, Notification

pytestmark = pytest.mark.django_db

Intake = Callable[..., Complaint]


def numbers(alert: DefectAlert) -> set[str]:
    return set(alert.complaints.values_list("number", flat=True))


def test_threshold_reached_once_raises_one_alert_and_one_notification_per_quality_user(
    intake: Intake, quality: User, quality2: User, agent: User
) -> None:
    first = intake(days_ago=3, batch_no="b2611")
    second = intake(days_ago=1, batch_no="B2611")
    assert not DefectAlert.objects.exists()

    third = intake(batch_no=" B2611 ")

    alert = DefectAlert.objects.get()
    assert alert.status == AlertStatus.OPEN
    assert (alert.product.model, alert.batch_no, alert.threshold, alert.window_days) == ("XD-100", "B2611", 3, 7)
    assert numbers(alert) == {first.number, second.number, third.number}
    # quality, at once: in-app for both, e-mail for the one with an address; nobody else
    sent = Notification.objects.filter(kind="defect_alert")
    assert sorted(sent.values_list("recipient__username", "method")) == [
        ("q_lead", Method.EMAIL),
        ("q_lead", Method.IN_APP),
        ("q_second", Method.IN_APP),
    ]
    message = sent.get(recipient=quality2)
    assert "XD-100" in message.subject and "B2611" in message.subject
    for complaint in (first, second, third):
        assert complaint.number in message.body
    assert f"/desk/defects/alerts/{alert.pk}/" in message.body
    assert not Notification.objects.filter(kind="defect_alert", recipient=agent).exists()
    # the alert's history and each complaint's timeline say so
    assert list(IncidentEvent.objects.filter(alert=alert).values_list("kind", flat=True)) == ["raised"]
    assert Event.objects.filter(action="defect_alert_raised").count() == 3


def test_a_fourth_complaint_joins_the_open_alert_and_raises_nothing_new(intake: Intake, quality: User) -> None:
    for days in (3, 2, 1):
        intake(days_ago=days, batch_no="B1")
    alert = DefectAlert.objects.get()
    notified = Notification.objects.count()

    fourth = intake(batch_no="B1")
    fifth = intake(batch_no="b1")

    assert DefectAlert.objects.count() == 1
    assert Notification.objects.count() == notified
    assert {fourth.number, fifth.number} <= numbers(alert)
    assert alert.complaints.count() == 5
    joined = IncidentEvent.objects.filter(alert=alert, kind="complaint_joined")
    assert sorted(e.data["complaint"] for e in joined) == sorted([fourth.number, fifth.number])
    assert Event.objects.filter(complaint=fourth, action="defect_alert_joined").exists()


def test_a_different_batch_is_a_separate_key(intake: Intake, quality: User) -> None:
    a1 = intake(days_ago=2, batch_no="A")
    intake(days_ago=2, batch_no="B")
    a2 = intake(days_ago=1, batch_no="A")
    intake(days_ago=1, batch_no="B")
    assert not DefectAlert.objects.exists()  # 2 + 2 complaints, but never 3 of one batch

    a3 = intake(batch_no="A")
    alert = DefectAlert.objects.get()
    assert alert.batch_no == "A" and numbers(alert) == {a1.number, a2.number, a3.number}

    b3 = intake(batch_no="B")  # batch B reaches 3 on its own: its own alert
    assert DefectAlert.objects.count() == 2
    assert b3.number in numbers(DefectAlert.objects.get(batch_no="B"))


def test_another_model_is_a_separate_key(intake: Intake, other_product: Product, quality: User) -> None:
    intake(days_ago=2)
    intake(days_ago=1)
    intake(days_ago=1, product_model=other_product.model)
    assert not DefectAlert.objects.exists()
    intake()
    assert DefectAlert.objects.get().product.model == "XD-100"


def test_a_complaint_without_batch_counts_the_model_whatever_the_batch(intake: Intake, quality: User) -> None:
    intake(days_ago=2, batch_no="A")
    intake(days_ago=1, batch_no="B")
    unknown = intake()  # the customer does not know the batch
    alert = DefectAlert.objects.get()
    assert alert.batch_no == "" and unknown.number in numbers(alert) and alert.complaints.count() == 3
    # a complaint of batch A is covered by the open alert about the whole model: it joins it
    later = intake(batch_no="A")
    assert DefectAlert.objects.count() == 1 and later.number in numbers(alert)


def test_complaints_outside_the_window_do_not_count(intake: Intake, quality: User) -> None:
    early = intake(days_ago=19)
    middle = intake(days_ago=16)
    intake(days_ago=1)  # 15 days after the middle one: outside any 7-day window with them
    assert not DefectAlert.objects.exists()

    # a letter received 13 days ago and registered only now: the window [19, 12 days ago] holds three
    letter = intake(days_ago=13)
    alert = DefectAlert.objects.get()
    assert numbers(alert) == {early.number, middle.number, letter.number}


def test_invalid_and_duplicate_complaints_are_not_counted(intake: Intake, agent: User, quality: User) -> None:
    spam = intake(days_ago=3)
    complaint_transition(complaint=spam, action="invalidate", actor=agent, via="desk", data={"reason": "广告"})
    kept = intake(days_ago=2)
    twice = intake(days_ago=2)
    complaint_transition(
        complaint=twice,
        action="mark_duplicate",
        actor=agent,
        via="desk",
        data={"reason": "重复登记", "duplicate_of": kept},
    )
    second = intake(days_ago=1)
    assert not DefectAlert.objects.exists()  # four registered, two of them count

    third = intake()
    assert numbers(DefectAlert.objects.get()) == {kept.number, second.number, third.number}


def test_a_product_line_rule_overrides_the_default(
    intake: Intake, product: Product, other_product: Product, quality: User
) -> None:
    SpikeRule.objects.create(product_line=product.line, threshold=2, window_days=3)

    intake(days_ago=2.5)
    intake()
    alert = DefectAlert.objects.get(product=product)
    assert (alert.threshold, alert.window_days) == (2, 3)

    # the other line still follows the default: 3 within 7 days
    intake(days_ago=6, product_model=other_product.model)
    intake(days_ago=1, product_model=other_product.model)
    assert not DefectAlert.objects.filter(product=other_product).exists()
    intake(product_model=other_product.model)
    assert DefectAlert.objects.get(product=other_product).threshold == 3


def test_a_switched_off_rule_raises_nothing(intake: Intake, product: Product, quality: User) -> None:
    SpikeRule.objects.create(product_line=product.line, threshold=2, window_days=7, is_active=False)
    for _ in range(4):
        intake()
    assert not DefectAlert.objects.exists()


def test_no_catalogue_model_no_check(intake: Intake, quality: User) -> None:
    for _ in range(3):
        intake(product_model="", product_text="某款吸顶灯")
    assert not DefectAlert.objects.exists()


def test_dismissed_alert_counts_its_complaints_once(intake: Intake, quality: User) -> None:
    for days in (3, 2, 1):
        intake(days_ago=days)
    alert = DefectAlert.objects.get()
    alert_dismiss(alert=alert, reason="巧合，不同原因", actor=quality, via="desk")

    intake()
    intake()
    assert DefectAlert.objects.count() == 1  # the dismissed three are not counted again
    intake()
    assert DefectAlert.objects.filter(status=AlertStatus.OPEN).count() == 1
    assert DefectAlert.objects.get(status=AlertStatus.OPEN).complaints.count() == 3


def test_an_open_incident_takes_new_complaints_of_its_model_and_batch(intake: Intake, quality: User) -> None:
    for days in (3, 2, 1):
        intake(days_ago=days, batch_no="L7")
    incident = alert_open_incident(alert=DefectAlert.objects.get(), title="L7 驱动电源", actor=quality, via="desk")
    notified = Notification.objects.count()

    later = intake(batch_no="L7")
    other_batch = intake(batch_no="L8")

    incident.refresh_from_db()
    assert later in incident.complaints.all() and other_batch not in incident.complaints.all()
    assert DefectAlert.objects.count() == 1 and Notification.objects.count() == notified
    event = IncidentEvent.objects.filter(incident=incident, kind="complaint_added").get()
    assert event.data == {"complaint": later.number, "automatic": True, "via": "system"}
    assert Event.objects.filter(complaint=later, action="defect_incident_joined").exists()


def test_an_incident_about_the_whole_model_takes_every_batch(intake: Intake, quality: User) -> None:
    for days in (3, 2, 1):
        intake(days_ago=days, batch_no="L7")
    incident = alert_open_incident(
        alert=DefectAlert.objects.get(), title="设计缺陷", batch_no="", actor=quality, via="desk"
    )
    assert incident.batch_no == ""
    other_batch = intake(batch_no="L9")
    assert other_batch in incident.complaints.all()


def test_the_check_is_idempotent(intake: Intake, quality: User) -> None:
    complaints = [intake(days_ago=days) for days in (3, 2, 1)]
    before = (IncidentEvent.objects.count(), Event.objects.count(), Notification.objects.count())
    for complaint in complaints:
        assert spike_check(complaint=complaint).outcome == Outcome.NOTHING
    assert (IncidentEvent.objects.count(), Event.objects.count(), Notification.objects.count()) == before
    assert DefectAlert.objects.get().complaints.count() == 3


def test_intake_succeeds_when_the_queue_is_down(intake: Intake, quality: User) -> None:
    """Intake writes nothing to the queue (the worker claims new complaints by itself)."""
    with mock.patch.object(HUEY, "enqueue", side_effect=ConnectionError("redis down")):
        complaints = [intake(days_ago=days, check=False) for days in (3, 2, 1)]
    assert all(c.pk for c in complaints)
    assert not DefectAlert.objects.exists()


def test_rescan_finds_spikes_in_imported_history(intake: Intake, quality: User, capsys: Any) -> None:
    # as if imported without the worker
    old = [intake(days_ago=days, batch_no="H1", check=False) for days in (40, 39, 37)]
    recent = intake(days_ago=2, batch_no="H1", check=False)
    assert not DefectAlert.objects.exists()

    call_command("defects_rescan", "--from", "2000-01-01")

    alert = DefectAlert.objects.get()
    # the old spike raised it; the recent complaint of the batch joined it, as at intake
    assert numbers(alert) == {c.number for c in old} | {recent.number}
    assert IncidentEvent.objects.get(alert=alert, kind="raised").data["complaints"] == [c.number for c in old]
    assert not Notification.objects.filter(kind="defect_alert").exists()  # old history is not mailed
    assert "1 alert(s) raised, 1 joined" in capsys.readouterr().out
    call_command("defects_rescan", "--from", "2000-01-01")  # idempotent
    assert DefectAlert.objects.count() == 1


def test_rescan_with_notify_alerts_quality(intake: Intake, quality: User) -> None:
    for days in (3, 2, 1):
        intake(days_ago=days, check=False)
    call_command("defects_rescan", "--from", "2000-01-01", "--notify")
    assert Notification.objects.filter(kind="defect_alert", recipient=quality).count() == 2  # in-app + e-mail
