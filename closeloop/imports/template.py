"""The import template: the summary table's columns with Chinese headers, and a second sheet that says
what each column takes (in both languages, like the summary table's own headings)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import cast

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from closeloop.complaints.models import Channel, Priority
from closeloop.directory.models import ComplaintType, CustomerKind, Department
from closeloop.followup.models import FollowUpOutcome
from closeloop.followup.selectors import active_levels
from closeloop.imports.columns import COLUMNS
from closeloop.imports.services import IMPORTABLE

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDE6F0")
DATE_NOTE = "2025-03-14 09:30 / 2025/3/14 / 2025年3月14日"


def _values(choices: Sequence[tuple[object, object]]) -> str:
    return "; ".join(f"{value} {label}" for value, label in choices)


def _notes() -> dict[str, str]:
    types = ComplaintType.objects.filter(is_active=True)
    departments = Department.objects.filter(is_active=True)
    return {
        "number": "空 = 新编号 / empty = a new number (TS…); 原编号须唯一 / an original number is kept if unique",
        "received_at": DATE_NOTE,
        "resolved_at": DATE_NOTE,
        "closed_at": DATE_NOTE,
        "followup_at": DATE_NOTE,
        "channel": _values(Channel.choices),
        "customer_kind": _values(CustomerKind.choices),
        "customer_phone": "手机或座机 / mobile or landline; 电话或邮箱必填其一 / phone or e-mail",
        "product": "型号 / model (目录外 = 按原文保存 / unknown models kept as text)",
        "type": "; ".join(f"{t.code} {t.name}" for t in types),
        "priority": _values(Priority.choices) + " (紧急/重要/一般)",
        "department": "; ".join(f"{d.code} {d.name}" for d in departments),
        "status": "; ".join(f"{s.value} {s.label}" for s in IMPORTABLE),
        "result": "处理结果；无效投诉填原因 / the result; for an invalid complaint, the reason",
        "followup_outcome": _values(FollowUpOutcome.choices),
        "satisfaction": "; ".join(f"{level.code} {level.label_zh}" for level in active_levels()),
    }


def import_template_xlsx() -> bytes:
    workbook = Workbook()
    sheet = cast(Worksheet, workbook.active)  # a new workbook has its one sheet
    sheet.title = "投诉汇总表"
    sheet.append([column.zh for column in COLUMNS])
    for cell in sheet[1]:
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
    for index, column in enumerate(COLUMNS, start=1):
        letter = sheet.cell(row=1, column=index).column_letter  # type: ignore[union-attr]  # a header cell, never merged
        sheet.column_dimensions[letter].width = max(12, len(column.zh) * 2 + 4)
    sheet.freeze_panes = "A2"
    notes = workbook.create_sheet("说明 Notes")
    notes.append(["列名", "Column", "键 / key", "必填 / required", "说明 / accepted values"])
    for cell in notes[1]:
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
    described = _notes()
    for column in COLUMNS:
        notes.append(
            [column.zh, column.en, column.key, "是 yes" if column.required else "", described.get(column.key, "")]
        )
    for letter, width in zip("ABCDE", (16, 22, 18, 14, 90), strict=True):
        notes.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
