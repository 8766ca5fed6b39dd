"""The mapping screen: free-text root causes without a category, suggestions from similar texts, and the
mapping itself (every form reading so, one event each, the permission)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from closeloop.complaints.models import Complaint, Event
from closeloop.core.errors import PermissionDeniedError, ValidationFailed
from closeloop.core.roles import Role
from closeloop.directory.models import CauseCategory, Department
from closeloop.handling.models import FeedbackForm
from closeloop.handling.services.feedback import feedback_forms_categorise
from closeloop.handling.services.tasks import Assignment, complaint_dispatch
from closeloop.insight.cause_mapping import similarity, unmapped_causes

pytestmark = pytest.mark.django_db
URL = "/desk/insight/causes/"


def _form(
    make_complaint: Callable[..., Complaint], agent: User, handler: User, text: str, code: str = ""
) -> FeedbackForm:
    complaint = make_complaint()
    (task,) = complaint_dispatch(
        complaint=complaint,
        assignments=[Assignment(department=Department.objects.get(code="quality"), handler=handler)],
        actor=agent,
        via="desk",
    )
    category = CauseCategory.objects.get(code=code) if code else None
    # The form as the handler side left it (its services are tested in tests/handling/feedback).
    return FeedbackForm.objects.create(
        complaint=complaint, task=task, handler=handler, root_cause=text, cause_category=category
    )


@pytest.fixture
def people(make_user: Callable[..., User]) -> dict[str, User]:
    quality = Department.objects.get(code="quality")
    return {
        "agent": make_user(Role.AGENT, username="m_agent"),
        "handler": make_user(Role.HANDLER, departments=[quality], username="m_handler"),
        "quality": make_user(Role.QUALITY, username="m_quality"),
        "management": make_user(Role.MANAGEMENT, username="m_gm"),
    }


def test_similarity_reads_chinese_without_segmentation() -> None:
    assert similarity("驱动电源批次不良", "驱动电源不良") > 0.6
    assert similarity("驱动电源批次不良", "运输途中挤压") == 0.0
    assert similarity(" 驱动 电源 ", "驱动电源") == 1.0


def test_suggestions_from_similar_texts_then_the_mapping(
    make_complaint: Callable[..., Complaint], people: dict[str, User]
) -> None:
    agent, handler = people["agent"], people["handler"]
    _form(make_complaint, agent, handler, "驱动电源批次不良", "material-supplier")
    unmapped = [
        _form(make_complaint, agent, handler, text) for text in ("驱动电源不良", " 驱动电源不良 ", "运输途中挤压")
    ]
    _form(make_complaint, agent, handler, "安装说明看不懂")
    rows, total = unmapped_causes()
    assert total == 3
    by_text = {row.text: row for row in rows}
    assert by_text["驱动电源不良"].count == 2  # the spaces around a text do not make it another cause
    assert by_text["驱动电源不良"].suggestion == CauseCategory.objects.get(code="material-supplier")
    assert by_text["驱动电源不良"].because == "驱动电源批次不良"
    # Nothing categorised reads like it; the sub-cause's own name 运输条件 shares no pair of characters either.
    assert by_text["运输途中挤压"].suggestion is None

    with pytest.raises(PermissionDeniedError):
        feedback_forms_categorise(text="驱动电源不良", category_id=1, actor=people["management"])
    with pytest.raises(ValidationFailed):
        feedback_forms_categorise(text="驱动电源不良", category_id=0, actor=people["quality"])
    supplier = CauseCategory.objects.get(code="material-supplier")
    assert feedback_forms_categorise(text="驱动电源不良", category_id=supplier.pk, actor=people["quality"]) == 2
    for form in unmapped[:2]:
        form.refresh_from_db()
        assert form.cause_category == supplier and form.root_cause.strip() == "驱动电源不良"  # the detail stays
    events = Event.objects.filter(action="feedback_form_cause_mapped")
    assert events.count() == 2 and {e.complaint_id for e in events} == {f.complaint_id for f in unmapped[:2]}
    assert unmapped_causes()[1] == 2


def test_the_screen(make_complaint: Callable[..., Complaint], people: dict[str, User]) -> None:
    def client_for(user: User) -> Client:
        client = Client(headers={"Accept-Language": "en"})
        client.force_login(user)
        return client

    _form(make_complaint, people["agent"], people["handler"], "驱动电源批次不良", "material-supplier")
    form = _form(make_complaint, people["agent"], people["handler"], "驱动电源不良")
    assert client_for(people["management"]).get(URL).status_code == 403
    client = client_for(people["quality"])
    page = client.get(URL)
    html = page.content.decode()
    assert page.status_code == 200 and "驱动电源不良" in html
    supplier = CauseCategory.objects.get(code="material-supplier")
    assert f'<option value="{supplier.pk}" selected>' in html  # the suggestion is preselected
    refused: Any = client.post(URL, {"text": "驱动电源不良", "category": ""})
    assert refused.status_code == 422
    done = client.post(URL, {"text": "驱动电源不良", "category": str(supplier.pk)})
    assert done.status_code == 302
    form.refresh_from_db()
    assert form.cause_category == supplier
