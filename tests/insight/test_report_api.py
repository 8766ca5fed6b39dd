"""REST API of the reports: list and detail (with the figures), generate, the workflow steps, downloads,
and the distribution list; the same services and refusals as the desk."""

# ruff: noqa: F811 - the fixtures imported from test_report_support are taken as parameters

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import translation

from closeloop.core.services import api_token_create
from closeloop.insight.models import Recipient, Report, ReportStatus, ReportStep
from closeloop.insight.services.reports import report_create, report_generate
from tests.insight.test_report_support import (  # noqa: F401 - the fixtures this module's tests take
    GENERATED_AT,
    SEPTEMBER,
    Month,
    report_month,
    report_people,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings: Any) -> Iterator[None]:
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


class Api(Client):
    def __init__(self, raw_key: str) -> None:
        super().__init__(headers={"Authorization": f"Bearer {raw_key}"})

    def post_json(self, path: str, data: Any = None) -> Any:
        return self.post(path, data=data if data is not None else {}, content_type="application/json")


@pytest.fixture
def api(report_people: dict[str, User]) -> Callable[[str], Api]:
    def make(role: str) -> Api:
        _token, raw_key = api_token_create(user=report_people[role], name=f"tests-{role}")
        return Api(raw_key)

    return make


@pytest.fixture
def generated(report_month: Month) -> Report:
    report = report_create(period=SEPTEMBER, actor=report_month.people["supervisor"], language="en", now=GENERATED_AT)
    return report_generate(report=report, now=GENERATED_AT)


def test_list_and_detail_with_figures(generated: Report, api: Callable[[str], Api]) -> None:
    client = api("auditor")
    listed = client.get("/api/v1/reports")
    assert listed.status_code == 200
    (row,) = listed.json()
    assert row["id"] == generated.pk and row["status"] == "draft" and row["complaint_count"] == 3
    assert row["xlsx_url"] == f"/api/v1/reports/{generated.pk}/xlsx"
    detail = client.get(f"/api/v1/reports/{generated.pk}").json()
    assert detail["figures"]["volume"]["current"] == 3
    assert detail["figures"]["kpis"]["current"]["communication"]["numerator"] == 1
    assert [s["action"] for s in detail["steps"]] == ["requested", "generated"]
    assert detail["actions"] == []  # an auditor only reads
    assert client.get("/api/v1/reports?status=sent").json() == []
    assert client.get("/api/v1/reports/999999").status_code == 404
    assert api("agent").get("/api/v1/reports").status_code == 403
    assert Client().get("/api/v1/reports").status_code == 401


def test_list_query_count_is_fixed(generated: Report, api: Callable[[str], Api], count_queries: Any) -> None:
    client = api("management")
    client.get("/api/v1/reports")  # the token's first use is recorded once

    def queries() -> int:
        with count_queries() as counted:
            assert client.get("/api/v1/reports").status_code == 200
        return counted.count

    few = queries()
    for _ in range(5):
        report_create(period=SEPTEMBER, actor=generated.created_by, now=GENERATED_AT)
    assert queries() == few


def test_generate_review_approve_send(
    report_month: Month, api: Callable[[str], Api], django_capture_on_commit_callbacks: Any
) -> None:
    management, supervisor = api("management"), api("supervisor")
    refused = management.post_json("/api/v1/reports", {"month": "2026-13"})
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "month"]
    refused = management.post_json("/api/v1/reports", {"start": "2026-09-10", "end": "2026-09-01"})
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "end"]
    assert api("auditor").post_json("/api/v1/reports", {"month": "2026-09"}).status_code == 403

    created = management.post_json("/api/v1/reports", {"month": "2026-09", "language": "en"})
    assert created.status_code == 201
    body = created.json()
    assert body["generated_at"] is None and body["kind"] == "on_demand"
    report = Report.objects.get(pk=body["id"])
    report_generate(report=report, now=GENERATED_AT)  # what the worker does after the commit

    url = f"/api/v1/reports/{report.pk}"
    refused = management.post_json(f"{url}/approve", {"note": "ok"})
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "status"]
    assert supervisor.post_json(f"{url}/approve").status_code == 403
    reviewed = supervisor.post_json(f"{url}/review", {"note": "核对无误"})
    assert reviewed.status_code == 200 and reviewed.json()["status"] == "reviewed"
    assert management.get(url).json()["actions"] == ["approve", "return"]
    returned = management.post_json(f"{url}/return", {"note": ""})
    assert returned.status_code == 422 and returned.json()["detail"][0]["loc"] == ["body", "note"]

    added = supervisor.post_json("/api/v1/report-recipients", {"email": "board@example.com"})
    assert added.status_code == 201 and added.json()["kind"] == "email"
    approved = management.post_json(f"{url}/approve", {"note": "同意"})
    assert approved.status_code == 200 and approved.json()["status"] == "sent"
    again = management.post_json(f"{url}/send")
    assert again.status_code == 422
    report.refresh_from_db()
    assert report.status == ReportStatus.SENT


def test_downloads_and_personal_export(generated: Report, api: Callable[[str], Api]) -> None:
    client = api("quality")
    response = client.get(f"/api/v1/reports/{generated.pk}/pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    response = client.get(f"/api/v1/reports/{generated.pk}/xlsx")
    assert b"".join(response.streaming_content).startswith(b"PK")
    assert ReportStep.objects.filter(report=generated, action="downloaded").count() == 2
    assert client.get(f"/api/v1/reports/{generated.pk}/xlsx/personal").status_code == 403
    personal = api("supervisor").get(f"/api/v1/reports/{generated.pk}/xlsx/personal")
    assert personal.status_code == 200 and b"".join(personal.streaming_content).startswith(b"PK")


def test_recipients_crud(report_people: dict[str, User], api: Callable[[str], Api]) -> None:
    client = api("management")
    assert client.post_json("/api/v1/report-recipients", {"user": "r_quality"}).status_code == 201
    assert client.post_json("/api/v1/report-recipients", {"group": "cs_supervisor"}).status_code == 201
    refused = client.post_json("/api/v1/report-recipients", {"group": "nobody"})
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "group"]
    refused = client.post_json("/api/v1/report-recipients", {"user": "r_quality", "email": "a@example.com"})
    assert refused.status_code == 422
    listed = client.get("/api/v1/report-recipients").json()
    assert [(r["kind"], r["user"], r["group"]) for r in listed] == [
        ("user", "r_quality", None),
        ("group", None, "cs_supervisor"),
    ]
    assert client.delete(f"/api/v1/report-recipients/{listed[0]['id']}").status_code == 204
    assert Recipient.objects.count() == 1
    assert client.delete("/api/v1/report-recipients/999999").status_code == 404
    # Auditors read the list (who received what) but may not change it.
    assert api("auditor").get("/api/v1/report-recipients").status_code == 200
    assert api("auditor").post_json("/api/v1/report-recipients", {"email": "x@example.com"}).status_code == 403
