"""The summary table (投诉汇总表, 附表二) as an Excel workbook, streamed.

One row per complaint of the period's cohort (received in the period, without invalid and duplicate
ones), then pivot sheets by department, type, product and region with the KPIs per group.

Bounded memory and a fixed number of queries whatever the month's size: the complaints' rows are written
as SpreadsheetML text to a scratch file as they are read and spliced into the workbook openpyxl saves
(write-only mode) for the header, the pivot and analysis sheets and the styles — openpyxl's per-cell
work was most of a 100,000-complaint report's time; the complaints are read with `.iterator(chunk_size=…)`,
and what belongs to each complaint in other tables (tasks, solutions, feedback forms, follow-ups,
deadlines) comes from one query per table, each ordered by complaint id and merged with the complaint
rows as both advance — six queries for the rows, four for all the pivot sheets, never one per complaint.

Every text cell is neutralised: text that a spreadsheet would take for a formula (starting with =, +,
-, @, a tab or a carriage return) gets a leading apostrophe and is stored as a string, and characters
XML cannot hold are dropped, so a hostile complaint can neither run a formula nor break the file.
"""

from __future__ import annotations

import datetime
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape

from django.db.models import Case, CharField, F, Q, Value, When
from django.utils import timezone, translation
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from closeloop.complaints.lifecycle import NOT_COUNTED_STATUSES, Status
from closeloop.complaints.models import Channel, Priority
from closeloop.core.masking import can_see_personal_data, mask_phone
from closeloop.directory.models import CustomerKind
from closeloop.followup.models import FollowUp
from closeloop.handling.models import (
    CompensationForm,
    FeedbackForm,
    FeedbackResult,
    Measure,
    Solution,
    SolutionStatus,
    Task,
)
from closeloop.insight.exports.contents import PIVOT_DIMENSIONS, kpi_pivots
from closeloop.insight.exports.labels import is_english, kpi_name, word
from closeloop.insight.kpis import WITHDRAWN_TASKS, Kpi, Period, cohort, local_zone, targets
from closeloop.sla.milestones import Milestone
from closeloop.sla.models import Deadline

CHUNK_SIZE = 2000
SHORT_TEXT, TEXT_CACHE = 40, 20_000  # texts remembered once neutralised (their length, how many)
ROWS_SHEET = "xl/worksheets/sheet1.xml"  # the first sheet created, the complaints' rows
MAX_CELL = 32_000  # Excel holds at most 32,767 characters in a cell
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
DATE_FORMAT = "yyyy-mm-dd hh:mm"

COLUMNS: tuple[tuple[str, int], ...] = (
    ("number", 18),
    ("received_at", 17),
    ("registered_at", 17),
    ("resolved_at", 17),
    ("closed_at", 17),
    ("channel", 10),
    ("customer_kind", 12),
    ("customer_name", 12),
    ("customer_phone", 14),
    ("province", 10),
    ("city", 10),
    ("product_line", 12),
    ("product", 22),
    ("batch", 12),
    ("type", 16),
    ("priority", 8),
    ("department", 14),
    ("handlers", 16),
    ("status", 10),
    ("description", 40),
    ("measures", 24),
    ("compensation_amount", 12),
    ("compensation_form", 12),
    ("result", 36),
    ("satisfaction", 10),
    ("repeat", 18),
    ("reopen_count", 8),
    ("deadline_ack", 12),
    ("deadline_resolution", 12),
    ("deadline_followup", 12),
)
DEADLINE_COLUMNS = {
    Milestone.ACKNOWLEDGE: "deadline_ack",
    Milestone.RESOLUTION: "deadline_resolution",
    Milestone.FOLLOWUP: "deadline_followup",
}
MAIN_FIELDS = (
    "pk",
    "number",
    "received_at",
    "registered_at",
    "resolved_at",
    "closed_at",
    "channel",
    "customer_id",
    "customer__kind",
    "customer__name",
    "customer__phone",
    "province",
    "city",
    "product__model",
    "product__name",
    "product__name_en",
    "product__line__name",
    "product__line__name_en",
    "product_text",
    "batch_no",
    "type__name",
    "type__name_en",
    "type__parent__name",
    "type__parent__name_en",
    "priority",
    "department__name",
    "department__name_en",
    "status",
    "description",
    "resolution",
    "repeat_of__number",
    "reopen_count",
)
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDE6F0")
WRAP = Alignment(wrap_text=True, vertical="top")


def neutralise(value: str) -> str:
    """Text as a spreadsheet must store it: no XML-illegal characters, no formula, within a cell's size."""
    text = ILLEGAL_CHARACTERS_RE.sub("", value)
    if len(text) > MAX_CELL:
        text = text[: MAX_CELL - 1] + "…"
    # An error literal such as "#N/A" would be stored as an error cell: text too.
    if text.startswith(FORMULA_TRIGGERS) or text in ERROR_CODES:
        text = "'" + text
    return text


def mask_name(name: str) -> str:
    """`张伟` → `张*`, `欧阳娜娜` → `欧***`: the family name stays, the rest is hidden."""
    if not name:
        return ""
    return name[0] + "*" * max(1, min(len(name) - 1, 3))


def _cell(sheet: WriteOnlyWorksheet, value: Any, *, number_format: str | None = None) -> Any:
    if isinstance(value, str):
        cell = WriteOnlyCell(sheet, value=neutralise(value))
        cell.data_type = "s"  # never a formula, whatever the text
        return cell
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value, local_zone()).replace(tzinfo=None)
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATE_FORMAT
        return cell
    cell = WriteOnlyCell(sheet, value=value)
    if number_format:
        cell.number_format = number_format
    return cell


class _RowsXml:
    """The detail sheet's rows as SpreadsheetML text, written to a scratch file as they come and spliced
    into the saved workbook (`_splice`). openpyxl spends ~25 µs on every cell (a cell object, its style
    array, an XML element); 100,000 complaints × 30 columns made that most of the report's time. The
    cells written here are the ones openpyxl would write: inline strings (already neutralised, so never a
    formula), numbers, and local times as Excel serials with the one date style the workbook registered."""

    def __init__(self, out: IO[str], *, date_style: int, columns: int) -> None:
        self.out = out
        self.date_style = date_style
        self.letters = [_column_letter(index) for index in range(columns)]
        self.zone = local_zone()
        # Most text cells repeat (status, channel, department, region, product, type…): each distinct
        # short text is neutralised and escaped once.
        self.texts: dict[str, str] = {}

    def _text(self, value: str) -> str:
        known = self.texts.get(value)
        if known is None:
            known = escape(neutralise(value))
            if len(value) <= SHORT_TEXT:
                if len(self.texts) >= TEXT_CACHE:
                    self.texts.clear()
                self.texts[value] = known
        return known

    def write(self, index: int, values: list[Any]) -> None:
        parts = [f'<row r="{index}">']
        for letter, value in zip(self.letters, values, strict=True):
            if value is None or value == "":
                continue
            if isinstance(value, str):
                text = self._text(value)
                parts.append(f'<c r="{letter}{index}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>')
            elif isinstance(value, datetime.datetime):
                serial = to_excel(value.astimezone(self.zone).replace(tzinfo=None))
                parts.append(f'<c r="{letter}{index}" s="{self.date_style}"><v>{serial}</v></c>')
            elif isinstance(value, bool):
                parts.append(f'<c r="{letter}{index}" t="b"><v>{int(value)}</v></c>')
            else:
                parts.append(f'<c r="{letter}{index}" t="n"><v>{value}</v></c>')
        parts.append("</row>")
        self.out.write("".join(parts))


def _splice(book: Path, rows: Path, target: str | Path | IO[bytes], *, sheet: str, last_row: int) -> None:
    """Copy the workbook openpyxl saved to `target`, with the rows file inserted into `sheet`'s data
    (after its header row) and the sheet's dimension widened to them. Streamed: the rows are never held."""
    with zipfile.ZipFile(book) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            if info.filename != sheet:
                out.writestr(info, source.read(info.filename), compress_type=zipfile.ZIP_DEFLATED)
                continue
            head, tail = source.read(info.filename).decode("utf-8").split("</sheetData>", 1)
            head = _DIMENSION.sub(lambda m: f'<dimension ref="A1:{m[1]}{last_row}"/>', head, count=1)
            with out.open(info.filename, "w", force_zip64=True) as stream:
                stream.write(head.encode("utf-8"))
                with rows.open("rb") as written:
                    shutil.copyfileobj(written, stream, 1 << 20)
                stream.write(("</sheetData>" + tail).encode("utf-8"))


_DIMENSION = re.compile(r'<dimension ref="A1:([A-Z]+)\d+"\s*/>')


def _header(sheet: WriteOnlyWorksheet, titles: list[str]) -> list[Any]:
    cells = []
    for title in titles:
        cell = WriteOnlyCell(sheet, value=neutralise(title))
        cell.data_type = "s"
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = WRAP
        cells.append(cell)
    return cells


class _Grouped:
    """Rows of one related table ordered by complaint id, handed out per complaint as the complaint rows
    advance (a merge join: both sides are read once, in order)."""

    def __init__(self, rows: Iterator[Any]) -> None:
        self._rows = rows
        self._next: dict[str, Any] | None = next(rows, None)

    def take(self, complaint_id: int) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while self._next is not None and self._next["complaint_id"] < complaint_id:
            self._next = next(self._rows, None)
        while self._next is not None and self._next["complaint_id"] == complaint_id:
            out.append(self._next)
            self._next = next(self._rows, None)
        return out


def _of_cohort(period: Period) -> Q:
    """The cohort's condition seen from a row that points to a complaint. A join on the complaint (rather
    than `complaint_id IN (cohort)`) so that the planner walks the received_at index whatever its
    statistics say."""
    start, end = period.bounds
    return Q(complaint__received_at__gte=start, complaint__received_at__lt=end) & ~Q(
        complaint__status__in=NOT_COUNTED_STATUSES
    )


def _deadline_state_sql(now: datetime.datetime) -> Case:
    """A milestone's latest clock as on_time / late / overdue / running (a met clock by its met time, an
    open one against `now` unless paused), computed by the database: no datetimes to read and convert."""
    return Case(
        When(met_at__isnull=False, met_at__lte=F("due_at"), then=Value("on_time")),
        When(met_at__isnull=False, then=Value("late")),
        When(paused_at__isnull=True, due_at__lt=now, then=Value("overdue")),
        default=Value("running"),
        output_field=CharField(),
    )


def _related(period: Period, now: datetime.datetime) -> dict[str, _Grouped]:
    """The five related queries, each streamed in complaint order."""
    ids = _of_cohort(period)
    tasks = (
        Task.objects.filter(ids, handler__isnull=False)
        .exclude(status__in=WITHDRAWN_TASKS, replied_at__isnull=True)
        .order_by("complaint_id", "dispatched_at", "pk")
        .values("complaint_id", "handler__username", "handler__first_name", "handler__last_name")
    )
    solutions = (
        Solution.objects.filter(ids)
        .exclude(status=SolutionStatus.REJECTED)
        .order_by("complaint_id", "proposed_at", "pk")
        .values("complaint_id", "measures", "compensation_amount", "compensation_form")
    )
    forms = (
        FeedbackForm.objects.filter(ids, submitted_at__isnull=False)
        .order_by("complaint_id", "submitted_at", "pk")
        .values("complaint_id", "result", "measures")
    )
    followups = (
        FollowUp.objects.filter(ids, satisfaction__isnull=False, completed_at__isnull=False)
        .order_by("complaint_id", "completed_at", "pk")
        .values("complaint_id", "satisfaction__label_zh", "satisfaction__label_en")
    )
    deadlines = (
        Deadline.objects.filter(ids, task__isnull=True, cancelled=False, milestone__in=list(DEADLINE_COLUMNS))
        .order_by("complaint_id", "started_at", "pk")
        .values("complaint_id", "milestone", state=_deadline_state_sql(now))
    )
    return {
        name: _Grouped(qs.iterator(chunk_size=CHUNK_SIZE))
        for name, qs in (
            ("tasks", tasks),
            ("solutions", solutions),
            ("forms", forms),
            ("followups", followups),
            ("deadlines", deadlines),
        )
    }


@dataclass
class SummaryStats:
    rows: int
    masked: bool
    language: str


class _Choices:
    """Labels of the coded values in the report's language, looked up once."""

    def __init__(self) -> None:
        self.status = {v: str(label) for v, label in Status.choices}
        self.channel = {v: str(label) for v, label in Channel.choices}
        self.priority = {v: str(label) for v, label in Priority.choices}
        self.kind = {v: str(label) for v, label in CustomerKind.choices}
        self.measure = {v: str(label) for v, label in Measure.choices}
        self.compensation = {v: str(label) for v, label in CompensationForm.choices}
        self.result = {v: str(label) for v, label in FeedbackResult.choices}


def _pick(row: dict[str, Any], field: str, english: bool) -> str:
    return ((row.get(f"{field}_en") if english else "") or row.get(field) or "").strip()


def _person(row: dict[str, Any]) -> str:
    full = f"{row['handler__first_name'] or ''} {row['handler__last_name'] or ''}".strip()
    return full or row["handler__username"]


def _row_values(
    row: dict[str, Any],
    related: dict[str, list[dict[str, Any]]],
    *,
    choices: _Choices,
    masked: bool,
    english: bool,
    language: str,
    now: datetime.datetime,
) -> dict[str, Any]:
    sep = ", " if english else "、"
    handlers = list(dict.fromkeys(_person(t) for t in related["tasks"]))
    measures: list[str] = []
    amount: Decimal | None = None
    form = ""
    for solution in related["solutions"]:
        for code in solution["measures"] or []:
            label = choices.measure.get(code, str(code))
            if label not in measures:
                measures.append(label)
        if solution["compensation_amount"] is not None or solution["compensation_form"]:
            amount = solution["compensation_amount"]
            form = choices.compensation.get(solution["compensation_form"], solution["compensation_form"] or "")
    last_form = related["forms"][-1] if related["forms"] else None
    measures_text = sep.join(measures)
    if not measures_text and last_form is not None:
        measures_text = last_form["measures"] or ""
    result = row["resolution"] or ""
    if last_form is not None and last_form["result"]:
        label = choices.result.get(last_form["result"], last_form["result"])
        result = (f"{label}: {result}" if english else f"{label}：{result}") if result else label
    satisfaction = ""
    if related["followups"]:
        last = related["followups"][-1]
        satisfaction = (last["satisfaction__label_en"] if english else "") or last["satisfaction__label_zh"] or ""
    latest: dict[str, dict[str, Any]] = {}
    for deadline in related["deadlines"]:
        latest[deadline["milestone"]] = deadline  # ordered by start: the last one is the current clock
    name, phone = row["customer__name"] or "", row["customer__phone"] or ""
    if masked:
        name, phone = mask_name(name), mask_phone(phone)
    if row["product__model"]:
        product = f"{row['product__model']} {_pick(row, 'product__name', english)}".strip()
    else:
        product = row["product_text"] or ""
    leaf, parent = _pick(row, "type__name", english), _pick(row, "type__parent__name", english)
    repeat = word("no", language)
    if row["repeat_of__number"]:
        repeat = f"{word('yes', language)} ({row['repeat_of__number']})"
    values = {
        "number": row["number"],
        "received_at": row["received_at"],
        "registered_at": row["registered_at"],
        "resolved_at": row["resolved_at"],
        "closed_at": row["closed_at"],
        "channel": choices.channel.get(row["channel"], row["channel"]),
        "customer_kind": choices.kind.get(row["customer__kind"], row["customer__kind"] or ""),
        "customer_name": name,
        "customer_phone": phone,
        "province": row["province"] or "",
        "city": row["city"] or "",
        "product_line": _pick(row, "product__line__name", english),
        "product": product,
        "batch": row["batch_no"] or "",
        "type": f"{parent} / {leaf}" if parent else leaf,
        "priority": choices.priority.get(row["priority"], str(row["priority"])),
        "department": _pick(row, "department__name", english),
        "handlers": sep.join(handlers),
        "status": choices.status.get(row["status"], row["status"]),
        "description": row["description"] or "",
        "measures": measures_text,
        "compensation_amount": amount,
        "compensation_form": form,
        "result": result,
        "satisfaction": satisfaction,
        "repeat": repeat,
        "reopen_count": row["reopen_count"],
    }
    for milestone, column in DEADLINE_COLUMNS.items():
        current = latest.get(milestone)
        values[column] = word(current["state"] if current is not None else "no_deadline", language)
    return values


def _write_rows(
    out: _RowsXml,
    period: Period,
    *,
    masked: bool,
    language: str,
    now: datetime.datetime,
    on_row: Any = None,
) -> int:
    """The cohort's rows from row 2 on (the header is openpyxl's); returns how many."""
    english = is_english(language)
    choices = _Choices()
    base = cohort(period)
    related = _related(period, now)
    count = 0
    keys = [key for key, _width in COLUMNS]
    for row in base.order_by("pk").values(*MAIN_FIELDS).iterator(chunk_size=CHUNK_SIZE):
        pieces = {name: grouped.take(row["pk"]) for name, grouped in related.items()}
        values = _row_values(row, pieces, choices=choices, masked=masked, english=english, language=language, now=now)
        out.write(count + 2, [values[key] for key in keys])
        count += 1
        if on_row is not None:
            on_row(row)
    return count


def _rows_sheet_head(sheet: WriteOnlyWorksheet, language: str, rows: int) -> None:
    for index, (_key, width) in enumerate(COLUMNS):
        sheet.column_dimensions[_column_letter(index)].width = width  # type: ignore[attr-defined]  # openpyxl's write-only sheet has it; its stubs do not
    sheet.freeze_panes = "B2"
    sheet.append(_header(sheet, [word(key, language) for key, _width in COLUMNS]))
    if rows:
        sheet.auto_filter.ref = f"A1:{_column_letter(len(COLUMNS) - 1)}{rows + 1}"  # type: ignore[attr-defined]  # openpyxl's write-only sheet has it; its stubs do not


def _date_style(sheet: WriteOnlyWorksheet) -> int:
    """The workbook's style id of a local time (registered now, written with the styles when saved)."""
    probe = WriteOnlyCell(sheet)
    probe.number_format = DATE_FORMAT
    return int(probe.style_id)


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


PIVOT_SHEETS = {
    "department": "sheet_department",
    "type": "sheet_type",
    "product": "sheet_product",
    "region": "sheet_region",
    "city": "sheet_city",
}


def _write_pivot(
    sheet: WriteOnlyWorksheet,
    entries: list[dict[str, Any]],
    dimension: str,
    *,
    language: str,
    goal: dict[str, Decimal],
) -> None:
    titles = [
        word(
            {"department": "department", "type": "type", "product": "product", "region": "province", "city": "city"}[
                dimension
            ],
            language,
        ),
        word("complaints", language),
        word("open", language),
        word("resolved", language),
    ]
    for kpi in Kpi:
        titles.append(f"{kpi_name(kpi, language)} (%)")
        titles.append(f"{kpi_name(kpi, language, short=True)} {word('counts', language)}")
    sheet.column_dimensions["A"].width = 24  # type: ignore[attr-defined]  # openpyxl's write-only sheet has it; its stubs do not
    sheet.freeze_panes = "B2"
    sheet.append(_header(sheet, titles))
    target_row: list[Any] = [_cell(sheet, word("target", language)), None, None, None]
    for kpi in Kpi:
        target = goal.get(kpi)
        target_row.append(_cell(sheet, float(target), number_format="0.0") if target is not None else None)
        target_row.append(None)
    sheet.append(target_row)
    for entry in entries:
        line: list[Any] = [
            _cell(sheet, entry["label"]),
            entry["complaints"],
            entry["open"],
            entry["resolved"],
        ]
        for kpi in Kpi:
            figure = entry["kpis"].get(str(kpi))
            if figure is None:
                line.extend([None, None])
                continue
            value = figure.rate
            line.append(_cell(sheet, float(value), number_format="0.0") if value is not None else None)
            line.append(_cell(sheet, f"{figure.numerator}/{figure.denominator}"))
        sheet.append(line)


def _write_table(sheet: WriteOnlyWorksheet, titles: list[str], rows: list[list[Any]]) -> None:
    sheet.column_dimensions["A"].width = 24  # type: ignore[attr-defined]  # openpyxl's write-only sheet has it; its stubs do not
    sheet.freeze_panes = "A2"
    sheet.append(_header(sheet, titles))
    for row in rows:
        sheet.append([_cell(sheet, value) if value is not None else None for value in row])


def _rate(figure: dict[str, Any] | None) -> Any:
    return None if not figure or figure.get("rate") is None else figure["rate"]


def _write_analysis(workbook: Workbook, contents: dict[str, Any], language: str) -> None:
    """The analysis report's tables, a sheet each, from the report's contents (the same figures)."""
    w = lambda key: word(key, language)  # noqa: E731 - a short alias inside one function
    volume, kpis = contents["volume"], contents["kpis"]
    rows: list[list[Any]] = [
        [
            w("complaints"),
            volume["current"],
            volume["previous"],
            volume.get("year_ago"),
            volume["change"],
            volume.get("yoy_change"),
        ]
    ]
    for kpi in Kpi:
        key = str(kpi)
        rows.append(
            [
                kpi_name(kpi, language),
                _rate(kpis["current"].get(key)),
                _rate(kpis["previous"].get(key)),
                _rate((kpis.get("year_ago") or {}).get(key)),
                None,
                None,
            ]
        )
    _write_table(
        workbook.create_sheet(w("sheet_comparison")),
        [w("kpi"), w("rate"), w("previous_rate"), w("year_ago"), w("volume_change"), w("yoy_change")],
        rows,
    )
    trend = kpis.get("trend") or {}
    months = [point["label"] for point in trend.get(str(Kpi.TIMELY_PROCESSING), [])]
    trend_rows: list[list[Any]] = [[w("complaints"), *[t["count"] for t in volume.get("trend") or []]]]
    trend_rows += [[kpi_name(k, language), *[p["rate"] for p in trend.get(str(k), [])]] for k in Kpi]
    _write_table(workbook.create_sheet(w("sheet_trend")), [w("kpi"), *months], trend_rows)
    _write_table(
        workbook.create_sheet(w("sheet_pareto")),
        [w("category"), w("count"), w("cumulative")],
        [[c["label"], c["count"], c["cumulative_pct"]] for c in contents.get("root_causes") or []]
        + [[d["label"], d["count"], None] for d in contents.get("cause_details") or []],
    )
    for key, sheet_key in (("departments", "sheet_league_departments"), ("handlers", "sheet_league_handlers")):
        league = (contents.get("league") or {}).get(key) or []
        kpi_keys = list((league[0].get("kpis") or {}).keys()) if league else []
        _write_table(
            workbook.create_sheet(w(sheet_key)),
            [
                w("rank"),
                w("name"),
                w("complaints"),
                *[kpi_name(k, language) for k in kpi_keys],
                w("breaches"),
                w("repeats"),
                w("reopens"),
                w("trend"),
            ],
            [
                [
                    r["rank"],
                    r["label"],
                    r["complaints"],
                    *[_rate(r["kpis"].get(k)) for k in kpi_keys],
                    r["breaches"],
                    r["repeats"],
                    r["reopens"],
                    r["trend"],
                ]
                for r in league
            ],
        )
    issues = contents.get("top_issues") or {}
    types = issues.get("types") or []
    _write_table(
        workbook.create_sheet(w("sheet_top_issues")),
        [w("model"), *[t["label"] for t in types], w("total"), w("actions_targeting")],
        [
            [r["label"], *[c["count"] for c in r["cells"]], r["total"], "；".join(a["number"] for a in r["actions"])]
            for r in issues.get("rows") or []
        ],
    )
    # The dashboard's cost tables: the total, then by month, department, model and cause, with the same
    # five figures (the granted solutions' count last).
    cost = contents.get("cost") or {}
    measures = ("compensation", "compensations", "refunds", "replacements", "solutions")
    cost_rows: list[list[Any]] = []
    if cost.get("total"):
        cost_rows.append([w("total"), w("total"), *(cost["total"].get(k, 0) for k in measures)])
    for part in ("by_month", "by_department", "by_model", "by_cause"):
        for r in cost.get(part) or []:
            cost_rows.append([w(f"cost_{part}"), r["label"], *(r.get(k, 0) for k in measures)])
    _write_table(
        workbook.create_sheet(w("sheet_cost")),
        [w("name"), w("name"), *(w(k) for k in measures)],
        cost_rows,
    )


def summary_table_write(
    target: str | Path | IO[bytes],
    *,
    period: Period,
    language: str,
    viewer: Any = None,
    now: datetime.datetime | None = None,
    on_row: Any = None,
    analysis: dict[str, Any] | None = None,
) -> SummaryStats:
    """Write the workbook to `target` (a path or a binary file). Customer name and phone are masked
    unless `viewer` may see personal data (the stored and e-mailed copies are made with no viewer, so
    always masked). `on_row` is called with each complaint row written (the caller's audit). `analysis`:
    the analysis report's contents, whose tables get a sheet each."""
    now = now or timezone.now()
    masked = not can_see_personal_data(viewer)
    with translation.override(language), tempfile.TemporaryDirectory(prefix="closeloop-xlsx-") as scratch:
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(word("sheet_rows", language))
        rows_path, book_path = Path(scratch) / "rows.xml", Path(scratch) / "book.xlsx"
        with rows_path.open("w", encoding="utf-8") as out:
            writer = _RowsXml(out, date_style=_date_style(sheet), columns=len(COLUMNS))
            rows = _write_rows(writer, period, masked=masked, language=language, now=now, on_row=on_row)
        _rows_sheet_head(sheet, language, rows)
        goal = targets()
        pivots = kpi_pivots(period, now=now, language=language, goal=goal)
        for dimension in PIVOT_DIMENSIONS:
            pivot = workbook.create_sheet(word(PIVOT_SHEETS[dimension], language))
            _write_pivot(pivot, pivots[dimension], dimension, language=language, goal=goal)
        if analysis:
            _write_analysis(workbook, analysis, language)
        workbook.properties.title = f"{word('summary_title', language)} {period.label}"
        workbook.properties.creator = "CloseLoop"
        workbook.properties.description = word("masked_note" if masked else "unmasked_note", language)
        workbook.save(book_path)
        _splice(book_path, rows_path, target, sheet=ROWS_SHEET, last_row=rows + 1)
    return SummaryStats(rows=rows, masked=masked, language=language)
