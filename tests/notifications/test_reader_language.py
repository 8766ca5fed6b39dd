"""Notices of defect alerts, reports, improvement actions and mail-in replies are stored as message ids
and shown in their reader's language: the same notice reads in English to an English reader and in
Chinese to a Chinese one, whatever the installation's language was when it was written."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from closeloop.complaints.models import Complaint
from closeloop.core.roles import Role
from closeloop.defects.models import DefectAlert
from closeloop.defects.services.spikes import alert_notify
from closeloop.directory.models import ComplaintType, Department, Product, ProductLine
from closeloop.improvement.models import ActionSource
from closeloop.improvement.services import ActionInput, action_create
from closeloop.insight.models import Report
from closeloop.insight.services.reports import report_return
from closeloop.mailin.conf import Mailbox
from closeloop.mailin.services import mail_ingest
from closeloop.notifications.models import Method, Notification
from tests.mailin.samples import mail

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _written_in_chinese(settings: Any) -> None:
    """The installation's language is Chinese: what was rendered at creation was Chinese."""
    settings.LANGUAGE_CODE = "zh-hans"


def _notice(user: User, kind: str) -> Notification:
    return Notification.objects.get(recipient=user, method=Method.IN_APP, kind=kind)


def _read(row: Notification, language: str) -> str:
    with translation.override(language):
        return f"{row.shown_subject}\n{row.shown_body}"


def _inbox(user: User, language: str) -> str:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client.get(reverse("notifications:inbox")).content.decode()


def _has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_a_defect_alert_notice(make_user: Callable[..., User], make_complaint: Callable[..., Complaint]) -> None:
    quality = make_user(Role.QUALITY, username="rl_quality")
    line, _created = ProductLine.objects.get_or_create(code="ceiling", defaults={"name": "吸顶灯"})
    product = Product.objects.create(model="RL-1", name="吸顶灯", name_en="Ceiling lamp", line=line)
    complaint = make_complaint()
    alert = DefectAlert.objects.create(product=product, threshold=3, window_days=7)
    alert_notify(alert=alert, product=product, complaints=[complaint], trigger=complaint, now=timezone.now())
    row = _notice(quality, "defect_alert")
    english, chinese = _read(row, "en"), _read(row, "zh-hans")
    assert english.startswith("Early warning: 1 complaints about RL-1 within 7 days")
    assert "Ceiling lamp" in english and complaint.number in english and not _has_chinese(english)
    assert "预警" in chinese and "投诉：" in chinese and "吸顶灯" in chinese and complaint.number in chinese
    assert row.link == reverse("defects:alert", args=[alert.pk])
    assert "Early warning: 1 complaints about RL-1" in _inbox(quality, "en")


def test_a_report_notice(make_user: Callable[..., User]) -> None:
    supervisor = make_user(Role.CS_SUPERVISOR, username="rl_supervisor")
    creator = make_user(Role.MANAGEMENT, username="rl_gm")
    report = Report.objects.create(
        period_start=datetime.date(2026, 11, 1), period_end=datetime.date(2026, 11, 30), created_by=creator
    )
    report_return(report=report, actor=supervisor, note="数字不对")
    row = _notice(creator, "report_returned")
    english, chinese = _read(row, "en"), _read(row, "zh-hans")
    assert english.startswith("Complaint report") and "returned to draft: 数字不对" in english
    assert "Open the report:" in english
    assert "退回" in chinese and "Complaint report" not in chinese
    assert row.link == reverse("insight:report", args=[report.pk])


def test_an_improvement_action_notice(make_user: Callable[..., User]) -> None:
    department = Department.objects.get(code="quality")
    owner = make_user(Role.HANDLER, departments=[department], username="rl_owner")
    quality = make_user(Role.QUALITY, username="rl_quality2")
    action = action_create(
        data=ActionInput(
            source=ActionSource.OTHER,
            title="加强来料检验",
            description="抽检",
            owner_department=department,
            owner=owner,
            target="20wd",
            complaint_type=ComplaintType.objects.get(code="quality"),
        ),
        actor=quality,
    )
    row = _notice(owner, "improvement_assigned")
    english, chinese = _read(row, "en"), _read(row, "zh-hans")
    assert english.startswith(f"{action.number}: you own the improvement action “加强来料检验”, due ")
    assert "负责" in chinese and "you own" not in chinese
    assert row.link == reverse("improvement:detail", args=[action.pk])


def test_a_mail_in_reply_notice(agent: User, make_complaint: Callable[..., Complaint]) -> None:
    complaint = make_complaint(email="zhao.lei@customer.example.cn", phone="")  # registered by `agent`
    raw = mail(
        subject=f"回复：[{complaint.number}] 投诉受理通知",
        body="请问什么时候处理？",
        sender="zhao.lei@customer.example.cn",
    )
    mail_ingest(raw=raw, mailbox=Mailbox(name="main", type_code="quality"))
    row = _notice(agent, "customer_replied")
    with translation.override("en"):
        assert row.shown_subject == f"{complaint.number}: the customer replied by e-mail"
    with translation.override("zh-hans"):
        assert _has_chinese(row.shown_subject) and complaint.number in row.shown_subject
    assert row.shown_body == "请问什么时候处理？"  # the customer's own words, as written
    assert f"{complaint.number}: the customer replied by e-mail" in _inbox(agent, "en")
