"""Improvement-action services: creation from each source with its prefill, numbers, the deadline on the
working calendar, the status flow with its judgements, and every refusal (which writes nothing)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import translation

from closeloop.complaints.models import Complaint
from closeloop.core.errors import DomainError, PermissionDeniedError, ValidationFailed
from closeloop.directory.models import ComplaintType, Department, Product
from closeloop.followup.models import FollowUp
from closeloop.handling.models import FeedbackForm
from closeloop.improvement.models import ActionEvent, ActionSource, ActionStatus, ImprovementAction
from closeloop.improvement.services import (
    ActionInput,
    action_complete,
    action_create,
    action_judge,
    action_prefill,
    action_start,
    can_create,
)
from closeloop.notifications.models import Notification
from tests.conftest import aware

pytestmark = pytest.mark.django_db

FRIDAY = aware(2026, 11, 20, 10, 0)


@pytest.fixture(autouse=True)
def _english() -> Any:
    with translation.override("en"):
        yield


@pytest.fixture
def complaint(make_complaint: Callable[..., Complaint], product: Product) -> Complaint:
    return make_complaint(product_model=product.model)


@pytest.fixture
def form(complaint: Complaint, people: dict[str, User]) -> FeedbackForm:
    return FeedbackForm.objects.create(
        complaint=complaint,
        handler=people["owner"],
        root_cause="驱动电源批次不良",
        improvement_suggestion="加强驱动电源来料检验\n每批抽检 5%",
    )


def _input(prefill: dict[str, Any], **overrides: Any) -> ActionInput:
    fields = {k: v for k, v in prefill.items() if k in ActionInput.__dataclass_fields__}
    fields.setdefault("description", "")
    fields.update(overrides)
    return ActionInput(**fields)


# --- creation and prefill ------------------------------------------------------------------------------


def test_created_from_a_feedback_form_with_its_suggestion_targets_and_number(
    form: FeedbackForm, people: dict[str, User], quality_dept: Department, product: Product
) -> None:
    prefill = action_prefill(feedback_form=form)
    assert prefill["source"] == ActionSource.FEEDBACK_FORM
    assert prefill["title"] == "加强驱动电源来料检验"
    assert prefill["description"] == "加强驱动电源来料检验\n每批抽检 5%"
    assert prefill["root_cause"] == "驱动电源批次不良"
    assert prefill["product"] == product and prefill["product_line"] == product.line
    assert prefill["complaint_type"].code == "quality"

    action = action_create(
        data=_input(prefill, owner_department=quality_dept, owner=people["owner"], target="20wd"),
        actor=people["quality"],
        now=FRIDAY,
    )
    assert action.number == "GJ202611-001"
    assert action.status == ActionStatus.PLANNED
    assert action.feedback_form == form and action.complaint == form.complaint
    assert action.target == "20wd" and action.created_by == people["quality"]
    event = ActionEvent.objects.get(action=action)
    assert event.kind == "created" and event.actor == people["quality"]
    assert event.after["number"] == "GJ202611-001" and event.after["feedback_form"] == form.pk
    told = Notification.objects.filter(kind="improvement_assigned")
    assert [n.recipient for n in told] == [people["owner"]]


def test_numbers_count_per_local_month(make_action: Callable[..., ImprovementAction]) -> None:
    first = make_action(now=aware(2026, 11, 2, 9, 0))
    second = make_action(now=aware(2026, 11, 30, 23, 30))
    third = make_action(now=aware(2026, 12, 1, 0, 30))  # still 30 November in UTC, but December locally
    assert [first.number, second.number, third.number] == ["GJ202611-001", "GJ202611-002", "GJ202612-001"]


def test_prefill_from_a_followup_an_incident_a_report_and_a_complaint(
    complaint: Complaint, people: dict[str, User], product: Product
) -> None:
    followup = FollowUp.objects.create(complaint=complaint, round=1, suggestions="希望安装说明书写得更清楚")
    values = action_prefill(followup=followup)
    assert values["source"] == ActionSource.FOLLOWUP and values["followup"] == followup
    assert values["title"] == "希望安装说明书写得更清楚" and values["complaint"] == complaint
    assert values["product"] == product

    from closeloop.defects.models import DefectIncident

    incident = DefectIncident.objects.create(
        number="PC-1", title="XD-100 批次 B7 不亮", product=product, opened_by=people["quality"], description="批次问题"
    )
    values = action_prefill(incident=incident)
    assert values["source"] == ActionSource.INCIDENT and values["product_line"] == product.line
    assert "XD-100 批次 B7 不亮" in values["title"] and values["description"] == "批次问题"

    from closeloop.insight.kpis import Period
    from closeloop.insight.models import Report

    period = Period.month(2026, 10)
    report = Report.objects.create(period_start=period.start, period_end=period.end)
    values = action_prefill(report=report)
    assert values["source"] == ActionSource.REPORT and "2026-10-01" in values["title"]

    # From the complaint page: its follow-up's suggestion (no feedback form has one) …
    values = action_prefill(complaint=complaint)
    assert values["source"] == ActionSource.FOLLOWUP and values["followup"] == followup
    # … and a feedback form's suggestion comes first.
    form = FeedbackForm.objects.create(
        complaint=complaint, handler=people["owner"], root_cause="安装不当", improvement_suggestion="上门安装培训"
    )
    assert action_prefill(complaint=complaint)["feedback_form"] == form


def test_prefill_from_a_complaint_with_only_a_root_cause(
    complaint: Complaint, people: dict[str, User], quality_dept: Department
) -> None:
    FeedbackForm.objects.create(complaint=complaint, handler=people["owner"], root_cause="  包装 \n 破损 ")
    values = action_prefill(complaint=complaint)
    assert values["source"] == ActionSource.ROOT_CAUSE
    assert values["root_cause"] == "包装 破损" and values["complaint"] == complaint
    action = action_create(
        data=_input(
            values, description="改用加厚纸箱", owner_department=quality_dept, owner=people["owner"], target="5wd"
        ),
        actor=people["supervisor"],
    )
    assert action.complaint == complaint and action.root_cause == "包装 破损" and action.feedback_form is None


def test_product_implies_its_line(make_action: Callable[..., ImprovementAction], product: Product) -> None:
    action = make_action(product=product, complaint_type=None)
    assert action.product_line == product.line


# --- refusals ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["agent", "owner", "manager", "auditor"])
def test_only_creators_may_create(who: str, people: dict[str, User], make_action: Callable[..., Any]) -> None:
    with pytest.raises(PermissionDeniedError):
        make_action(actor=people[who])
    assert not ImprovementAction.objects.exists()


@pytest.mark.parametrize("who", ["supervisor", "quality", "management"])
def test_cs_supervisor_quality_and_management_create(who: str, people: dict[str, User]) -> None:
    assert can_create(people[who])


def test_a_holder_of_the_permission_creates(people: dict[str, User]) -> None:
    from django.contrib.auth.models import Permission

    handler = people["tech_handler"]
    assert not can_create(handler)
    handler.user_permissions.add(Permission.objects.get(codename="manage_improvement"))
    handler = User.objects.get(pk=handler.pk)  # permissions are cached on the instance
    assert can_create(handler)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": "  "}, "title"),
        ({"description": ""}, "description"),
        ({"source": "rumour"}, "source"),
        ({"source": ActionSource.FEEDBACK_FORM}, "feedback_form"),
        ({"source": ActionSource.ROOT_CAUSE}, "root_cause"),
        ({"complaint_type": None}, "targets"),
        ({"owner": None}, "owner"),
        ({"owner_department": None}, "owner_department"),
        ({"target": ""}, "target"),
        ({"due_date": aware(2026, 12, 1).date()}, "target"),  # both a duration and a date
        ({"target": "twenty days"}, "target"),
        ({"target": "9999wd"}, "target"),
        ({"target": "", "due_date": aware(2026, 10, 1).date()}, "due_date"),  # National Day
        ({"target": "", "due_date": aware(2026, 11, 19).date()}, "due_date"),  # in the past
        ({"window_days": 3}, "window_days"),
        ({"root_cause": "因" * 201}, "root_cause"),
    ],
)
def test_refusals_name_their_field_and_write_nothing(
    overrides: dict[str, Any], field: str, make_action: Callable[..., Any]
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        make_action(now=FRIDAY, **overrides)
    assert field in caught.value.errors
    assert not ImprovementAction.objects.exists() and not ActionEvent.objects.exists()
    assert not Notification.objects.exists()


def test_the_owner_must_be_a_member_of_the_owner_department(
    make_action: Callable[..., Any], people: dict[str, User], tech_dept: Department
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        make_action(owner_department=tech_dept, owner=people["owner"])
    assert caught.value.errors["owner"] == ["The owner must be a member of the owner department."]
    assert make_action(owner_department=tech_dept, owner=people["tech_handler"]).owner == people["tech_handler"]


def test_a_model_outside_the_chosen_line_is_refused(
    make_action: Callable[..., Any], product: Product, other_product: Product
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        make_action(product_line=other_product.line, product=product)
    assert "product" in caught.value.errors


def test_a_source_record_of_another_kind_is_refused(make_action: Callable[..., Any], form: FeedbackForm) -> None:
    with pytest.raises(ValidationFailed) as caught:
        make_action(source=ActionSource.OTHER, feedback_form=form)
    assert "feedback_form" in caught.value.errors


# --- deadline on the working calendar ------------------------------------------------------------------------


def test_friday_plus_two_working_days_is_tuesday_with_the_warning_at_80_percent_of_the_working_time(
    make_action: Callable[..., ImprovementAction],
) -> None:
    action = make_action(now=FRIDAY, target="2wd")
    assert action.due_at == aware(2026, 11, 24, 10, 0)
    # 16 working hours allowed; 80 % = 12 h 48 min: Friday 7 h, Monday 09–12 and 13:00–15:48.
    assert action.warn_at == aware(2026, 11, 23, 15, 48)


def test_working_days_skip_the_national_day_holiday(make_action: Callable[..., ImprovementAction]) -> None:
    action = make_action(now=aware(2026, 9, 30, 16, 0), target="2wd")
    assert action.due_at == aware(2026, 10, 9, 16, 0)


def test_a_due_date_means_the_end_of_that_working_day(make_action: Callable[..., ImprovementAction]) -> None:
    action = make_action(now=FRIDAY, target="", due_date=aware(2026, 11, 27).date())
    assert action.due_at == aware(2026, 11, 27, 18, 0)
    assert action.target == "2026-11-27"
    # 47 working hours (Friday 7, Monday to Friday 40); 80 % = 37 h 36 min → Thursday 16:36.
    assert action.warn_at == aware(2026, 11, 26, 16, 36)


# --- the status flow -----------------------------------------------------------------------------------------


def test_planned_in_progress_done_verified_with_an_event_for_each_step(
    make_action: Callable[..., ImprovementAction], people: dict[str, User]
) -> None:
    action = make_action(now=FRIDAY)
    action = action_start(action=action, actor=people["owner"], now=aware(2026, 11, 23, 9, 0))
    assert action.status == ActionStatus.IN_PROGRESS and action.started_at == aware(2026, 11, 23, 9, 0)
    action = action_complete(
        action=action, actor=people["owner"], done_note="来料检验规程已修订", now=aware(2026, 12, 1, 10, 0)
    )
    assert action.status == ActionStatus.DONE and action.done_note == "来料检验规程已修订"
    assert Notification.objects.filter(kind="improvement_done", recipient=people["quality"]).exists()

    action = action_judge(
        action=action,
        actor=people["owner"],
        side="owner",
        effective=True,
        note="投诉明显减少",
        now=aware(2027, 1, 5, 9),
    )
    assert action.status == ActionStatus.DONE and action.owner_effective is True
    assert action.owner_judged_by == people["owner"]
    action = action_judge(
        action=action,
        actor=people["quality"],
        side="quality",
        effective=False,
        note="满意度未提升",
        now=aware(2027, 1, 6),
    )
    assert action.status == ActionStatus.VERIFIED and action.verified_at == aware(2027, 1, 6)
    assert action.quality_effective is False and action.quality_judged_by == people["quality"]

    kinds = list(action.events.order_by("at", "id").values_list("kind", flat=True))
    assert kinds == ["created", "started", "completed", "judged_owner", "judged_quality", "verified"]
    judged = action.events.get(kind="judged_owner")
    assert judged.note == "投诉明显减少" and judged.after["evaluation"]["window_days"] == 30


def test_a_manager_of_the_owner_department_reports_progress_and_judges_for_the_owner(
    make_action: Callable[..., ImprovementAction], people: dict[str, User]
) -> None:
    action = make_action()
    action = action_start(action=action, actor=people["manager"])
    action = action_complete(action=action, actor=people["manager"], done_note="完成")
    action = action_judge(action=action, actor=people["manager"], side="owner", effective=True, note="有效")
    assert action.owner_judged_by == people["manager"]


@pytest.mark.parametrize("who", ["colleague", "tech_handler", "tech_manager", "quality", "supervisor"])
def test_others_may_not_report_progress(
    who: str, make_action: Callable[..., ImprovementAction], people: dict[str, User]
) -> None:
    action = make_action()
    with pytest.raises(PermissionDeniedError):
        action_start(action=action, actor=people[who])
    action.refresh_from_db()
    assert action.status == ActionStatus.PLANNED and action.events.count() == 1


def test_steps_out_of_order_are_refused(make_action: Callable[..., ImprovementAction], people: dict[str, User]) -> None:
    action = make_action()
    owner = people["owner"]
    with pytest.raises(DomainError) as caught:
        action_complete(action=action, actor=owner, done_note="完成")
    assert caught.value.field == "status"
    with pytest.raises(DomainError) as caught:
        action_judge(action=action, actor=owner, side="owner", effective=True, note="好")
    assert caught.value.field == "status"
    action = action_start(action=action, actor=owner)
    with pytest.raises(DomainError) as caught:
        action_start(action=action, actor=owner)
    assert caught.value.field == "status"
    with pytest.raises(DomainError) as caught:
        action_complete(action=action, actor=owner, done_note="   ")
    assert caught.value.field == "done_note"
    action.refresh_from_db()
    assert action.status == ActionStatus.IN_PROGRESS and action.events.count() == 2


def test_judgement_refusals(
    make_action: Callable[..., ImprovementAction], people: dict[str, User], quality_dept: Department
) -> None:
    action = make_action()
    action = action_start(action=action, actor=people["owner"])
    action = action_complete(action=action, actor=people["owner"], done_note="完成")

    def refused(actor: str, side: str, *, note: str = "说明", effective: Any = True) -> DomainError:
        with pytest.raises(DomainError) as caught:
            action_judge(action=action, actor=people[actor], side=side, effective=effective, note=note)
        return caught.value

    assert isinstance(refused("colleague", "owner"), PermissionDeniedError)
    assert isinstance(refused("owner", "quality"), PermissionDeniedError)  # a handler is not quality
    assert isinstance(refused("auditor", "quality"), PermissionDeniedError)
    assert refused("quality", "quality", note=" ").field == "note"
    assert refused("quality", "quality", effective=None).field == "effective"
    assert refused("quality", "sales").field == "side"
    action_judge(action=action, actor=people["quality"], side="quality", effective=True, note="有效")
    assert refused("quality", "quality").field == "side"  # once per side
    assert action.events.count() == 4


def test_one_person_never_gives_both_judgements(
    make_user: Callable[..., User], quality_dept: Department, make_action: Callable[..., ImprovementAction]
) -> None:
    from closeloop.core.roles import Role

    # A quality engineer who owns the action and manages the department: may judge as the owner only.
    engineer = make_user(Role.QUALITY, departments=[quality_dept], manager=True, username="engineer")
    action = make_action(owner=engineer)
    action = action_start(action=action, actor=engineer)
    action = action_complete(action=action, actor=engineer, done_note="完成")
    action = action_judge(action=action, actor=engineer, side="owner", effective=True, note="有效")
    with pytest.raises(DomainError) as caught:
        action_judge(action=action, actor=engineer, side="quality", effective=True, note="有效")
    assert caught.value.field == "side"
    action.refresh_from_db()
    assert action.status == ActionStatus.DONE and action.quality_effective is None


def test_events_are_append_only(make_action: Callable[..., ImprovementAction]) -> None:
    from closeloop.core.events import AppendOnlyError

    event = make_action().events.get()
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()


def test_product_line_type_cause_in_the_created_event(
    make_action: Callable[..., ImprovementAction], product: Product, quality_type: ComplaintType
) -> None:
    action = make_action(product=product, root_cause="驱动电源")
    after = action.events.get().after
    assert after["product"] == product.pk and after["product_line"] == product.line_id
    assert after["complaint_type"] == quality_type.pk and after["root_cause"] == "驱动电源"
    assert after["due_at"] == action.due_at.isoformat()
