"""The summary table (投诉汇总表): headers in both languages, one complaint's row, masking, neutralised
cells, the pivot sheets, and a number of queries that does not grow with the month."""

# ruff: noqa: F811 - the fixtures imported from test_report_support are taken as parameters

from __future__ import annotations

import datetime
from io import BytesIO
from typing import Any

import pytest
from django.contrib.auth.models import User
from openpyxl import load_workbook

from closeloop.complaints.models import PersonalDataAccess
from closeloop.core.errors import PermissionDeniedError
from closeloop.insight.exports.xlsx import COLUMNS, mask_name, neutralise, summary_table_write
from closeloop.insight.models import ReportStep
from closeloop.insight.services.reports import report_create, report_generate, report_personal_export
from tests.conftest import aware
from tests.insight.test_report_support import (  # noqa: F401 - the fixtures this module's tests take
    GENERATED_AT,
    HOSTILE_DESCRIPTION_A,
    HOSTILE_DESCRIPTION_B,
    HOSTILE_NAME_A,
    HOSTILE_NAME_B,
    HOSTILE_PRODUCT_B,
    SEPTEMBER,
    Month,
    read,
    report_month,
    report_people,
)

pytestmark = pytest.mark.django_db


def _workbook(viewer: Any = None, language: str = "en") -> Any:
    buffer = BytesIO()
    summary_table_write(buffer, period=SEPTEMBER, language=language, viewer=viewer, now=GENERATED_AT)
    buffer.seek(0)
    return load_workbook(buffer)


def _rows(workbook: Any, index: int = 0) -> tuple[list[Any], dict[str, dict[str, Any]]]:
    """The header and the data rows of a sheet, each row keyed by header, rows by their first cell."""
    sheet = workbook.worksheets[index]
    values = list(sheet.iter_rows(values_only=True))
    header = list(values[0])
    return header, {row[0]: dict(zip(header, row, strict=True)) for row in values[1:]}


def test_headers_in_chinese_by_default_and_in_english(report_month: Month) -> None:
    chinese = _workbook(language="zh-hans")
    header, _ = _rows(chinese)
    assert header[:5] == ["投诉编号", "接收时间", "登记时间", "解决时间", "结案时间"]
    for title in ("投诉人类型", "省份", "城市", "产品（型号）", "批次号", "投诉类型", "优先级", "责任部门"):
        assert title in header
    for title in ("处理责任人", "处理措施", "补偿金额（元）", "补偿形式", "处理结果", "客户满意度", "重复投诉"):
        assert title in header
    assert header[-3:] == ["确认时限", "解决时限", "回访时限"]
    assert chinese.sheetnames == ["投诉汇总表", "按责任部门", "按投诉类型", "按产品", "按地区", "按城市"]

    english = _workbook(language="en")
    header, _ = _rows(english)
    assert header[0] == "Number" and "Responsible department" in header and "Handler(s)" in header
    assert english.sheetnames == ["Complaints", "By department", "By type", "By product", "By region", "By city"]
    assert len(header) == len(COLUMNS)


def test_one_row_per_cohort_complaint_with_its_values(report_month: Month) -> None:
    m = report_month
    _header, rows = _rows(_workbook(language="en"))
    # The invalid one and the previous month's are not in the table.
    assert sorted(rows) == sorted(c.number for c in m.cohort)
    a = rows[m.a.number]
    assert a["Received"] == datetime.datetime(2026, 9, 3, 9, 0)  # local time, as Excel shows it
    assert a["Resolved"] == datetime.datetime(2026, 9, 3, 16, 0)
    assert a["Province"] == "广东" and a["City"] == "深圳市"  # typed 深圳: stored by its official name
    assert a["Product (model)"] == "XD-100 LED ceiling light"
    assert a["Batch"] == "2608-A01"
    assert a["Type"] == "Quality" and a["Priority"] == "normal"
    assert a["Responsible department"] == "Quality"
    assert a["Handler(s)"] == "王 工"
    assert a["Status"] == "resolved"
    assert a["Measures"] == "replacement, compensation"
    assert a["Compensation (CNY)"] == 200
    assert a["Compensation form"] == "cash / bank transfer"
    assert a["Result"].endswith("上门更换灯具，客户确认正常") and a["Result"].startswith("resolved")
    assert a["Satisfaction"] == "very satisfied"
    assert a["Repeat"] == "no" and a["Reopened"] == 0
    assert (a["Acknowledgement deadline"], a["Resolution deadline"], a["Follow-up deadline"]) == (
        "met on time",
        "met on time",
        "met on time",
    )
    c = rows[m.c.number]
    assert c["Received"] == datetime.datetime(2026, 9, 30, 23, 59)  # the last minute of the month is in it
    assert (c["Acknowledgement deadline"], c["Resolution deadline"], c["Follow-up deadline"]) == (
        "met on time",
        "open",
        "—",
    )
    b = rows[m.b.number]
    assert b["Handler(s)"] is None and b["Measures"] is None  # answered on the spot: nobody else handled it


def test_resolution_deadline_missed_shows_late_or_overdue(report_month: Month) -> None:
    m = report_month
    # Counted a month later, C's resolution clock (3 working days) is long past and still open.
    buffer = BytesIO()
    summary_table_write(buffer, period=SEPTEMBER, language="en", now=aware(2026, 11, 9, 10, 0))
    buffer.seek(0)
    _header, rows = _rows(load_workbook(buffer))
    assert rows[m.c.number]["Resolution deadline"] == "overdue"


def test_personal_data_masked_for_roles_that_may_not_see_it(report_month: Month) -> None:
    m = report_month
    management = m.people["management"]
    for viewer in (None, management, m.people["auditor"]):
        _header, rows = _rows(_workbook(viewer=viewer))
        c = rows[m.c.number]
        assert c["Customer name"] == "李*"
        assert c["Phone"] == "137****2222"
        assert rows[m.a.number]["Phone"] == "138****5678"
    # A CS supervisor may see personal data: the export made for them is in clear.
    _header, rows = _rows(_workbook(viewer=m.people["supervisor"]))
    assert rows[m.c.number]["Customer name"] == "李娜"
    assert rows[m.c.number]["Phone"] == "13700002222"


def test_the_stored_file_is_masked_and_the_personal_export_is_audited(report_month: Month) -> None:
    m = report_month
    supervisor = m.people["supervisor"]
    report = report_generate(
        report=report_create(period=SEPTEMBER, actor=supervisor, language="en", now=GENERATED_AT), now=GENERATED_AT
    )
    _header, rows = _rows(load_workbook(BytesIO(read(report.xlsx))))
    assert rows[m.c.number]["Customer name"] == "李*"  # made by a supervisor, stored masked all the same
    assert not PersonalDataAccess.objects.exists()

    buffer = BytesIO()
    stats = report_personal_export(report=report, user=supervisor, target=buffer, now=GENERATED_AT)
    buffer.seek(0)
    _header, rows = _rows(load_workbook(buffer))
    assert rows[m.c.number]["Customer name"] == "李娜"
    assert stats.rows == 3 and not stats.masked
    logged = PersonalDataAccess.objects.filter(user=supervisor, where="insight.summary_table")
    assert sorted(logged.values_list("complaint_id", flat=True)) == sorted(c.pk for c in m.cohort)
    assert ReportStep.objects.filter(report=report, action="exported_personal", actor=supervisor).count() == 1

    with pytest.raises(PermissionDeniedError):
        report_personal_export(report=report, user=m.people["management"], target=BytesIO(), now=GENERATED_AT)
    assert logged.count() == 3


def test_hostile_text_is_neutralised(report_month: Month) -> None:
    m = report_month
    workbook = _workbook(viewer=m.people["supervisor"])
    _header, rows = _rows(workbook)
    a, b = rows[m.a.number], rows[m.b.number]
    assert a["Customer name"] == "'" + HOSTILE_NAME_A
    assert a["Description"] == "'" + HOSTILE_DESCRIPTION_A
    assert b["Customer name"] == "'" + HOSTILE_NAME_B
    assert b["Description"] == "'" + HOSTILE_DESCRIPTION_B
    assert b["Product (model)"] == "'" + HOSTILE_PRODUCT_B
    # The intake trims the leading tab of C's description; its "=" is neutralised and the bell removed.
    c = rows[m.c.number]["Description"]
    assert c.startswith("'=1+1") and "\x07" not in c
    # Masked, the hostile first letter stays first: still neutralised.
    _header, masked = _rows(_workbook())
    assert masked[m.a.number]["Customer name"] == "'=***"
    assert masked[m.b.number]["Customer name"] == "'-***"
    # No cell of the workbook is a formula.
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("=1+1", "'=1+1"),
        ("+86 138", "'+86 138"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("正常文本 =1", "正常文本 =1"),
        ("a\x00b\x07c", "abc"),
        ("", ""),
    ],
)
def test_neutralise(raw: str, stored: str) -> None:
    assert neutralise(raw) == stored


def test_mask_name() -> None:
    assert mask_name("张伟") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_name("Li") == "L*"
    assert mask_name("") == ""


def test_pivot_sheets_count_and_rate_by_group(report_month: Month) -> None:
    workbook = _workbook(language="en")
    header, rows = _rows(workbook, 1)  # by department
    assert header[:4] == ["Responsible department", "Complaints", "Open", "Resolved"]
    assert "Timely processing rate (%)" in header and "Communication rate (%)" in header
    assert rows["Target"]["Timely processing rate (%)"] == 95
    quality = rows["Quality"]
    assert (quality["Complaints"], quality["Open"], quality["Resolved"]) == (2, 1, 1)
    assert quality["Communication rate (%)"] == 100 and quality["Contact num/den"] == "1/1"
    assert quality["Repeat num/den"] == "0/2"
    _header, by_type = _rows(workbook, 2)
    assert by_type["Quality"]["Complaints"] == 2 and by_type["Logistics"]["Complaints"] == 1
    _header, by_product = _rows(workbook, 3)
    assert by_product["XD-100 LED ceiling light"]["Complaints"] == 2
    assert by_product["not in the catalogue"]["Complaints"] == 1
    _header, by_region = _rows(workbook, 4)
    assert by_region["广东"]["Complaints"] == 2 and by_region["北京"]["Complaints"] == 1
    _header, by_city = _rows(workbook, 5)
    assert by_city["深圳市"]["Complaints"] == 1 and by_city["北京市"]["Complaints"] == 1


def test_city_aliases_are_one_row_of_the_region_tables(report_month: Month, make_complaint: Any) -> None:
    """深圳 (complaint A), 广东省深圳市 and 深圳市 typed at intake count as one city; 广东省 as one province."""
    for day, (province, city) in enumerate((("广东省", "广东省深圳市"), ("广东", " 深圳市 ")), start=20):
        at = aware(2026, 9, day, 10, 0)
        make_complaint(now=at, received_at=at, province=province, city=city)
    workbook = _workbook(language="en")
    _header, by_city = _rows(workbook, 5)
    assert by_city["深圳市"]["Complaints"] == 3
    assert not {"深圳", "广东省深圳市"} & set(by_city)
    _header, by_region = _rows(workbook, 4)
    assert by_region["广东"]["Complaints"] == 4 and "广东省" not in by_region


def test_queries_do_not_grow_with_the_month(
    report_month: Month, make_complaint: Any, count_queries: Any, report_people: dict[str, User]
) -> None:
    def queries() -> int:
        with count_queries() as counted:
            summary_table_write(BytesIO(), period=SEPTEMBER, language="en", now=GENERATED_AT)
        return counted.count

    small = queries()
    for day in range(1, 8):
        at = aware(2026, 9, day, 11, 0)
        make_complaint(actor=report_people["agent"], now=at, received_at=at, phone=f"1380000{day:04d}")
    assert queries() == small
