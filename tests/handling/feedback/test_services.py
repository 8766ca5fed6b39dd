"""Feedback-form services: open, prefill, save, submit, review — every rule and every refusal."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User

from closeloop.complaints.models import Event
from closeloop.core.errors import PermissionDeniedError, TransitionNotAllowed, ValidationFailed
from closeloop.handling.guards import feedback_forms_approved
from closeloop.handling.models import FeedbackForm, FeedbackStatus
from closeloop.handling.services.feedback import (
    feedback_form_open,
    feedback_form_prefill,
    feedback_form_review,
    feedback_form_save,
    feedback_form_submit,
    feedback_forms_to_fill,
    feedback_forms_to_review,
    parse_key_actions,
)
from closeloop.notifications.models import Notification
from closeloop.sla.models import Deadline

from .conftest import COMPLETE, Opened

pytestmark = pytest.mark.django_db


def _open_deadlines(form: FeedbackForm) -> list[Deadline]:
    return list(Deadline.objects.filter(task=form.task, milestone="feedback_form", met_at__isnull=True))


def _actions(opened: Opened) -> list[str]:
    return list(Event.objects.filter(complaint=opened.complaint).order_by("id").values_list("action", flat=True))


def _submitted(opened: Opened, people: dict[str, User]) -> FeedbackForm:
    feedback_form_save(form=opened.form, data=COMPLETE, actor=people["quality_handler"])
    return feedback_form_submit(form=opened.form, actor=people["quality_handler"])


# --- open ----------------------------------------------------------------------------------------


def test_open_is_idempotent_and_starts_the_24h_deadline(opened: Callable[..., Opened]) -> None:
    o = opened()
    again = feedback_form_open(task=o.tasks["quality"], now=o.now + datetime.timedelta(hours=1))
    assert again.pk == o.form.pk
    assert FeedbackForm.objects.filter(task=o.tasks["quality"]).count() == 1
    [deadline] = _open_deadlines(o.form)
    assert deadline.due_at - deadline.started_at == datetime.timedelta(hours=24)
    assert deadline.assignee == o.form.handler
    assert _actions(o).count("feedback_form_opened") == 1
    assert o.form.status == FeedbackStatus.DRAFT


# --- prefill -------------------------------------------------------------------------------------


def test_prefill_masks_the_phone_and_copies_the_record(opened: Callable[..., Opened]) -> None:
    o = opened(description="吸顶灯通电后不亮，闪烁三次", demand="要求换新")
    prefill = feedback_form_prefill(o.form)
    assert prefill.number == o.complaint.number
    assert prefill.customer_name == "张伟"
    assert prefill.phone_masked == "138****5678"
    assert "13812345678" not in str(prefill.as_dict())
    assert prefill.description == "吸顶灯通电后不亮，闪烁三次"
    assert prefill.demand == "要求换新"
    assert prefill.type == o.complaint.type.label
    assert prefill.department == o.tasks["quality"].department.label
    assert prefill.measures == "" and prefill.compensation == ""


def test_prefill_takes_measures_and_compensation_from_the_approved_solution(opened: Callable[..., Opened]) -> None:
    o = opened(solution=True)
    prefill = feedback_form_prefill(o.form)
    assert "更换吸顶灯并补偿" in prefill.measures
    assert "200.00 CNY" in prefill.compensation


def test_prefill_timeline_from_contacts_and_key_events(opened: Callable[..., Opened]) -> None:
    from django.utils import translation

    o = opened(contacts=True)
    with translation.override("en"):
        texts = [a.text for a in feedback_form_prefill(o.form).timeline]
    joined = "\n".join(texts)
    assert "电话联系客户，确认故障现象" in joined
    assert "技术部另行联系客户" not in joined  # another department's contact belongs on its own form
    assert any("Registered" in t or "登记" in t for t in texts)
    assert len([t for t in texts if "Task created" in t]) == 1  # only this task's, not the tech task's
    assert not any("Feedback form" in t for t in texts)  # bookkeeping is not a key action
    ats = [a.at for a in feedback_form_prefill(o.form).timeline]
    assert ats == sorted(ats)


# --- save ----------------------------------------------------------------------------------------


def test_save_keeps_incomplete_input_and_copies_the_timeline_once(
    opened: Callable[..., Opened], people: dict[str, User]
) -> None:
    o = opened(contacts=True, solution=True)
    form = feedback_form_save(form=o.form, data={"root_cause": "  来料不良 "}, actor=people["quality_handler"])
    form.refresh_from_db()
    assert form.status == FeedbackStatus.DRAFT
    assert form.root_cause == "来料不良"
    assert form.result == ""
    assert "更换吸顶灯并补偿" in form.measures  # the prefill is stored on the first save
    assert any("确认故障现象" in row["text"] for row in form.key_actions)
    # From now on the timeline is the form's own: edits stick.
    feedback_form_save(
        form=form, data={"key_actions": [{"at": "2026-05-20 10:00", "text": "上门"}]}, actor=people["quality_handler"]
    )
    form.refresh_from_db()
    assert form.key_actions == [{"at": "2026-05-20 10:00", "text": "上门"}]
    assert form.root_cause == "来料不良"
    assert _actions(o).count("feedback_form_saved") == 2


def test_a_department_colleague_may_save_but_others_may_not(
    opened: Callable[..., Opened], people: dict[str, User], make_user: Callable[..., User], quality_dept: object
) -> None:
    o = opened()
    colleague = make_user("handler", departments=[quality_dept], username="colleague")
    feedback_form_save(form=o.form, data={"root_cause": "x"}, actor=colleague)
    for outsider in (people["tech_handler"], people["supervisor"], people["auditor"], people["agent"]):
        with pytest.raises(PermissionDeniedError):
            feedback_form_save(form=o.form, data={"root_cause": "y"}, actor=outsider)
    o.form.refresh_from_db()
    assert o.form.root_cause == "x"


def test_save_refuses_unknown_choices_and_writes_nothing(
    opened: Callable[..., Opened], people: dict[str, User]
) -> None:
    o = opened()
    with pytest.raises(ValidationFailed) as exc:
        feedback_form_save(
            form=o.form, data={"result": "great", "root_cause": "kept?"}, actor=people["quality_handler"]
        )
    assert "result" in exc.value.errors
    o.form.refresh_from_db()
    assert o.form.root_cause == ""
    assert "feedback_form_saved" not in _actions(o)


# --- submit --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"result": ""}, "result"),
        ({"result": "negotiating"}, "result_reason"),
        ({"result": "unresolvable"}, "result_reason"),
        ({"demand_met": None}, "demand_met"),
        ({"demand_met": False}, "demand_reason"),
        ({"root_cause": ""}, "root_cause"),
        ({"measures": ""}, "measures"),
    ],
)
def test_submit_refuses_each_missing_field(
    opened: Callable[..., Opened], people: dict[str, User], change: dict[str, object], field: str
) -> None:
    o = opened()
    feedback_form_save(form=o.form, data={**COMPLETE, **change}, actor=people["quality_handler"])
    with pytest.raises(ValidationFailed) as exc:
        feedback_form_submit(form=o.form, actor=people["quality_handler"])
    assert set(exc.value.errors) == {field}
    o.form.refresh_from_db()
    assert o.form.status == FeedbackStatus.DRAFT
    assert len(_open_deadlines(o.form)) == 1


def test_reasons_satisfy_the_conditional_requirements(opened: Callable[..., Opened], people: dict[str, User]) -> None:
    o = opened()
    data = {**COMPLETE, "result": "negotiating", "result_reason": "客户要求退款", "demand_met": False}
    data["demand_reason"] = "超出标准"
    feedback_form_save(form=o.form, data=data, actor=people["quality_handler"])
    assert feedback_form_submit(form=o.form, actor=people["quality_handler"]).status == FeedbackStatus.SUBMITTED


def test_submit_meets_the_deadline_and_notifies_supervisors(
    opened: Callable[..., Opened], people: dict[str, User]
) -> None:
    o = opened()
    form = _submitted(o, people)
    assert form.status == FeedbackStatus.SUBMITTED and form.submitted_at is not None
    assert _open_deadlines(form) == []
    assert Deadline.objects.get(task=form.task, milestone="feedback_form").met_at is not None
    note = Notification.objects.get(kind="feedback_form_submitted", recipient=people["supervisor"])
    assert o.complaint.number in note.subject
    assert "13812345678" not in note.subject + note.body
    assert "feedback_form_submitted" in _actions(o)


def test_submit_by_an_outsider_or_twice_is_refused(opened: Callable[..., Opened], people: dict[str, User]) -> None:
    o = opened()
    feedback_form_save(form=o.form, data=COMPLETE, actor=people["quality_handler"])
    with pytest.raises(PermissionDeniedError):
        feedback_form_submit(form=o.form, actor=people["tech_handler"])
    feedback_form_submit(form=o.form, actor=people["quality_handler"])
    with pytest.raises(TransitionNotAllowed):
        feedback_form_submit(form=o.form, actor=people["quality_handler"])
    with pytest.raises(TransitionNotAllowed):
        feedback_form_save(form=o.form, data={"root_cause": "later"}, actor=people["quality_handler"])


# --- review --------------------------------------------------------------------------------------


def test_review_refuses_wrong_roles(opened: Callable[..., Opened], people: dict[str, User]) -> None:
    o = opened()
    form = _submitted(o, people)
    for who in ("quality_handler", "agent", "quality_manager", "auditor", "management", "quality"):
        with pytest.raises(PermissionDeniedError):
            feedback_form_review(form=form, approve=True, note="", actor=people[who])
    form.refresh_from_db()
    assert form.status == FeedbackStatus.SUBMITTED


def test_review_refuses_a_draft(opened: Callable[..., Opened], people: dict[str, User]) -> None:
    o = opened()
    with pytest.raises(TransitionNotAllowed):
        feedback_form_review(form=o.form, approve=True, note="", actor=people["supervisor"])


def test_return_requires_a_note(opened: Callable[..., Opened], people: dict[str, User]) -> None:
    o = opened()
    form = _submitted(o, people)
    with pytest.raises(ValidationFailed.__mro__[1]) as exc:  # DomainError
        feedback_form_review(form=form, approve=False, note="  ", actor=people["supervisor"])
    assert exc.value.field == "note"
    form.refresh_from_db()
    assert form.status == FeedbackStatus.SUBMITTED


def test_the_close_guard_is_the_one_definition_of_approved_forms(opened: Callable[..., Opened]) -> None:
    """Domain rule 1 as the lifecycle's `close` checks it: every form approved; a complaint whose
    tasks opened no form (none reached the reply) is not held back."""
    o = opened()
    assert feedback_forms_approved(o.complaint, {}) is not None
    FeedbackForm.objects.filter(complaint=o.complaint).delete()
    assert feedback_forms_approved(o.complaint, {}) is None


def test_return_resubmit_approve(opened: Callable[..., Opened], people: dict[str, User]) -> None:
    o = opened()
    handler, supervisor = people["quality_handler"], people["supervisor"]
    form = _submitted(o, people)
    assert list(feedback_forms_to_review(user=supervisor)) == [form]
    assert list(feedback_forms_to_fill(user=handler)) == []

    form = feedback_form_review(form=form, approve=False, note="请补充客户签收单", actor=supervisor)
    assert form.status == FeedbackStatus.RETURNED and form.revision == 1
    assert form.review_note == "请补充客户签收单"
    assert list(feedback_forms_to_fill(user=handler)) == [form]  # back in the handler's list
    assert list(feedback_forms_to_review(user=supervisor)) == []
    assert Notification.objects.filter(kind="feedback_form_returned", recipient=handler).exists()
    assert len(_open_deadlines(form)) == 1  # a fresh 24 h for the supplement

    feedback_form_save(form=form, data={"measures": "上门更换，客户已签收"}, actor=handler)
    form = feedback_form_submit(form=form, actor=handler)
    form = feedback_form_review(form=form, approve=True, note="", actor=supervisor)
    assert form.status == FeedbackStatus.APPROVED and form.reviewed_by == supervisor
    assert feedback_forms_approved(o.complaint, {}) is None  # the close guard lets it through
    with pytest.raises(TransitionNotAllowed):
        feedback_form_save(form=form, data={"root_cause": "edit after approval"}, actor=handler)
    with pytest.raises(TransitionNotAllowed):
        feedback_form_review(form=form, approve=False, note="again", actor=supervisor)

    actions = [a for a in _actions(o) if a.startswith("feedback_form_")]
    assert actions == [
        "feedback_form_opened",
        "feedback_form_saved",
        "feedback_form_submitted",
        "feedback_form_returned",
        "feedback_form_saved",
        "feedback_form_submitted",
        "feedback_form_approved",
    ]


def test_returned_forms_come_first_in_the_handlers_list(opened: Callable[..., Opened], people: dict[str, User]) -> None:
    first = opened()
    second = opened()
    form = _submitted(second, people)
    feedback_form_review(form=form, approve=False, note="补充", actor=people["supervisor"])
    assert [f.pk for f in feedback_forms_to_fill(user=people["quality_handler"])] == [second.form.pk, first.form.pk]
    assert [f.pk for f in feedback_forms_to_fill(user=people["quality_manager"])] == [second.form.pk, first.form.pk]
    assert list(feedback_forms_to_fill(user=people["agent"])) == []


def test_parse_key_actions() -> None:
    assert parse_key_actions("2026-05-20 10:00 电话联系客户\n\n  上门维修 \n2026-05-21 到场") == [
        {"at": "2026-05-20 10:00", "text": "电话联系客户"},
        {"at": "", "text": "上门维修"},
        {"at": "2026-05-21", "text": "到场"},
    ]
