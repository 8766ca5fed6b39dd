"""A safety-hazard word in a new complaint makes it urgent, flags it and tells quality and management —
exactly once; a denied hazard word does nothing. The month's hazard report lists it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from closeloop.complaints.models import Complaint, Event, Priority
from closeloop.notifications.models import Notification
from closeloop.triage.hazards import hazard_check
from closeloop.triage.models import HazardFlag, HazardLexicon

pytestmark = pytest.mark.django_db


@pytest.fixture
def intake(
    make_complaint: Callable[..., Complaint], django_capture_on_commit_callbacks: Any
) -> Iterator[Callable[..., Complaint]]:
    """Register through the intake service and run what follows its commit (the hazard check)."""

    def make(**overrides: Any) -> Complaint:
        with django_capture_on_commit_callbacks(execute=True):
            return make_complaint(**overrides)

    yield make


def test_a_smoke_complaint_is_escalated_once_and_quality_and_management_are_told(
    intake: Callable[..., Complaint], quality: User, management: User, agent: User
) -> None:
    complaint = intake(description="吸顶灯用了两天突然冒烟，屋里全是烧焦的味道", priority=Priority.NORMAL)

    complaint.refresh_from_db()
    assert complaint.priority == Priority.URGENT
    flag = HazardFlag.objects.get(complaint=complaint)
    assert flag.words == ["冒烟", "烧焦"]
    assert (flag.source, flag.escalated) == ("lexicon", True)
    actions = list(Event.objects.filter(complaint=complaint).values_list("action", flat=True))
    assert actions.count("hazard_flagged") == 1
    assert actions.count("priority_changed") == 1
    told = set(Notification.objects.filter(kind="safety_hazard").values_list("recipient__username", flat=True))
    assert told == {quality.username, management.username}
    assert agent.username not in told

    # The catch-up sweep, or a second worker, checks it again: nothing more happens.
    assert hazard_check(complaint_id=complaint.pk) is None
    assert HazardFlag.objects.filter(complaint=complaint).count() == 1
    assert Event.objects.filter(complaint=complaint, action="hazard_flagged").count() == 1
    in_app = Notification.objects.filter(kind="safety_hazard", method="in_app")
    assert in_app.count() == 2


def test_a_denied_hazard_word_does_not_escalate(intake: Callable[..., Complaint], quality: User) -> None:
    complaint = intake(description="灯不亮了，没有冒烟，也未起火", priority=Priority.NORMAL)
    complaint.refresh_from_db()
    assert complaint.priority == Priority.NORMAL
    assert not HazardFlag.objects.exists()
    assert not Notification.objects.filter(kind="safety_hazard").exists()


def test_an_urgent_complaint_is_flagged_and_told_but_not_changed(
    intake: Callable[..., Complaint], quality: User
) -> None:
    complaint = intake(description="孩子碰到台灯触电了", priority=Priority.URGENT)
    flag = HazardFlag.objects.get(complaint=complaint)
    assert flag.escalated is False
    assert not Event.objects.filter(complaint=complaint, action="priority_changed").exists()
    assert Notification.objects.filter(kind="safety_hazard").exists()


def test_a_product_line_lexicon_replaces_the_default(
    intake: Callable[..., Complaint], product: Any, quality: User
) -> None:
    HazardLexicon.objects.create(product_line=product.line, words="甲醛超标\n有毒")
    plain = intake(description="吸顶灯冒烟了", product_model=product.model)
    assert not HazardFlag.objects.filter(complaint=plain).exists()  # the line's own lexicon has no 冒烟
    toxic = intake(description="灯罩材料有毒，孩子过敏", product_model=product.model)
    assert HazardFlag.objects.get(complaint=toxic).words == ["有毒"]


def test_the_hazard_report_lists_the_month(
    intake: Callable[..., Complaint], quality: User, client: Any, api_as: Callable[[User], Any]
) -> None:
    complaint = intake(description="台灯漏电，手碰到发麻", province="广东")
    month = f"{timezone.localdate():%Y-%m}"
    client.force_login(quality)
    page = client.get("/desk/triage/hazards/", {"month": month})
    assert page.status_code == 200
    assert complaint.number in page.content.decode()
    answer = api_as(quality).get(f"/api/v1/triage/hazards?month={month}")
    assert answer.status_code == 200, answer.content
    (row,) = answer.json()
    assert (row["complaint"], row["words"], row["province"]) == (complaint.number, ["漏电"], "广东")


def test_the_hazard_report_is_refused_to_agents(agent: User, client: Any) -> None:
    client.force_login(agent)
    assert client.get("/desk/triage/hazards/").status_code == 403


def test_the_catch_up_flags_a_complaint_the_intake_path_missed(
    make_complaint: Callable[..., Complaint], quality: User
) -> None:
    from closeloop.triage.tasks import hazard_catch_up_task

    complaint = make_complaint(description="吊灯掉下来砸伤了人")  # after-commit work not run: as if the process died
    assert not HazardFlag.objects.exists()
    hazard_catch_up_task.call_local()
    assert HazardFlag.objects.get().complaint_id == complaint.pk
    hazard_catch_up_task.call_local()
    assert Notification.objects.filter(kind="safety_hazard", method="in_app").count() == 1


def test_the_demo_hazard_is_flagged_through_intake_once(
    agent: User, quality: User, django_capture_on_commit_callbacks: Any
) -> None:
    from closeloop.directory.models import Product, ProductLine
    from closeloop.triage.demo import demo_hazard

    line = ProductLine.objects.create(code="ceiling-demo", name="吸顶灯", name_en="Ceiling lights")
    Product.objects.create(model="XD-1004", line=line, name="儿童房吸顶灯 星空款", name_en="Kids' ceiling light")
    with django_capture_on_commit_callbacks(execute=True):
        demo_hazard()  # outside tests its check runs when the intake commits, before it returns
    assert HazardFlag.objects.get().words == ["冒烟", "烧焦"]
    assert demo_hazard() == 0
    assert HazardFlag.objects.count() == 1
