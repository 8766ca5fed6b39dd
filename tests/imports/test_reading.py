"""The .xlsx rows the import reads (imports/reading.py parses the sheet itself) are what openpyxl's
read-only `iter_rows(values_only=True)` gives, whatever wrote the workbook."""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont

from closeloop.core.errors import DomainError
from closeloop.imports.reading import _xlsx_lines, read_table

ROWS: list[list[Any]] = [
    ["投诉编号", "接收时间", "数量", "比例", "是否", "备注", None, "公式"],
    ["TS20240101-0001", datetime.datetime(2024, 1, 2, 9, 30), 3, 0.25, True, "灯不亮", None, "=C2*2"],
    [None, None, None, None, None, None, None, None],  # a blank row in between
    ["KX000005", datetime.date(2024, 2, 29), -7, 1e-7, False, "  两端空格  ", "G 列", "=A2"],
    ["", datetime.datetime(2023, 12, 31, 23, 59, 59), 10**12, 3.5, None, "x" * 300, None, None],
]


def _openpyxl(data: bytes) -> list[tuple[int, list[Any]]]:
    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        lines = enumerate(workbook.worksheets[0].iter_rows(values_only=True), start=1)
        return [(n, list(values)) for n, values in lines]
    finally:
        workbook.close()


def _same(ours: list[tuple[int, list[Any]]], theirs: list[tuple[int, list[Any]]]) -> None:
    """Row by row, trailing empty cells aside (openpyxl pads every row to the sheet's width)."""

    def trimmed(values: list[Any]) -> list[Any]:
        while values and values[-1] is None:
            values = values[:-1]
        return values

    ours_rows = {n: trimmed(v) for n, v in ours if trimmed(v)}
    theirs_rows = {n: trimmed(v) for n, v in theirs if trimmed(v)}
    assert ours_rows == theirs_rows


@pytest.mark.parametrize("write_only", [True, False])
def test_the_rows_are_openpyxls(write_only: bool) -> None:
    workbook = Workbook(write_only=write_only)
    sheet = workbook.create_sheet("投诉汇总表") if write_only else workbook.active
    for row in ROWS:
        sheet.append(row)
    if not write_only:
        sheet["B6"] = datetime.time(8, 15)  # a time of day
        sheet["D6"] = datetime.timedelta(hours=30)  # a duration
        sheet["F7"] = CellRichText(["富", TextBlock(InlineFont(b=True), "文本")])
        workbook.create_sheet("第二页")["A1"] = "not read"
    buffer = io.BytesIO()
    workbook.save(buffer)
    data = buffer.getvalue()
    _same(list(_xlsx_lines(data)), _openpyxl(data))


def test_read_table_keys_the_rows_by_header_with_spreadsheet_row_numbers() -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet["B3"], sheet["C3"] = "客户姓名", "联系电话"
    sheet["B5"], sheet["C5"] = "张伟", 13800138000
    buffer = io.BytesIO()
    workbook.save(buffer)
    headers, rows = read_table(data=buffer.getvalue(), file_name="history.xlsx")
    assert headers[1:] == ["客户姓名", "联系电话"]
    assert rows == [(5, {"客户姓名": "张伟", "联系电话": 13800138000})]


def test_a_file_that_is_not_a_workbook_is_a_field_error() -> None:
    with pytest.raises(DomainError) as refused:
        read_table(data=b"PK\x03\x04 not really", file_name="history.xlsx")
    assert refused.value.field == "file"
