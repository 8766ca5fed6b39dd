"""The improvement-action API: the whole life of an action through the same services as the desk, the
list's filters and its fixed query count, 401 / 403 / 404 / 422."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User

from closeloop.complaints.models import Complaint
from closeloop.directory.models import Department, Product
from closeloop.handling.models import FeedbackForm
from closeloop.improvement.models import ActionStatus, ImprovementAction

from .conftest import ApiClient

pytestmark = pytest.mark.django_db

URL = "/api/v1/improvement-actions"


@pytest.fixture
def form(make_complaint: Callable[..., Complaint], product: Product, people: dict[str, User]) -> FeedbackForm:
    complaint = make_complaint(product_model=product.model)
    return FeedbackForm.objects.create(
        complaint=complaint,
        handler=people["owner"],
        root_cause="驱动电源批次不良",
        improvement_suggestion="加强来料检验",
    )


def _body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "source": "other",
        "title": "修订安装说明书",
        "description": "增加吊顶安装示意图",
        "complaint_type": "installation",
        "owner_department": "quality",
        "owner": "i_owner",
        "target": "20wd",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def test_the_whole_life_of_an_action(
    form: FeedbackForm, people: dict[str, User], api_for: Callable[[User], ApiClient]
) -> None:
    quality, owner = api_for(people["quality"]), api_for(people["owner"])

    proposed = quality.get(f"{URL}/prefill", {"feedback_form": form.pk})
    assert proposed.status_code == 200, proposed.content
    proposal = proposed.json()
    assert proposal["source"] == "feedback_form" and proposal["title"] == "加强来料检验"
    assert proposal["product"] == "XD-100" and proposal["root_cause"] == "驱动电源批次不良"
    assert proposal["complaint"] == form.complaint.number

    body = {k: v for k, v in proposal.items() if v is not None and k not in ("window_days", "complaint")}
    created = quality.post_json(URL, {**body, "owner_department": "quality", "owner": "i_owner", "target": "10wd"})
    assert created.status_code == 201, created.content
    action = created.json()
    assert action["number"].startswith("GJ") and action["status"] == "planned"
    assert action["feedback_form"] == form.pk and action["complaint"] == form.complaint.number
    assert action["evaluation"] is None and [e["kind"] for e in action["events"]] == ["created"]
    assert action["events"][0]["via"] == "api"
    assert action["allowed"] == {"start": False, "complete": False, "judge_owner": False, "judge_quality": False}
    pk = action["id"]

    assert owner.get(f"{URL}/{pk}").json()["allowed"]["start"] is True
    assert owner.post_json(f"{URL}/{pk}/start").json()["status"] == "in_progress"
    done = owner.post_json(f"{URL}/{pk}/complete", {"done_note": "来料检验规程已修订"})
    assert done.status_code == 200 and done.json()["status"] == "done"
    evaluation = done.json()["evaluation"]
    assert set(evaluation) >= {"before", "after", "change", "before_window", "after_window"}
    assert evaluation["shortened"] is True and evaluation["window_days"] == 30  # done a moment ago

    judged = owner.post_json(f"{URL}/{pk}/judge", {"side": "owner", "effective": True, "note": "有效"})
    assert judged.json()["owner_judgement"]["by"] == "i_owner"
    verified = quality.post_json(f"{URL}/{pk}/judge", {"side": "quality", "effective": True, "note": "同意"})
    assert verified.status_code == 200
    assert verified.json()["status"] == "verified" and verified.json()["quality_judgement"]["effective"] is True
    assert ImprovementAction.objects.get(pk=pk).status == ActionStatus.VERIFIED


def test_list_filters_in_a_fixed_number_of_queries(
    make_action: Callable[..., ImprovementAction],
    people: dict[str, User],
    tech_dept: Department,
    api_for: Callable[[User], ApiClient],
    count_queries: Any,
) -> None:
    client = api_for(people["auditor"])
    make_action()
    client.get(URL)
    with count_queries() as small:
        assert client.get(URL).json()["count"] == 1
    for _index in range(12):
        make_action(owner=people["tech_handler"], owner_department=tech_dept)
    with count_queries() as large:
        page = client.get(URL, {"limit": 50}).json()
    assert page["count"] == 13 and len(page["items"]) == 13
    assert small.count == large.count

    def count(**params: Any) -> int:
        response = client.get(URL, params)
        assert response.status_code == 200, response.content
        return response.json()["count"]  # type: ignore[no-any-return]

    assert count(department="tech") == 12 and count(department="nope") == 0
    assert count(owner="i_owner") == 1
    assert count(status="planned") == 13 and count(status="verified") == 0
    assert count(source="other") == 13 and count(source="report") == 0
    assert count(overdue="true") == 0
    assert client.get(URL, {"status": "lost"}).status_code == 422


def test_errors(
    make_action: Callable[..., ImprovementAction],
    people: dict[str, User],
    api_for: Callable[[User], ApiClient],
    tech_dept: Department,
) -> None:
    action = make_action()
    quality, owner = api_for(people["quality"]), api_for(people["owner"])

    assert ApiClient("wrong-key").get(URL).status_code == 401
    assert api_for(people["agent"]).get(URL).status_code == 403
    assert owner.post_json(URL, _body()).status_code == 403  # a handler raises no actions
    assert quality.post_json(f"{URL}/{action.pk}/start").status_code == 403  # not the owner side
    assert api_for(people["tech_handler"]).get(f"{URL}/{action.pk}").status_code == 404  # another department's
    assert quality.get(f"{URL}/999999").status_code == 404
    assert quality.get(f"{URL}/prefill", {"feedback_form": 999999}).status_code == 404

    refused = quality.post_json(URL, _body(owner="i_tech"))
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "owner"]
    unknown = quality.post_json(URL, _body(owner_department="marketing"))
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == ["body", "owner_department"]
    both = quality.post_json(URL, _body(due_date="2026-12-31"))
    assert both.status_code == 422 and both.json()["detail"][0]["loc"] == ["body", "target"]
    nothing = quality.post_json(URL, _body(complaint_type=None))
    assert nothing.json()["detail"][0]["loc"] == ["body", "targets"]
    assert quality.post_json(URL, _body(title="")).status_code == 422
    assert ImprovementAction.objects.count() == 1

    not_yet = owner.post_json(f"{URL}/{action.pk}/complete", {"done_note": "完成"})
    assert not_yet.status_code == 422 and not_yet.json()["detail"][0]["loc"] == ["body", "status"]
    owner.post_json(f"{URL}/{action.pk}/start")
    empty = owner.post_json(f"{URL}/{action.pk}/complete", {"done_note": "  "})
    assert empty.status_code == 422 and empty.json()["detail"][0]["loc"] == ["body", "done_note"]
    owner.post_json(f"{URL}/{action.pk}/complete", {"done_note": "完成"})
    side = quality.post_json(f"{URL}/{action.pk}/judge", {"side": "boss", "effective": True, "note": "x"})
    assert side.status_code == 422 and side.json()["detail"][0]["loc"] == ["body", "side"]
    assert ImprovementAction.objects.get(pk=action.pk).events.count() == 3
