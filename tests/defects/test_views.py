"""The desk: alerts and incidents lists (fixed query counts), one alert and one incident with quality's
forms (a refused form comes back with its input, 422), the rules page, and the complaint page's panel."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from closeloop.complaints.models import Complaint
from closeloop.core.roles import Role
from closeloop.defects.models import AlertStatus, DefectAlert, DefectIncident, IncidentStatus, SpikeRule
from closeloop.defects.services.incidents import alert_open_incident
from closeloop.directory.models import Department, Product
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

Intake = Callable[..., Complaint]


def login(user: User) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def make_spike(intake: Intake, batch: str) -> DefectAlert:
    for days in (3, 2, 1):
        intake(days_ago=days, batch_no=batch)
    return DefectAlert.objects.get(batch_no=batch)


def test_alerts_list_open_first_with_fixed_queries(
    intake: Intake, quality: User, count_queries: Callable[[], Any]
) -> None:
    client = login(quality)
    make_spike(intake, "LOT-A1")
    client.get(reverse("defects:alerts"))  # warm up (session, permissions cache)
    with count_queries() as first:
        page = client.get(reverse("defects:alerts"))
    assert page.status_code == 200 and "LOT-A1" in page.content.decode()

    dismissed = make_spike(intake, "LOT-A2")
    dismissed.status = AlertStatus.DISMISSED
    dismissed.save(update_fields=["status"])
    make_spike(intake, "LOT-A3")
    with count_queries() as second:
        page = client.get(reverse("defects:alerts"))
    html = page.content.decode()
    assert first.count == second.count
    assert html.index("LOT-A3") < html.index("LOT-A1") < html.index("LOT-A2")  # open ones first, newest first
    for complaint in Complaint.objects.filter(batch_no="LOT-A3"):
        assert complaint.number in html
    assert "LOT-A2" not in client.get(reverse("defects:alerts"), {"status": "open"}).content.decode()


def test_lists_need_the_permission(intake: Intake, handler: User, agent: User) -> None:
    make_spike(intake, "A1")
    for user in (handler, agent):
        client = login(user)
        assert client.get(reverse("defects:alerts")).status_code == 403
        assert client.get(reverse("defects:incidents")).status_code == 403
        assert client.get(reverse("defects:alert", args=[DefectAlert.objects.get().pk])).status_code == 404


def test_a_manager_sees_only_alerts_with_complaints_of_their_department(
    intake: Intake, make_user: Callable[..., User]
) -> None:
    alert = make_spike(intake, "A1")  # quality complaints: the quality department's
    own = make_user(Role.DEPT_MANAGER, departments=[Department.objects.get(code="quality")], manager=True)
    other = make_user(Role.DEPT_MANAGER, departments=[Department.objects.get(code="tech")], manager=True)
    assert login(own).get(reverse("defects:alert", args=[alert.pk])).status_code == 200
    client = login(other)
    assert client.get(reverse("defects:alert", args=[alert.pk])).status_code == 404
    listing = client.get(reverse("defects:alerts")).content.decode()
    assert not any(c.number in listing for c in alert.complaints.all())


def test_dismiss_refused_keeps_what_was_typed_then_succeeds(intake: Intake, quality: User, auditor: User) -> None:
    alert = make_spike(intake, "A1")
    client = login(quality)
    page = client.get(reverse("defects:alert", args=[alert.pk])).content.decode()
    for name in ("alert_dismiss", "alert_open_incident"):
        assert reverse(f"defects:{name}", args=[alert.pk]) in page

    # an empty title is refused; the description typed stays
    response = client.post(
        reverse("defects:alert_open_incident", args=[alert.pk]),
        {"incident-title": " ", "incident-batch_no": "A1", "incident-description": "电容鼓包，疑似来料问题"},
    )
    assert response.status_code == 422
    assert "电容鼓包，疑似来料问题" in response.content.decode()
    assert "This field is required." in response.content.decode()

    # the auditor reads, but may not decide
    auditor_client = login(auditor)
    assert auditor_client.get(reverse("defects:alert", args=[alert.pk])).status_code == 200
    response = auditor_client.post(reverse("defects:alert_dismiss", args=[alert.pk]), {"dismiss-reason": "x"})
    assert response.status_code == 403
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN

    response = client.post(reverse("defects:alert_dismiss", args=[alert.pk]), {"dismiss-reason": "不是同一故障"})
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.status == AlertStatus.DISMISSED
    page = client.get(reverse("defects:alert", args=[alert.pk])).content.decode()
    assert "不是同一故障" in page and reverse("defects:alert_dismiss", args=[alert.pk]) not in page
    # acting on a decided alert is refused with the reason on the page
    response = client.post(reverse("defects:alert_dismiss", args=[alert.pk]), {"dismiss-reason": "again"})
    assert response.status_code == 422 and "dismissed" in response.content.decode()


def test_open_an_incident_and_work_it_in_the_desk(intake: Intake, quality: User) -> None:
    alert = make_spike(intake, "L7")
    client = login(quality)
    response = client.post(
        reverse("defects:alert_open_incident", args=[alert.pk]),
        {"incident-title": "L7 驱动电源过热", "incident-batch_no": "L7", "incident-description": ""},
    )
    incident = DefectIncident.objects.get()
    assert response.status_code == 302 and response.url == reverse("defects:incident", args=[incident.pk])
    page = client.get(response.url).content.decode()
    assert "L7 驱动电源过热" in page
    for complaint in alert.complaints.all():
        assert reverse("desk:detail", args=[complaint.number]) in page
    assert "/desk/improvement/" in page and f"incident={incident.pk}" in page  # quality may create actions

    url = reverse("defects:incident_remedy", args=[incident.pk])
    response = client.post(url, {"remedy-measure": "replacement", "remedy-remedy": ""})
    assert response.status_code == 422
    assert 'value="replacement" selected' in response.content.decode()
    response = client.post(url, {"remedy-measure": "replacement", "remedy-remedy": "该批次全部免费换新"})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.REMEDIED
    page = client.get(reverse("defects:incident", args=[incident.pk])).content.decode()
    assert "该批次全部免费换新" in page and "Remedy recorded on 3 complaint(s)" in page

    response = client.post(reverse("defects:incident_add", args=[incident.pk]), {"add-complaint": "TS19990101-0001"})
    assert response.status_code == 422 and "There is no complaint with this number." in response.content.decode()
    assert 'value="TS19990101-0001"' in response.content.decode()

    number = alert.complaints.first().number
    response = client.post(
        reverse("defects:incident_remove", args=[incident.pk]), {"remove-complaint": number, "remove-reason": "误报"}
    )
    assert response.status_code == 302 and incident.complaints.count() == 2

    response = client.post(reverse("defects:incident_close", args=[incident.pk]), {"close-note": "已召回"})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.CLOSED
    page = client.get(reverse("defects:incident", args=[incident.pk])).content.decode()
    assert reverse("defects:incident_close", args=[incident.pk]) not in page and "已召回" in page


def test_incidents_list_with_fixed_queries(intake: Intake, quality: User, count_queries: Callable[[], Any]) -> None:
    client = login(quality)
    alert_open_incident(alert=make_spike(intake, "A1"), title="批次A1", actor=quality, via="desk")
    client.get(reverse("defects:incidents"))
    with count_queries() as first:
        assert "批次A1" in client.get(reverse("defects:incidents")).content.decode()
    for batch in ("A2", "A3"):
        alert_open_incident(alert=make_spike(intake, batch), title=f"批次{batch}", actor=quality, via="desk")
    with count_queries() as second:
        html = client.get(reverse("defects:incidents")).content.decode()
    assert first.count == second.count
    assert "批次A2" in html and "批次A3" in html


def test_rules_page(quality: User, auditor: User, product: Product) -> None:
    client = login(quality)
    page = client.get(reverse("defects:rules")).content.decode()
    assert "3 in 7 days" in page and product.line.code in page

    response = client.post(
        reverse("defects:rules"),
        {
            "rule-product_line": product.line.code,
            "rule-threshold": "0",
            "rule-window_days": "5",
            "rule-is_active": "on",
        },
    )
    assert response.status_code == 422 and 'value="5"' in response.content.decode()
    response = client.post(
        reverse("defects:rules"),
        {
            "rule-product_line": product.line.code,
            "rule-threshold": "2",
            "rule-window_days": "5",
            "rule-is_active": "on",
        },
    )
    assert response.status_code == 302
    rule = SpikeRule.objects.get(product_line=product.line)
    assert (rule.threshold, rule.window_days, rule.is_active) == (2, 5, True)
    assert "2 in 5 days" in client.get(reverse("defects:rules")).content.decode()

    auditor_client = login(auditor)
    page = auditor_client.get(reverse("defects:rules")).content.decode()
    assert "2 in 5 days" in page and 'name="rule-threshold"' not in page
    response = auditor_client.post(
        reverse("defects:rules"), {"rule-product_line": "default", "rule-threshold": "9", "rule-window_days": "9"}
    )
    assert response.status_code == 403
    assert auditor_client.post(reverse("defects:rule_remove"), {"product_line": product.line.code}).status_code == 403

    assert client.post(reverse("defects:rule_remove"), {"product_line": product.line.code}).status_code == 302
    assert not SpikeRule.objects.filter(product_line=product.line).exists()


def test_the_complaint_page_shows_the_alert_and_the_incident(
    intake: Intake, quality: User, agent: User, count_queries: Callable[[], Any]
) -> None:
    alert = make_spike(intake, "L7")
    complaint = alert.complaints.first()
    detail = reverse("desk:detail", args=[complaint.number])
    page = login(agent).get(detail).content.decode()
    assert 'id="defects"' in page and "L7" in page
    assert reverse("defects:alert", args=[alert.pk]) not in page  # agents do not open the defects pages

    incident = alert_open_incident(alert=alert, title="L7 驱动电源过热", actor=quality, via="desk")
    page = login(quality).get(detail).content.decode()
    assert reverse("defects:incident", args=[incident.pk]) in page and "L7 驱动电源过热" in page
    assert "L7 · 3 complaints" in page  # the incident counts all its complaints, not this one


def test_quality_adds_a_complaint_to_an_incident_from_its_page(intake: Intake, quality: User, agent: User) -> None:

    incident = alert_open_incident(alert=make_spike(intake, "L7"), title="L7", batch_no="", actor=quality, via="desk")
    incident_other = DefectIncident.objects.get(pk=incident.pk)
    complaint = intake(batch_no="Z9", check=False)
    client = login(quality)
    page = client.get(reverse("desk:detail", args=[complaint.number])).content.decode()
    url = reverse("defects:complaint_join", args=[complaint.number])
    assert url in page
    assert login(agent).post(url, {"defect-join-incident": incident.number}).status_code == 403
    response = client.post(url, {"defect-join-incident": "PC000000-999", "defect-join-note": "同型号"})
    assert response.status_code == 422 and "同型号" in response.content.decode()
    response = client.post(url, {"defect-join-incident": incident.number, "defect-join-note": "同型号"})
    assert response.status_code == 302
    assert complaint in incident_other.complaints.all()
