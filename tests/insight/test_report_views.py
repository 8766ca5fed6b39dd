"""Desk pages of the reports: list, detail with its workflow buttons, on-demand form, downloads through a
view, distribution list page."""

# ruff: noqa: F811 - the fixtures imported from test_report_support are taken as parameters

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse
from django.utils import translation

from closeloop.complaints.models import PersonalDataAccess
from closeloop.core.roles import Role
from closeloop.insight.kpis import Period
from closeloop.insight.models import Recipient, Report, ReportKind, ReportStatus, ReportStep
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


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def generated(report_month: Month) -> Report:
    report = report_create(period=SEPTEMBER, actor=report_month.people["supervisor"], language="en", now=GENERATED_AT)
    return report_generate(report=report, now=GENERATED_AT)


def test_list_and_detail_for_readers_only(generated: Report, report_people: dict[str, User]) -> None:
    auditor = _client(report_people["auditor"])
    page = auditor.get(reverse("insight:reports"))
    assert page.status_code == 200
    assert reverse("insight:report", args=[generated.pk]).encode() in page.content
    detail = auditor.get(reverse("insight:report", args=[generated.pk]))
    assert detail.status_code == 200
    html = detail.content.decode()
    assert "3 valid complaints were received in the period" in html
    assert "Communication rate" in html and "100.0% (1/1)" in html
    assert "generated" in html  # the steps timeline
    assert reverse("insight:report_file", args=[generated.pk, "xlsx"]) in html
    assert "Reviewed: pass to management" not in html  # an auditor has no workflow buttons
    assert reverse("insight:report_personal", args=[generated.pk]) not in html  # nor personal data
    for user in ("agent", "handler"):
        client = _client(report_people[user])
        assert client.get(reverse("insight:reports")).status_code == 403
        assert client.get(reverse("insight:report", args=[generated.pk])).status_code == 403
        assert client.get(reverse("insight:report_file", args=[generated.pk, "pdf"])).status_code == 403
    assert Client().get(reverse("insight:reports")).status_code == 302  # to the login


def test_list_queries_do_not_grow(generated: Report, report_people: dict[str, User], count_queries: Any) -> None:
    client = _client(report_people["management"])
    client.get(reverse("insight:reports"))

    def queries() -> int:
        with count_queries() as counted:
            assert client.get(reverse("insight:reports")).status_code == 200
        return counted.count

    few = queries()
    for day in range(1, 12):
        report_create(
            period=Period(SEPTEMBER.start, SEPTEMBER.start.replace(day=day)),
            actor=report_people["management"],
            now=GENERATED_AT,
        )
    assert queries() == few


def test_buttons_follow_the_role_and_the_state(generated: Report, report_people: dict[str, User]) -> None:
    supervisor = _client(report_people["supervisor"]).get(reverse("insight:report", args=[generated.pk]))
    html = supervisor.content.decode()
    assert "Reviewed: pass to management" in html and "Return to draft" in html and "Generate again" in html
    assert "Approve and send" not in html
    assert reverse("insight:report_personal", args=[generated.pk]) in html  # may see personal data
    management = _client(report_people["management"]).get(reverse("insight:report", args=[generated.pk]))
    assert "Approve and send" not in management.content.decode()  # not reviewed yet


def test_workflow_through_the_desk_with_refusals_shown(generated: Report, report_people: dict[str, User]) -> None:
    url = reverse("insight:report_action", args=[generated.pk, "approve"])
    refused = _client(report_people["supervisor"]).post(url, {"note": "我来批准"})
    assert refused.status_code == 403
    assert b"Only management may approve reports." in refused.content
    refused = _client(report_people["management"]).post(url, {"note": "先批准"})
    assert refused.status_code == 422
    assert "Only a report reviewed by the CS supervisor can be approved." in refused.content.decode()
    assert "先批准" in refused.content.decode()  # what was typed is kept
    generated.refresh_from_db()
    assert generated.status == ReportStatus.DRAFT

    supervisor = _client(report_people["supervisor"])
    returned = supervisor.post(reverse("insight:report_action", args=[generated.pk, "return"]), {"note": ""})
    assert returned.status_code == 422 and b"Say why the report goes back to draft." in returned.content

    done = supervisor.post(reverse("insight:report_action", args=[generated.pk, "review"]), {"note": "已核对"})
    assert done.status_code == 302
    generated.refresh_from_db()
    assert generated.status == ReportStatus.REVIEWED
    Recipient.objects.create(group=Group.objects.get(name=Role.MANAGEMENT))
    sent = _client(report_people["management"]).post(url, {"note": "同意"})
    assert sent.status_code == 302
    generated.refresh_from_db()
    assert generated.status == ReportStatus.SENT
    page = _client(report_people["management"]).get(reverse("insight:report", args=[generated.pk]))
    html = page.content.decode()
    assert "已核对" in html and "同意" in html and "sent to the distribution list" in html


def test_downloads_go_through_the_view_and_are_recorded(generated: Report, report_people: dict[str, User]) -> None:
    client = _client(report_people["quality"])
    response = client.get(reverse("insight:report_file", args=[generated.pk, "xlsx"]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "complaint-summary-2026-09.xlsx" in response["Content-Disposition"]
    assert b"".join(response.streaming_content).startswith(b"PK")
    response = client.get(reverse("insight:report_file", args=[generated.pk, "pdf"]))
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    downloads = ReportStep.objects.filter(report=generated, action="downloaded", actor=report_people["quality"])
    assert sorted(downloads.values_list("note", flat=True)) == ["pdf", "xlsx"]
    assert client.get(reverse("insight:report_file", args=[generated.pk, "doc"])).status_code == 404
    # The stored file's path under MEDIA_URL is not served.
    assert client.get(f"/media/{generated.xlsx.name}").status_code == 404


def test_personal_export_for_those_who_may_see_it(generated: Report, report_people: dict[str, User]) -> None:
    url = reverse("insight:report_personal", args=[generated.pk])
    assert _client(report_people["management"]).get(url).status_code == 403
    assert not PersonalDataAccess.objects.exists()
    response = _client(report_people["supervisor"]).get(url)
    assert response.status_code == 200
    assert "complaint-summary-2026-09-personal.xlsx" in response["Content-Disposition"]
    assert b"".join(response.streaming_content).startswith(b"PK")
    assert PersonalDataAccess.objects.filter(user=report_people["supervisor"]).count() == 3


def test_new_report_form(report_month: Month, report_people: dict[str, User]) -> None:
    client = _client(report_people["management"])
    assert client.get(reverse("insight:report_new")).status_code == 200
    refused = client.post(reverse("insight:report_new"), {"mode": "range", "start": "2026-09-20", "end": "2026-09-01"})
    assert refused.status_code == 422
    html = refused.content.decode()
    assert "The end is before the start." in html
    assert 'value="2026-09-20"' in html and 'value="2026-09-01"' in html  # nothing typed is lost
    refused = client.post(reverse("insight:report_new"), {"mode": "month", "month": "2026-13"})
    assert refused.status_code == 422 and b"Enter a month as YYYY-MM." in refused.content
    created = client.post(reverse("insight:report_new"), {"mode": "month", "month": "2026-09"})
    assert created.status_code == 302
    report = Report.objects.get()
    assert (report.kind, report.period_start, report.period_end) == (
        ReportKind.ON_DEMAND,
        SEPTEMBER.start,
        SEPTEMBER.end,
    )
    assert report.figures == {"language": "en"}
    assert ReportStep.objects.filter(report=report, action="requested", actor=report_people["management"]).exists()
    page = client.get(reverse("insight:report", args=[report.pk]))
    assert b"being generated" in page.content
    assert _client(report_people["quality"]).get(reverse("insight:report_new")).status_code == 403


def test_distribution_list_page(report_people: dict[str, User]) -> None:
    client = _client(report_people["supervisor"])
    url = reverse("insight:recipients")
    assert client.get(url).status_code == 200
    assert client.post(url, {"kind": "user", "user": report_people["quality"].pk}).status_code == 302
    assert client.post(url, {"kind": "group", "group": Group.objects.get(name=Role.MANAGEMENT).pk}).status_code == 302
    assert client.post(url, {"kind": "email", "email": "board@example.com"}).status_code == 302
    refused = client.post(url, {"kind": "email", "email": "no address"})
    assert refused.status_code == 422 and 'value="no address"' in refused.content.decode()
    refused = client.post(url, {"kind": "email", "email": "BOARD@example.com"})
    assert refused.status_code == 422 and b"Already on the distribution list." in refused.content
    page = client.get(url).content.decode()
    assert "board@example.com" in page and "r_quality" in page
    assert "An approved report goes to 3 people and 1 outside addresses." in page  # r_quality, r_gm, r_gm2
    entry = Recipient.objects.get(email="board@example.com")
    assert client.post(reverse("insight:recipient_remove", args=[entry.pk])).status_code == 302
    assert not Recipient.objects.filter(pk=entry.pk).exists()
    for role in ("auditor", "quality", "agent"):
        assert _client(report_people[role]).get(url).status_code == 403
    assert _client(report_people["auditor"]).post(url, {"kind": "email", "email": "x@example.com"}).status_code == 403


def test_pages_in_chinese(report_month: Month, report_people: dict[str, User]) -> None:
    report = report_create(period=SEPTEMBER, actor=report_people["supervisor"], language="zh-hans", now=GENERATED_AT)
    report = report_generate(report=report, now=GENERATED_AT)
    client = _client(report_people["supervisor"])
    client.cookies["django_language"] = "zh-hans"
    with translation.override("zh-hans"):
        for url in (
            reverse("insight:reports"),
            reverse("insight:report", args=[report.pk]),
            reverse("insight:report_new"),
            reverse("insight:recipients"),
        ):
            assert client.get(url).status_code == 200, url
        page = client.get(reverse("insight:report", args=[report.pk])).content.decode()
        assert "本期共受理有效投诉 3 件" in page
        response = client.get(reverse("insight:report_file", args=[report.pk, "xlsx"]))
    chinese_name = (
        "%E5%AE%A2%E6%88%B7%E6%8A%95%E8%AF%89%E6%B1%87%E6%80%BB%E8%A1%A8-2026-09.xlsx"  # 客户投诉汇总表-2026-09
    )
    assert f"filename*=utf-8''{chinese_name}" in response["Content-Disposition"]
