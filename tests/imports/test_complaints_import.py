"""The history import: row-level errors and nothing written on a dry run or any error; imported
complaints without clocks, alerts, messages or repeat marks, counted in their own month's KPIs and
found by a later complaint's repeat detection."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.utils import translation

from closeloop.complaints.models import Complaint, DailySequence, Event
from closeloop.defects.models import DefectAlert
from closeloop.directory.models import Customer, Product
from closeloop.followup.models import FollowUp
from closeloop.imports.models import ImportRun, ImportSource
from closeloop.imports.reading import read_table
from closeloop.imports.services import complaints_import
from closeloop.insight.kpis import Period, cohort, kpi_figures
from closeloop.insight.models import Kpi
from closeloop.notifications.models import Notification
from closeloop.sla.models import Deadline

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime.datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI)


def zh_row(**overrides: Any) -> dict[str, Any]:
    """A row as a desk's 投诉汇总表 has it (Chinese headers)."""
    row: dict[str, Any] = {
        "投诉编号": "",
        "接收时间": "2025-03-14 09:30",
        "解决时间": "2025-03-16 15:00",
        "结案时间": "2025-03-18 10:00",
        "投诉渠道": "热线",
        "投诉人类型": "经销商",
        "客户姓名": "王芳",
        "联系电话": "13812345678",
        "产品（型号）": "XD-100",
        "投诉类型": "质量",
        "责任部门": "质量部",
        "状态": "已结案",
        "投诉内容": "灯罩开裂",
        "处理结果": "更换灯罩",
        "回访结果": "满意",
        "客户满意度": "满意",
    }
    row.update(overrides)
    return row


def numbered(rows: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    return [(line, row) for line, row in enumerate(rows, start=2)]


@pytest.fixture
def admin_user(make_user: Callable[..., User]) -> User:
    return make_user("admin", username="importer")


def run(rows: list[dict[str, Any]], *, actor: User | None = None, dry_run: bool = False) -> Any:
    with translation.override("en"):
        return complaints_import(
            rows=numbered(rows),
            actor=actor,
            source=ImportSource.CLI,
            file_name="history.xlsx",
            dry_run=dry_run,
            now=NOW,
        )


@pytest.mark.django_db
def test_dry_run_reports_each_wrong_cell_and_writes_nothing(product: Product) -> None:
    rows = [
        zh_row(),
        zh_row(接收时间="14/03/2025", 联系电话="12345"),
        zh_row(状态="处理中"),
        zh_row(投诉类型="不存在"),
        zh_row(投诉编号="TS20251399-0001"),
        zh_row(解决时间="2025-03-10"),
        zh_row(颜色="红"),
    ]
    result = run(rows, dry_run=True)
    found = {(e.row, e.column) for e in result.errors}
    assert (3, "接收时间") in found
    assert (3, "联系电话") in found
    assert (4, "状态") in found
    assert (5, "投诉类型") in found
    assert (6, "投诉编号") in found
    assert (7, "解决时间") in found
    assert (8, "颜色") in found
    assert 2 not in {e.row for e in result.errors}
    status_error = next(e for e in result.errors if e.row == 4)
    assert "final states" in status_error.message
    assert Complaint.objects.count() == 0
    assert Customer.objects.count() == 0
    assert ImportRun.objects.count() == 0


@pytest.mark.django_db
def test_errors_are_translated(product: Product) -> None:
    with translation.override("zh-hans"):
        result = complaints_import(
            rows=numbered([zh_row(状态="处理中")]), actor=None, source=ImportSource.CLI, dry_run=True, now=NOW
        )
    assert result.errors[0].message != "" and "final states" not in result.errors[0].message


@pytest.mark.django_db
def test_a_clean_dry_run_writes_nothing(product: Product) -> None:
    result = run([zh_row(), zh_row(联系电话="13900000001")], dry_run=True)
    assert result.ok and result.dry_run and result.rows == 2
    assert Complaint.objects.count() == 0


@pytest.mark.django_db
def test_any_error_and_nothing_is_written(product: Product) -> None:
    result = run([zh_row(), zh_row(客户姓名="")])
    assert [(e.row, e.column) for e in result.errors] == [(3, "客户姓名")]
    assert Complaint.objects.count() == 0


@pytest.mark.django_db
def test_imported_complaints_keep_their_history_and_cause_nothing(product: Product, admin_user: User) -> None:
    rows = [
        zh_row(投诉编号="KS-2025-0001"),
        zh_row(联系电话="13812345678", 状态="resolved", 结案时间="", 回访结果="", 客户满意度=""),
        zh_row(
            联系电话="13900000002", 状态="无效", 解决时间="", 结案时间="", 处理结果="广告", 回访结果="", 客户满意度=""
        ),
        zh_row(联系电话="13900000003", 状态="archived", 投诉编号="TS20250314-0007"),
    ]
    result = run(rows, actor=admin_user)
    assert result.ok, result.errors
    kept, new, invalid, archived = (Complaint.objects.get(number=n) for n in result.numbers)
    assert kept.number == "KS-2025-0001"
    # New numbers come from the day received, after the kept TS number of that day.
    assert new.number == "TS20250314-0008"
    assert DailySequence.objects.get(day=datetime.date(2025, 3, 14)).last == 9
    assert kept.status == "closed" and kept.received_at == datetime.datetime(2025, 3, 14, 9, 30, tzinfo=SHANGHAI)
    assert kept.closed_at == datetime.datetime(2025, 3, 18, 10, 0, tzinfo=SHANGHAI)
    assert kept.resolution == "更换灯罩" and kept.product == product and kept.department.code == "quality"
    assert kept.customer_id == new.customer_id  # the same phone is the same customer
    assert kept.customer.kind == "dealer"
    assert invalid.status == "invalid" and invalid.status_reason == "广告" and invalid.resolution == ""
    assert archived.status == "archived" and archived.archived_at == archived.closed_at
    assert all(c.imported_at == NOW and c.sla_policy is None and c.next_due_at is None for c in (kept, new))
    followup = FollowUp.objects.get(complaint=kept)
    assert followup.outcome == "satisfied" and followup.satisfaction.code == "satisfied"
    assert followup.completed_at == kept.closed_at
    assert not FollowUp.objects.filter(complaint=new).exists()

    event = Event.objects.get(complaint=kept)
    assert event.action == "imported" and event.actor == admin_user
    assert event.after["file"] == "history.xlsx" and event.after["row"] == 2
    run_row = ImportRun.objects.get()
    assert (run_row.rows, run_row.by, run_row.followups, run_row.customers_created) == (4, admin_user, 2, 3)

    # No clocks, no alerts, no messages, no repeat marks.
    assert Deadline.objects.count() == 0
    assert DefectAlert.objects.count() == 0
    assert Notification.objects.count() == 0
    assert not Complaint.objects.filter(repeat_of__isnull=False).exists()
    assert set(Event.objects.values_list("action", flat=True)) == {"imported"}


@pytest.mark.django_db(transaction=True)
def test_no_alert_even_after_commit(product: Product) -> None:
    """The defect spike check runs on commit after intake: an import of many complaints about one model
    in one week raises no alert."""
    rows = [zh_row(联系电话=f"1390000{i:04d}") for i in range(30)]
    assert run(rows).ok
    assert DefectAlert.objects.count() == 0
    assert Notification.objects.count() == 0


@pytest.mark.django_db
def test_original_numbers_must_be_new(product: Product, make_complaint: Callable[..., Complaint]) -> None:
    existing = make_complaint()
    result = run(
        [zh_row(投诉编号=existing.number), zh_row(投诉编号="A-1"), zh_row(投诉编号="A-1"), zh_row(投诉编号="含 空格")]
    )
    assert [(e.row, e.column) for e in result.errors] == [(2, "投诉编号"), (4, "投诉编号"), (5, "投诉编号")]


@pytest.mark.django_db
def test_kpis_of_the_imported_month_count_them(product: Product) -> None:
    rows = [zh_row(联系电话=f"1390000{i:04d}") for i in range(3)]
    rows.append(zh_row(联系电话="13900009999", 客户满意度="不满意", 回访结果="不满意"))
    rows.append(zh_row(联系电话="13900009998", 状态="无效", 解决时间="", 结案时间="", 回访结果="", 客户满意度=""))
    assert run(rows).ok
    march = Period.month(2025, 3)
    assert cohort(march).count() == 4  # the invalid one is left out, as in every count
    assert cohort(Period.month(2026, 12)).count() == 0  # not the month they were imported
    figures = kpi_figures(march, now=NOW)
    assert (figures[Kpi.SATISFACTION].numerator, figures[Kpi.SATISFACTION].denominator) == (3, 4)
    assert figures[Kpi.REOPEN].denominator == 4
    # Never clocked: neither on time nor late.
    assert figures[Kpi.ACK_ON_TIME].denominator == 0
    assert figures[Kpi.TIMELY_PROCESSING].denominator == 0


@pytest.mark.django_db
def test_a_later_complaint_is_a_repeat_of_an_imported_one(
    product: Product, make_complaint: Callable[..., Complaint]
) -> None:
    recent = datetime.datetime.now(SHANGHAI) - datetime.timedelta(days=5)
    assert complaints_import(
        rows=numbered(
            [
                zh_row(
                    接收时间=recent - datetime.timedelta(days=3),
                    解决时间=recent,
                    结案时间=recent,
                    联系电话="13812340000",
                )
            ]
        ),
        actor=None,
        source=ImportSource.CLI,
    ).ok
    imported = Complaint.objects.get()
    later = make_complaint(phone="13812340000", product_model="XD-100")
    assert later.repeat_of == imported


@pytest.mark.django_db
def test_english_headers_and_keys(product: Product) -> None:
    row = {
        "Received": "2025/4/2 8:05",
        "customer_name": "Li",
        "Phone": "+86 138 0000 1111",
        "Type": "quality",
        "Status": "resolved",
        "resolved_at": "2025年4月3日",
        "Description": "cracked",
        "Result": "replaced",
        "Priority": "重要",
    }
    result = run([row])
    assert result.ok, result.errors
    complaint = Complaint.objects.get()
    assert complaint.priority == 2 and complaint.channel == "hotline" and complaint.customer.phone == "13800001111"
    assert complaint.resolved_at == datetime.datetime(2025, 4, 3, tzinfo=SHANGHAI)


HEADER = "投诉编号,接收时间,解决时间,客户姓名,联系电话,投诉类型,状态,投诉内容,处理结果\n"
LINE = ",2025-03-14 09:30,2025-03-15 10:00,王芳,13812345678,质量,已解决,灯罩开裂,更换灯罩\n"


@pytest.mark.parametrize(("encoding", "bom"), [("utf-8", b"\xef\xbb\xbf"), ("utf-8", b""), ("gb18030", b"")])
def test_csv_encodings(encoding: str, bom: bytes) -> None:
    data = bom + (HEADER + LINE).encode(encoding)
    headers, rows = read_table(data=data, file_name="history.csv")
    assert headers[0] == "投诉编号"
    assert rows == [(2, dict(zip(HEADER.strip().split(","), LINE.strip("\n").split(","), strict=True)))]


@pytest.mark.django_db
def test_cli_imports_a_gb18030_csv_and_refuses_a_wrong_file(tmp_path: Any, capsys: Any) -> None:
    good = tmp_path / "history.csv"
    good.write_bytes((HEADER + LINE + LINE.replace("13812345678", "13900000001")).encode("gb18030"))
    call_command("import", "complaints", str(good), "--dry-run")
    assert Complaint.objects.count() == 0
    call_command("import", "complaints", str(good))
    assert Complaint.objects.filter(imported_at__isnull=False).count() == 2
    assert "write" in capsys.readouterr().err  # the progress line

    bad = tmp_path / "bad.csv"
    bad.write_bytes((HEADER + LINE.replace("已解决", "处理中")).encode("utf-8-sig"))
    with pytest.raises(CommandError):
        call_command("import", "complaints", str(bad))
    assert Complaint.objects.count() == 2


@pytest.mark.django_db
def test_template_round_trip(tmp_path: Any, product: Product) -> None:
    """The template's headers are what the import reads: fill one row in and import it."""
    from openpyxl import load_workbook

    path = tmp_path / "template.xlsx"
    call_command("import", "template", str(path))
    workbook = load_workbook(path)
    sheet = workbook.worksheets[0]
    headers = [cell.value for cell in sheet[1]]
    assert headers[:3] == ["投诉编号", "接收时间", "解决时间"]
    values = zh_row()
    sheet.append([values.get(h, "") for h in headers])
    sheet.cell(row=2, column=2).value = datetime.datetime(2025, 3, 14, 9, 30)
    workbook.save(path)
    call_command("import", "complaints", str(path))
    assert Complaint.objects.get().received_at == datetime.datetime(2025, 3, 14, 9, 30, tzinfo=SHANGHAI)
