"""Desk: the panel on the complaint page, one form's page, save / submit / review, the list page, PDF."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from closeloop.handling.models import FeedbackStatus
from closeloop.handling.services.feedback import feedback_form_review, feedback_form_save, feedback_form_submit

from .conftest import COMPLETE, Opened

pytestmark = pytest.mark.django_db


def _client(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")  # assertions below read the English messages
    client.force_login(user)
    return client


FILLED = {
    "result": "resolved",
    "demand_met": "yes",
    "measures": "上门更换",
    "root_cause": "驱动电源不良",
    "key_actions": "2026-11-20 10:00 电话联系客户\n2026-11-21 14:00 上门更换，客户签收",
}


def test_panel_on_the_complaint_page(opened: Callable[..., Opened], people: dict[str, User]) -> None:
    o = opened(contacts=True)
    page = _client(people["quality_handler"]).get(reverse("desk:detail", args=[o.complaint.number]))
    html = page.content.decode()
    assert page.status_code == 200
    assert f'id="feedback-{o.form.pk}"' in html
    assert "138****5678" in html  # masked on the form even for a handler who may see the number
    assert "电话联系客户，确认故障现象" in html  # the assembled timeline, ready to edit
    assert 'value="submit"' in html and 'value="save"' in html
    assert reverse("handling:feedback_pdf", args=[o.form.pk]) in html
    assert 'class="tl tl-' in html  # time-left badge of the 24 h deadline
    # A supervisor sees the draft, read-only and without review buttons.
    html = _client(people["supervisor"]).get(reverse("desk:detail", args=[o.complaint.number])).content.decode()
    assert f'id="feedback-{o.form.pk}"' in html
    assert 'value="submit"' not in html and 'value="approve"' not in html


def test_no_panel_before_any_form(dispatched: Callable[..., Any], people: dict[str, User]) -> None:
    complaint, _tasks = dispatched()
    html = _client(people["quality_handler"]).get(reverse("desk:detail", args=[complaint.number])).content.decode()
    assert 'id="feedback"' not in html


def test_save_submit_return_resubmit_approve_through_the_desk(
    opened: Callable[..., Opened], people: dict[str, User]
) -> None:
    o = opened()
    handler, supervisor = _client(people["quality_handler"]), _client(people["supervisor"])
    fill = reverse("handling:feedback_fill", args=[o.form.pk])
    review = reverse("handling:feedback_review", args=[o.form.pk])

    # An incomplete submission: the draft is saved as typed, the missing fields are marked.
    response = handler.post(fill, {"op": "submit", "root_cause": "只写了原因"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "只写了原因" in html and "Choose the result of the handling." in html
    o.form.refresh_from_db()
    assert o.form.status == FeedbackStatus.DRAFT and o.form.root_cause == "只写了原因"

    response = handler.post(fill, {"op": "save", **FILLED})
    assert response.status_code == 302
    o.form.refresh_from_db()
    assert o.form.key_actions[1] == {"at": "2026-11-21 14:00", "text": "上门更换，客户签收"}
    assert o.form.demand_met is True

    assert handler.post(fill, {"op": "submit", **FILLED}).status_code == 302
    o.form.refresh_from_db()
    assert o.form.status == FeedbackStatus.SUBMITTED

    # Returning needs a note; the handler cannot review.
    assert handler.post(review, {"decision": "approve"}).status_code == 403
    response = supervisor.post(review, {"decision": "return", "note": ""})
    assert response.status_code == 422 and "Say what must be supplemented." in response.content.decode()
    assert supervisor.post(review, {"decision": "return", "note": "请补充签收单照片"}).status_code == 302

    # Back in the handler's list, returned, with the note shown prominently.
    listing = handler.get(reverse("handling:feedback_list")).content.decode()
    assert o.complaint.number in listing and "请补充签收单照片" in listing
    page = handler.get(reverse("desk:detail", args=[o.complaint.number])).content.decode()
    assert 'class="fb-return-note"' in page and "请补充签收单照片" in page

    assert handler.post(fill, {"op": "submit", **FILLED}).status_code == 302
    assert supervisor.post(review, {"decision": "approve", "note": ""}).status_code == 302
    o.form.refresh_from_db()
    assert o.form.status == FeedbackStatus.APPROVED and o.form.revision == 1
    # Approved: read-only, a late edit is refused and changes nothing.
    response = handler.post(fill, {"op": "save", **FILLED, "root_cause": "改动"})
    assert response.status_code == 422
    o.form.refresh_from_db()
    assert o.form.root_cause == "驱动电源不良"


def test_form_page_and_pdf_are_404_out_of_scope(
    opened: Callable[..., Opened], make_user: Callable[..., User], people: dict[str, User]
) -> None:
    from closeloop.directory.models import Department

    o = opened()
    other = Department.objects.exclude(code__in=["quality", "tech"]).first()
    outsider = _client(make_user("handler", departments=[other], username="outsider"))
    for name in ("handling:feedback_detail", "handling:feedback_pdf"):
        assert outsider.get(reverse(name, args=[o.form.pk])).status_code == 404
    assert outsider.post(reverse("handling:feedback_fill", args=[o.form.pk]), FILLED).status_code == 404
    response = _client(people["tech_handler"]).get(reverse("handling:feedback_pdf", args=[o.form.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")


def test_list_page_for_handlers_and_supervisors(opened: Callable[..., Opened], people: dict[str, User]) -> None:
    draft = opened()
    submitted = opened()
    feedback_form_save(form=submitted.form, data=COMPLETE, actor=people["quality_handler"])
    feedback_form_submit(form=submitted.form, actor=people["quality_handler"])
    returned = opened()
    feedback_form_save(form=returned.form, data=COMPLETE, actor=people["quality_handler"])
    feedback_form_submit(form=returned.form, actor=people["quality_handler"])
    feedback_form_review(form=returned.form, approve=False, note="补充", actor=people["supervisor"])

    html = _client(people["quality_handler"]).get(reverse("handling:feedback_list")).content.decode()
    assert html.index(returned.complaint.number) < html.index(draft.complaint.number)
    assert submitted.complaint.number not in html
    assert reverse("handling:feedback_list") in html  # the nav link

    html = _client(people["supervisor"]).get(reverse("handling:feedback_list")).content.decode()
    assert submitted.complaint.number in html
    assert draft.complaint.number not in html and returned.complaint.number not in html

    html = _client(people["agent"]).get(reverse("desk:queue")).content.decode()
    assert reverse("handling:feedback_list") not in html


@pytest.mark.parametrize("who", ["quality_handler", "supervisor"])
def test_list_page_query_count_is_constant(
    opened: Callable[..., Opened], people: dict[str, User], count_queries: Callable[[], Any], who: str
) -> None:
    client = _client(people[who])

    def add() -> None:
        o = opened()
        if who == "supervisor":
            feedback_form_save(form=o.form, data=COMPLETE, actor=people["quality_handler"])
            feedback_form_submit(form=o.form, actor=people["quality_handler"])

    add()
    client.get(reverse("handling:feedback_list"))
    with count_queries() as one:
        assert client.get(reverse("handling:feedback_list")).status_code == 200
    for _ in range(3):
        add()
    with count_queries() as four:
        response = client.get(reverse("handling:feedback_list"))
    assert response.content.decode().count('class="fb-row') == 4
    assert four.count == one.count
