"""Desk pages: the list (filters, pagination, a fixed number of queries), the detail page with the effect
side by side, the create form with its prefills (a refusal keeps what was typed, 422), the action forms,
and the panel on the complaint page."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from closeloop.complaints.models import Complaint
from closeloop.directory.models import Department, Product
from closeloop.followup.models import FollowUp
from closeloop.handling.models import FeedbackForm
from closeloop.improvement.models import ActionSource, ActionStatus, ImprovementAction
from closeloop.improvement.services import action_complete, action_start
from tests.conftest import aware

pytestmark = pytest.mark.django_db


def _client(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")  # assertions below read the English texts
    client.force_login(user)
    return client


@pytest.fixture
def complaint(make_complaint: Callable[..., Complaint], product: Product) -> Complaint:
    return make_complaint(product_model=product.model)


@pytest.fixture
def form(complaint: Complaint, people: dict[str, User]) -> FeedbackForm:
    return FeedbackForm.objects.create(
        complaint=complaint,
        handler=people["owner"],
        root_cause="驱动电源批次不良",
        improvement_suggestion="加强驱动电源来料检验",
    )


def _valid_post(department: Department, owner: User, **overrides: Any) -> dict[str, Any]:
    data = {
        "source": "other",
        "title": "修订安装说明书",
        "description": "增加吊顶安装示意图",
        "complaint_type": "",
        "root_cause": "安装说明不清",
        "owner_department": department.pk,
        "owner": owner.pk,
        "target": "20wd",
        "due_date": "",
        "window_days": 30,
    }
    data.update(overrides)
    return data


# --- list ----------------------------------------------------------------------------------------------------


def test_list_filters_and_paginates_in_a_fixed_number_of_queries(
    make_action: Callable[..., ImprovementAction],
    people: dict[str, User],
    tech_dept: Department,
    count_queries: Any,
) -> None:
    client = _client(people["quality"])
    url = reverse("improvement:list")
    make_action(title="少量")
    client.get(url)  # warm the per-process caches (sessions, content types)
    with count_queries() as small:
        assert client.get(url).status_code == 200
    for index in range(34):
        make_action(title=f"措施{index}", owner=people["tech_handler"], owner_department=tech_dept)
    with count_queries() as large:
        page = client.get(url)
    assert page.status_code == 200
    assert small.count == large.count
    assert page.content.decode().count('class="action-row') == 30  # one page
    second = client.get(url, {"page": 2}).content.decode()
    assert second.count('class="action-row') == 5

    def rows(**params: Any) -> int:
        html = client.get(url, params).content.decode()
        return int(re.search(r'id="total">\((\d+)\)', html).group(1))  # type: ignore[union-attr]

    assert rows(department=tech_dept.pk) == 34
    assert rows(owner=people["owner"].pk) == 1
    assert rows(status="planned") == 35 and rows(status="done") == 0
    assert rows(source="other") == 35 and rows(source="incident") == 0
    assert rows(overdue="on") == 0
    ImprovementAction.objects.filter(title="少量").update(due_at=aware(2026, 1, 5, 18))
    assert rows(overdue="on") == 1
    assert rows(owner="not-a-number") == 35  # a malformed filter is ignored and shown as an error


def test_the_list_needs_the_view_permission(people: dict[str, User]) -> None:
    assert _client(people["agent"]).get(reverse("improvement:list")).status_code == 403


def test_handlers_see_their_departments_actions_only(
    make_action: Callable[..., ImprovementAction], people: dict[str, User], tech_dept: Department
) -> None:
    own = make_action(title="质量部的措施")
    other = make_action(title="技术部的措施", owner=people["tech_handler"], owner_department=tech_dept)
    client = _client(people["colleague"])
    html = client.get(reverse("improvement:list")).content.decode()
    assert "质量部的措施" in html and "技术部的措施" not in html
    assert client.get(reverse("improvement:detail", args=[own.pk])).status_code == 200
    assert client.get(reverse("improvement:detail", args=[other.pk])).status_code == 404


# --- detail and steps ---------------------------------------------------------------------------------------


def test_detail_shows_source_effect_judgements_and_timeline(
    form: FeedbackForm, make_action: Callable[..., ImprovementAction], people: dict[str, User]
) -> None:
    action = make_action(source=ActionSource.FEEDBACK_FORM, feedback_form=form)
    action = action_start(action=action, actor=people["owner"])
    action_complete(action=action, actor=people["owner"], done_note="检验规程已修订")
    page = _client(people["quality"]).get(reverse("improvement:detail", args=[action.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert reverse("handling:feedback_detail", args=[form.pk]) in html
    assert "检验规程已修订" in html
    assert 'class="grid evaluation"' in html and "measure-complaint_rate" in html
    assert "both windows are shortened" in html  # done just now: the after-window has hardly begun
    assert "Judge the effect (quality)" in html and "Judge the effect (owner side)" not in html
    assert html.index("action created") < html.index("work started") < html.index('<strong class="action">done')


def test_the_owner_starts_completes_and_judges_through_the_forms(
    make_action: Callable[..., ImprovementAction], people: dict[str, User]
) -> None:
    action = make_action()
    owner = _client(people["owner"])
    detail = reverse("improvement:detail", args=[action.pk])
    assert "Start work" in owner.get(detail).content.decode()
    assert owner.post(reverse("improvement:start", args=[action.pk])).status_code == 302

    refused = owner.post(reverse("improvement:complete", args=[action.pk]), {"done_note": ""})
    assert refused.status_code == 422
    assert ImprovementAction.objects.get(pk=action.pk).status == ActionStatus.IN_PROGRESS

    done = owner.post(reverse("improvement:complete", args=[action.pk]), {"done_note": "说明书已更新"})
    assert done.status_code == 302 and done["Location"] == detail

    judge = reverse("improvement:judge", args=[action.pk, "owner"])
    kept = owner.post(judge, {"effective": "yes", "note": ""})
    assert kept.status_code == 422
    assert 'value="yes" required id="owner_effective_0" checked' in kept.content.decode()
    assert owner.post(judge, {"effective": "no", "note": "投诉未减少"}).status_code == 302
    quality = _client(people["quality"])
    assert (
        quality.post(reverse("improvement:judge", args=[action.pk, "quality"]), {"effective": "no", "note": "同意"})[
            "Location"
        ]
        == detail
    )
    action.refresh_from_db()
    assert action.status == ActionStatus.VERIFIED and action.owner_effective is False


def test_someone_else_is_refused_with_403_and_nothing_changes(
    make_action: Callable[..., ImprovementAction], people: dict[str, User]
) -> None:
    action = make_action()
    page = _client(people["quality"]).post(reverse("improvement:start", args=[action.pk]))
    assert page.status_code == 403
    assert "Only the action&#x27;s owner" in page.content.decode()
    assert ImprovementAction.objects.get(pk=action.pk).status == ActionStatus.PLANNED


# --- create --------------------------------------------------------------------------------------------------


def test_create_prefilled_from_a_feedback_form(
    form: FeedbackForm, people: dict[str, User], quality_dept: Department, product: Product
) -> None:
    client = _client(people["quality"])
    page = client.get(reverse("improvement:create"), {"feedback_form": form.pk})
    html = page.content.decode()
    assert page.status_code == 200
    assert 'value="加强驱动电源来料检验"' in html  # the title
    assert 'value="驱动电源批次不良"' in html  # the root cause
    assert 'value="XD-100"' in html and f'name="feedback_form" value="{form.pk}"' in html

    data = _valid_post(quality_dept, people["owner"], source="feedback_form", feedback_form=form.pk, product="xd-100")
    created = client.post(reverse("improvement:create"), data)
    action = ImprovementAction.objects.get()
    assert created.status_code == 302 and created["Location"] == reverse("improvement:detail", args=[action.pk])
    assert action.feedback_form == form and action.complaint == form.complaint and action.product == product


def test_create_prefilled_from_a_followup_and_a_complaint(complaint: Complaint, people: dict[str, User]) -> None:
    followup = FollowUp.objects.create(complaint=complaint, round=1, suggestions="希望上门前先电话确认")
    client = _client(people["supervisor"])
    html = client.get(reverse("improvement:create"), {"followup": followup.pk}).content.decode()
    assert 'value="希望上门前先电话确认"' in html
    html = client.get(reverse("improvement:create"), {"complaint": complaint.pk}).content.decode()
    assert f'name="followup" value="{followup.pk}"' in html and f'name="complaint" value="{complaint.pk}"' in html
    assert client.get(reverse("improvement:create"), {"followup": 999999}).status_code == 404
    assert client.get(reverse("improvement:create"), {"complaint": "x"}).status_code == 404


def test_a_refused_creation_keeps_what_was_typed(
    people: dict[str, User], tech_dept: Department, count_queries: Any
) -> None:
    client = _client(people["quality"])
    data = _valid_post(tech_dept, people["owner"], due_date="2026-12-31")  # not a member; two deadlines
    page = client.post(reverse("improvement:create"), data)
    html = page.content.decode()
    assert page.status_code == 422
    assert "The owner must be a member of the owner department." in html
    assert "Give the deadline either as a duration" in html
    assert 'value="修订安装说明书"' in html and "增加吊顶安装示意图" in html and 'value="安装说明不清"' in html
    assert not ImprovementAction.objects.exists()

    no_target = _valid_post(tech_dept, people["tech_handler"], root_cause="")
    html = client.post(reverse("improvement:create"), no_target).content.decode()
    assert "Name what the action targets" in html


def test_only_creators_reach_the_form(people: dict[str, User]) -> None:
    assert _client(people["owner"]).get(reverse("improvement:create")).status_code == 403
    assert _client(people["agent"]).post(reverse("improvement:create"), {}).status_code == 403
    assert _client(people["management"]).get(reverse("improvement:create")).status_code == 200


# --- the complaint page ---------------------------------------------------------------------------------------


def test_the_complaint_page_lists_its_actions_with_a_create_link(
    form: FeedbackForm, complaint: Complaint, make_action: Callable[..., ImprovementAction], people: dict[str, User]
) -> None:
    action = make_action(source=ActionSource.FEEDBACK_FORM, feedback_form=form, title="面板里的措施")
    make_action(title="别的措施")
    html = _client(people["quality"]).get(reverse("desk:detail", args=[complaint.number])).content.decode()
    assert 'id="improvement-actions"' in html
    assert reverse("improvement:detail", args=[action.pk]) in html and "面板里的措施" in html
    assert "别的措施" not in html
    assert f"{reverse('improvement:create')}?complaint={complaint.pk}" in html

    agent_html = _client(people["agent"]).get(reverse("desk:detail", args=[complaint.number])).content.decode()
    assert 'id="improvement-actions"' not in agent_html


def test_detail_query_count_does_not_grow_with_the_timeline(
    make_action: Callable[..., ImprovementAction], people: dict[str, User], count_queries: Any
) -> None:
    short = make_action()
    long = make_action()
    long = action_start(action=long, actor=people["owner"])
    long = action_complete(action=long, actor=people["owner"], done_note="完成")
    client = _client(people["auditor"])
    client.get(reverse("improvement:detail", args=[short.pk]))
    with count_queries() as planned:
        client.get(reverse("improvement:detail", args=[short.pk]))
    with count_queries() as done:
        page = client.get(reverse("improvement:detail", args=[long.pk]))
    assert page.status_code == 200
    assert done.count == planned.count + 2  # the two aggregate queries of the evaluation
    assert re.search(r"measure-satisfaction", page.content.decode())


def test_a_prefilled_record_that_no_longer_fits_the_chosen_source_is_dropped(
    form: FeedbackForm, complaint: Complaint, people: dict[str, User], quality_dept: Department
) -> None:
    data = _valid_post(quality_dept, people["owner"], source="other", feedback_form=form.pk, complaint=complaint.pk)
    assert _client(people["quality"]).post(reverse("improvement:create"), data).status_code == 302
    action = ImprovementAction.objects.get()
    assert action.source == ActionSource.OTHER and action.feedback_form is None and action.complaint == complaint
