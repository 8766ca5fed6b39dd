"""The analysis report (分析统计报告, 附表三) as a PDF, drawn from `report_contents` alone.

reportlab platypus lays it out on A4; text is set in the embedded Noto Sans SC of closeloop/core/pdf_fonts.py
(headings at weight 700, the rest at 400) and the charts are the dashboard's own
drawings (`insight.charts`). Because the PDF reads nothing but the contents dict kept in
`Report.figures`, the same report can be drawn again later and says exactly what was approved.
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from closeloop.insight import analysis, charts
from closeloop.insight.exports.labels import is_english, kpi_name, word
from closeloop.insight.models import Kpi

PAGE_WIDTH = A4[0] - 30 * mm
HANDLER_ROWS = 40  # the PDF lists this many handlers; the JSON and the desk keep them all
GRID = colors.HexColor("#9a9a9a")
HEAD = colors.HexColor("#dde6f0")
MISSED = colors.HexColor("#c0504d")


class _Styles:
    def __init__(self) -> None:
        font = charts.register_font()
        bold = charts.BOLD
        self.font = font
        self.body = ParagraphStyle("body", fontName=font, fontSize=9.5, leading=14, wordWrap="CJK")
        self.small = ParagraphStyle("small", parent=self.body, fontSize=7.5, leading=10)
        self.cell = ParagraphStyle("cell", parent=self.body, fontSize=8, leading=10.5)
        self.head9 = ParagraphStyle("head9", parent=self.body, fontSize=9, leading=11.5)
        self.tiny = ParagraphStyle("tiny", parent=self.body, fontSize=6.5, leading=8.5, alignment=TA_CENTER)
        self.tiny_missed = ParagraphStyle("tiny_missed", parent=self.tiny, textColor=MISSED)
        self.title = ParagraphStyle("title", fontName=bold, fontSize=18, leading=26, alignment=TA_CENTER)
        self.sub = ParagraphStyle("sub", fontName=font, fontSize=10, leading=15, alignment=TA_CENTER)
        self.h1 = ParagraphStyle(
            "h1", fontName=bold, fontSize=13, leading=19, spaceBefore=10, spaceAfter=4, keepWithNext=1
        )
        self.h2 = ParagraphStyle(
            "h2", fontName=bold, fontSize=10.5, leading=15, spaceBefore=6, spaceAfter=3, keepWithNext=1
        )
        self.h3 = ParagraphStyle(
            "h3", fontName=bold, fontSize=9.5, leading=14, spaceBefore=4, spaceAfter=2, keepWithNext=1
        )
        self.bullet = ParagraphStyle("bullet", parent=self.body, leftIndent=12, bulletIndent=2, bulletFontName=font)


def _p(text: Any, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(str(text if text is not None else "")).replace("\n", "<br/>"), style)


def _table(rows: list[list[Any]], widths: list[float], *, header_rows: int = 1, font_size: float = 8) -> Table:
    # Headings wrap inside their column ("Same period last year" is wider than a tenth of the page): Chinese
    # between any two characters, other scripts between words.
    chinese = ParagraphStyle("th", fontName=charts.FONT, fontSize=font_size, leading=font_size * 1.25, wordWrap="CJK")
    words = ParagraphStyle(
        "th_words", parent=chinese, wordWrap=None, splitLongWords=0, fontSize=font_size * 0.9, leading=font_size * 1.15
    )

    def heading(cell: Any) -> Any:
        if not isinstance(cell, str):
            return cell
        return _p(cell, chinese if any(ord(char) >= 0x2E80 for char in cell) else words)

    rows = [[heading(cell) for cell in row] for row in rows[:header_rows]] + rows[header_rows:]
    table = Table(rows, colWidths=widths, repeatRows=header_rows)
    style: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), charts.FONT, font_size),
        ("GRID", (0, 0), (-1, -1), 0.4, GRID),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if header_rows:
        style.append(("BACKGROUND", (0, 0), (-1, header_rows - 1), HEAD))
    table.setStyle(TableStyle(style))
    return table


def _pct(value: float | None) -> str:
    return f"{value:.1f}%" if value is not None else "—"


def _opt(value: Any) -> str:
    return "—" if value is None else str(value)


def _change(change: int | None, pct: float | None) -> str:
    if change is None:
        return "—"
    return f"{change:+d}" + (f" ({pct:+.1f}%)" if pct is not None else "")


def _share(count: int, total: int) -> str:
    return f"{count * 100 / total:.1f}%" if total else "—"


class _Report:
    def __init__(self, contents: dict[str, Any], status_label: str = "") -> None:
        self.c = contents
        self.language = contents.get("language") or "zh-hans"
        self.english = is_english(self.language)
        self.s = _Styles()
        self.status_label = status_label
        self.story: list[Flowable] = []

    def w(self, key: str) -> str:
        return word(key, self.language)

    def fact(self, key: str, value: Any) -> str:
        return f"{self.w(key)}: {value}" if self.english else f"{self.w(key)}：{value}"

    def add(self, *flowables: Flowable) -> None:
        self.story.extend(flowables)

    def h1(self, key: str) -> None:
        self.add(_p(self.w(key), self.s.h1))

    def h2(self, text: str) -> None:
        self.add(_p(text, self.s.h2))

    def h3(self, text: str) -> None:
        self.add(_p(text, self.s.h3))

    def para(self, text: str) -> None:
        self.add(_p(text, self.s.body))

    def none(self) -> None:
        self.add(_p(self.w("nothing"), self.s.body))

    # --- sections ---------------------------------------------------------------------------------

    def title(self) -> None:
        period = self.c["period"]
        self.add(_p(self.w("report_title"), self.s.title))
        self.add(_p(self.fact("period", f"{period['start']} – {period['end']}"), self.s.sub))
        facts = [
            self.fact("previous_period", f"{self.c['previous']['start']} – {self.c['previous']['end']}"),
            self.fact("as_of", self.c.get("as_of") or ""),
        ]
        if self.status_label:
            facts.append(self.fact("report_status", self.status_label))
        self.add(_p("    ".join(facts), self.s.small), Spacer(1, 4 * mm))

    def basic_volume(self) -> None:
        self.h2(self.w("h_volume"))
        volume = self.c["volume"]
        # Paragraphs: "Complaints this period" at weight 400 is wider than a fifth of the page at 9 pt.
        rows: list[list[Any]] = [
            [
                _p(self.w(key), self.s.head9)
                for key in ("volume_current", "volume_previous", "volume_change", "year_ago", "yoy_change")
            ],
            [
                str(volume["current"]),
                str(volume["previous"]),
                _change(volume["change"], volume.get("change_pct")),
                _opt(volume.get("year_ago")),
                _change(volume.get("yoy_change"), volume.get("yoy_change_pct")),
            ],
        ]
        self.add(_table(rows, [PAGE_WIDTH / 5] * 5, font_size=9), Spacer(1, 2 * mm))
        note = (self.c.get("comparison") or {}).get("note")
        if note:
            self.add(_p(note, self.s.small), Spacer(1, 2 * mm))
        trend = volume.get("trend") or []
        self.add(
            charts.line_chart(
                [t["label"][2:] for t in trend],
                {self.w("complaints"): [t["count"] for t in trend]},
                title=self.w("trend_title"),
                width=460,
                height=170,
            ),
        )

    def method(self) -> None:
        self.h2(self.w("h_method"))
        self.para(self.w("method_text"))
        note = (self.c.get("comparison") or {}).get("note")
        if note:
            self.para(note)

    def conclusions(self) -> None:
        self.h2(self.w("h_conclusions"))
        written = self.c.get("conclusions") or {}
        text = (written.get("text") or "").strip()
        if text:
            for paragraph in text.splitlines():
                if paragraph.strip():
                    self.para(paragraph.strip())
            if written.get("author"):
                by = word("conclusions_by", self.language) % {"name": written["author"], "at": written.get("at") or ""}
                self.add(_p(by, self.s.small))
            return
        summary = self.c.get("summary") or {}
        self.para(summary.get("headline", ""))
        changes = summary.get("changes") or []
        if changes:
            self.para(self.w("largest_changes"))
            for sentence in changes:
                self.add(Paragraph(escape(sentence), self.s.bullet, bulletText="•"))
        else:
            self.para(self.w("no_changes"))
        self.add(_p(self.w("conclusions_generated"), self.s.small))

    def _distribution(self, key: str, dimension: str, *, pie: bool = False) -> None:
        entry = (self.c.get("distributions") or {}).get(dimension) or {}
        slices = entry.get("current") or []
        self.h3(self.w(key))
        if not slices:
            self.none()
            return
        labels = [s["label"] for s in slices]
        counts = [s["count"] for s in slices]
        total = sum(counts)
        chart_width = PAGE_WIDTH * 0.56
        height = max(150, min(260, 24 * len(slices) + 40))
        if pie:
            drawing = charts.pie_chart(labels, counts, width=int(chart_width), height=height)
        else:
            drawing = charts.bar_chart(
                labels, counts, width=int(chart_width), height=height, horizontal=len(slices) > 4
            )
        side = PAGE_WIDTH - chart_width - 4 * mm
        rows: list[list[Any]] = [[self.w("name"), self.w("count"), self.w("share")]]
        rows += [[_p(s["label"], self.s.cell), str(s["count"]), _share(s["count"], total)] for s in slices]
        table = _table(rows, [side * 0.56, side * 0.2, side * 0.24])
        pair = Table([[drawing, table]], colWidths=[chart_width + 4 * mm, side])
        pair.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
        self.add(pair, Spacer(1, 2 * mm))

    def distributions(self) -> None:
        self.h2(self.w("h_distribution"))
        self._distribution("by_type", "type")
        self._distribution("by_product_line", "product_line")
        self._distribution("by_product", "product")
        self._distribution("by_province", "province")
        self._distribution("by_city", "city")
        self._distribution("by_channel", "channel", pie=True)

    def pareto(self) -> None:
        self.h2(self.w("h_pareto"))
        causes = self.c.get("root_causes") or []
        if not causes:
            self.none()
            return
        total = sum(c["count"] for c in causes)
        self.add(charts.pareto_chart([c["label"] for c in causes], [c["count"] for c in causes], width=460))
        rows: list[list[Any]] = [[self.w("category"), self.w("count"), self.w("share"), self.w("cumulative")]]
        rows += [
            [_p(c["label"], self.s.cell), str(c["count"]), _share(c["count"], total), _pct(c["cumulative_pct"])]
            for c in causes
        ]
        self.add(_table(rows, [PAGE_WIDTH * 0.4, PAGE_WIDTH * 0.2, PAGE_WIDTH * 0.2, PAGE_WIDTH * 0.2]))
        details = self.c.get("cause_details") or []
        if details:
            self.h3(self.w("sub_cause"))
            rows = [[self.w("category"), self.w("sub_cause"), self.w("count")]]
            rows += [
                [_p(d["category_label"], self.s.cell), _p(d["label"], self.s.cell), str(d["count"])] for d in details
            ]
            self.add(_table(rows, [PAGE_WIDTH * 0.25, PAGE_WIDTH * 0.55, PAGE_WIDTH * 0.2]))

    def _kpi_grid(self, rows_in: list[dict[str, Any]], *, with_complaints: bool, limit: int | None = None) -> None:
        kpis = [str(k) for k in Kpi]
        current = self.c["kpis"]["current"]
        head: list[Any] = [_p(self.w("name"), self.s.tiny)]
        if with_complaints:
            head.append(_p(self.w("complaints"), self.s.tiny))
        head += [_p(kpi_name(k, self.language, short=True), self.s.tiny) for k in kpis]
        target_row: list[Any] = [_p(self.w("target"), self.s.tiny)]
        if with_complaints:
            target_row.append("")
        target_row += [_p(_pct((current.get(k) or {}).get("target")), self.s.tiny) for k in kpis]
        rows: list[list[Any]] = [head, target_row]
        shown = rows_in if limit is None else rows_in[:limit]
        for row in shown:
            line: list[Any] = [_p(row["label"], self.s.tiny)]
            if with_complaints:
                line.append(_p(row.get("complaints", ""), self.s.tiny))
            for k in kpis:
                figure = row["figures"].get(k)
                if not figure:
                    line.append("")
                    continue
                text = f"{_pct(figure['rate'])}\n{figure['numerator']}/{figure['denominator']}"
                missed = figure.get("meets_target") is False
                line.append(_p(text, self.s.tiny_missed if missed else self.s.tiny))
            rows.append(line)
        first = PAGE_WIDTH * 0.16
        second = PAGE_WIDTH * 0.08 if with_complaints else 0
        rest = (PAGE_WIDTH - first - second) / len(kpis)
        widths = [first] + ([second] if with_complaints else []) + [rest] * len(kpis)
        self.add(_table(rows, widths, header_rows=2, font_size=6.5))
        if limit is not None and len(rows_in) > limit:
            more = len(rows_in) - limit
            text = f"… +{more}" if self.english else f"……另有 {more} 人"
            self.add(_p(text, self.s.small))

    def kpis(self) -> None:
        self.h2(self.w("h_kpis"))
        current, previous = self.c["kpis"]["current"], self.c["kpis"]["previous"]
        year_ago = self.c["kpis"].get("year_ago") or {}
        rows: list[list[Any]] = [
            [
                self.w("kpi"),
                self.w("target"),
                self.w("rate"),
                self.w("numerator"),
                self.w("denominator"),
                self.w("previous_rate"),
                self.w("year_ago"),
                self.w("trend"),
                self.w("meets"),
            ]
        ]
        missed = []
        for kpi in (str(k) for k in Kpi):
            figure = current.get(kpi)
            if figure is None:
                continue
            meets = figure.get("meets_target")
            rows.append(
                [
                    _p(kpi_name(kpi, self.language), self.s.cell),
                    ("≤ " if figure.get("lower_is_better") else "≥ ") + _pct(figure.get("target"))
                    if figure.get("target") is not None
                    else "—",
                    _pct(figure["rate"]),
                    str(figure["numerator"]),
                    str(figure["denominator"]),
                    _pct((previous.get(kpi) or {}).get("rate")),
                    _pct((year_ago.get(kpi) or {}).get("rate")),
                    analysis.arrow(
                        figure["rate"],
                        (previous.get(kpi) or {}).get("rate"),
                        lower_is_better=bool(figure.get("lower_is_better")),
                    ),
                    "—" if meets is None else (self.w("yes") if meets else self.w("no")),
                ]
            )
            if meets is False:
                missed.append(len(rows) - 1)
        widths = [PAGE_WIDTH * 0.24] + [PAGE_WIDTH * 0.1] * 5 + [PAGE_WIDTH * 0.1, PAGE_WIDTH * 0.06, PAGE_WIDTH * 0.1]
        table = _table(rows, widths)
        table.setStyle(TableStyle([("TEXTCOLOR", (2, r), (2, r), MISSED) for r in missed]))
        self.add(table, Spacer(1, 2 * mm))
        self.kpi_trend()
        times = self.c.get("response_times") or []
        if times:
            self.h2(self.w("response_times"))
            rows = [[self.w("kpi"), self.w("count"), self.w("median"), self.w("p90")]]
            for t in times:
                known = t["milestone"] in ("first_response", "resolution")
                name = self.w(f"milestone_{t['milestone']}") if known else t["milestone"]
                rows.append(
                    [
                        str(name),
                        str(t["count"]),
                        "—" if t["median_hours"] is None else f"{t['median_hours']:.1f}",
                        "—" if t["p90_hours"] is None else f"{t['p90_hours']:.1f}",
                    ]
                )
            self.add(_table(rows, [PAGE_WIDTH * 0.4, PAGE_WIDTH * 0.2, PAGE_WIDTH * 0.2, PAGE_WIDTH * 0.2]))

    def kpi_trend(self) -> None:
        trend = self.c["kpis"].get("trend") or {}
        if not trend:
            return
        shown = [str(k) for k in (Kpi.TIMELY_PROCESSING, Kpi.TIMELY_REPLY, Kpi.SATISFACTION, Kpi.REPEAT)]
        months = [point["label"] for point in trend[shown[0]]]
        series = {kpi_name(k, self.language, short=True): [point["rate"] for point in trend[k]] for k in shown}
        self.add(
            charts.line_chart([m[2:] for m in months], series, title=self.w("kpi_trend_title"), width=460, height=190)
        )
        self.h3(self.w("kpi_trend_table"))
        head: list[Any] = [_p(self.w("kpi"), self.s.tiny)] + [_p(m[2:], self.s.tiny) for m in months]
        rows: list[list[Any]] = [head]
        for kpi in (str(k) for k in Kpi):
            points = trend.get(kpi) or []
            rows.append(
                [_p(kpi_name(kpi, self.language, short=True), self.s.tiny)]
                + [_p("—" if p["rate"] is None else f"{p['rate']:.1f}", self.s.tiny) for p in points]
            )
        first = PAGE_WIDTH * 0.16
        rest = (PAGE_WIDTH - first) / max(len(months), 1)
        self.add(_table(rows, [first] + [rest] * len(months), font_size=6.5))

    def kpi_grids(self) -> None:
        self.h3(self.w("kpi_by_department"))
        departments = self.c.get("kpi_by_department") or []
        if departments:
            self._kpi_grid(departments, with_complaints=True)
        else:
            self.none()
        self.h3(self.w("kpi_by_handler"))
        handlers = self.c.get("kpi_by_handler") or []
        if handlers:
            self._kpi_grid(handlers, with_complaints=False, limit=HANDLER_ROWS)
        else:
            self.none()

    def satisfaction(self) -> None:
        self.h2(self.w("h_satisfaction"))
        levels = self.c.get("satisfaction") or []
        total = sum(level["count"] for level in levels)
        if not total:
            self.none()
            return
        labels = [level["label"] for level in levels]
        counts = [level["count"] for level in levels]
        rows = [[self.w("level"), self.w("count"), self.w("share")]]
        rows += [[level["label"], str(level["count"]), _share(level["count"], total)] for level in levels]
        rows.append([self.w("followups_rated"), str(total), "100.0%"])
        chart_width = PAGE_WIDTH * 0.56
        side = PAGE_WIDTH - chart_width - 4 * mm
        pair = Table(
            [
                [
                    charts.pie_chart(labels, counts, width=int(chart_width), height=150),
                    _table(rows, [side * 0.5, side * 0.24, side * 0.26]),
                ]
            ],
            colWidths=[chart_width + 4 * mm, side],
        )
        pair.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
        self.add(pair)

    def _complaint_list(self, items: list[dict[str, Any]], *, repeat: bool) -> None:
        if not items:
            self.none()
            return
        last = self.w("original") if repeat else self.w("next_due")
        rows: list[list[Any]] = [
            [self.w("complaint"), self.w("received"), self.w("status"), self.w("department"), last]
        ]
        for item in items:
            rows.append(
                [
                    item["number"],
                    item.get("received_at") or "",
                    _p(item.get("status", ""), self.s.cell),
                    _p(item.get("department", ""), self.s.cell),
                    (item.get("repeat_of") if repeat else item.get("next_due_at")) or "—",
                ]
            )
        self.add(
            _table(rows, [PAGE_WIDTH * 0.22, PAGE_WIDTH * 0.2, PAGE_WIDTH * 0.16, PAGE_WIDTH * 0.2, PAGE_WIDTH * 0.22])
        )

    def repeat_overdue(self) -> None:
        self.h2(self.w("h_repeat_overdue"))
        repeat, overdue = self.c.get("repeat") or {}, self.c.get("overdue") or {}
        self.h3(self.fact("repeat_list", repeat.get("count", 0)))
        self._complaint_list(repeat.get("items") or [], repeat=True)
        self.h3(self.fact("overdue_list", overdue.get("count", 0)))
        self._complaint_list(overdue.get("items") or [], repeat=False)

    def actions(self) -> None:
        self.h2(self.w("h_open_actions"))
        actions = self.c.get("improvement_actions") or {}
        if not actions.get("available"):
            self.add(_p(self.w("not_available"), self.s.body))
            return
        facts = [
            f"{row['label']}: {row['count']}" if self.english else f"{row['label']}：{row['count']}"
            for row in actions.get("by_status") or []
        ]
        if self.english:
            facts.append(
                f"created in the period: {actions['created']}, done: {actions['done']}, verified: {actions['verified']}"
            )
        else:
            facts.append(f"本期新建 {actions['created']} 项，完成 {actions['done']} 项，验证 {actions['verified']} 项")
        self.add(_p("；".join(facts) if not self.english else "; ".join(facts), self.s.body))
        items = actions.get("items") or []
        if not items:
            self.none()
            return
        rows: list[list[Any]] = [
            [self.w("action_number"), self.w("action_title"), self.w("owner"), self.w("due"), self.w("status")]
        ]
        for item in items:
            status = item["status_label"] + (f" ({self.w('overdue_flag')})" if item.get("overdue") else "")
            rows.append(
                [
                    item["number"],
                    _p(item["title"], self.s.cell),
                    _p(f"{item['department']} {item['owner']}".strip(), self.s.cell),
                    item.get("due_at") or "",
                    _p(status, self.s.cell),
                ]
            )
        self.add(
            _table(rows, [PAGE_WIDTH * 0.16, PAGE_WIDTH * 0.34, PAGE_WIDTH * 0.2, PAGE_WIDTH * 0.16, PAGE_WIDTH * 0.14])
        )

    def suggestions(self) -> None:
        self.h2(self.w("h_suggestions"))
        items = self.c.get("suggestions") or []
        if not items:
            self.none()
            return
        rows: list[list[Any]] = [[self.w("complaint"), self.w("source"), self.w("suggestion")]]
        for item in items:
            source = self.w("from_feedback_form" if item["source"] == "feedback_form" else "from_followup")
            rows.append([item["complaint"], source, _p(item["text"], self.s.cell)])
        self.add(_table(rows, [PAGE_WIDTH * 0.22, PAGE_WIDTH * 0.16, PAGE_WIDTH * 0.62]))

    def defects(self) -> None:
        self.h2(self.w("h_defects"))
        incidents = self.c.get("defect_incidents") or {}
        if not incidents.get("available"):
            self.add(_p(self.w("not_available"), self.s.body))
            return
        items = incidents.get("items") or []
        if not items:
            self.none()
            return
        rows: list[list[Any]] = [
            [self.w("incident"), self.w("model_batch"), self.w("opened"), self.w("grouped"), self.w("status")]
        ]
        for item in items:
            rows.append(
                [
                    _p(f"{item['number']} {item['title']}", self.s.cell),
                    _p(f"{item['model']} {item['batch']}".strip(), self.s.cell),
                    item.get("opened_at") or "",
                    str(item["complaints"]),
                    _p(item["status_label"], self.s.cell),
                ]
            )
        self.add(
            _table(rows, [PAGE_WIDTH * 0.34, PAGE_WIDTH * 0.2, PAGE_WIDTH * 0.18, PAGE_WIDTH * 0.12, PAGE_WIDTH * 0.16])
        )

    def league(self) -> None:
        self.h2(self.w("h_league"))
        tables = self.c.get("league") or {}
        for key, title, limit in (
            ("departments", "rank_by_department", None),
            ("handlers", "rank_by_handler", HANDLER_ROWS),
        ):
            rows_in = tables.get(key) or []
            self.h3(self.w(title))
            if not rows_in:
                self.none()
                continue
            kpis = list((rows_in[0].get("kpis") or {}).keys())
            head: list[Any] = [
                _p(self.w("rank"), self.s.tiny),
                _p(self.w("name"), self.s.tiny),
                _p(self.w("complaints"), self.s.tiny),
            ]
            head += [_p(kpi_name(k, self.language, short=True), self.s.tiny) for k in kpis]
            head += [_p(self.w(w), self.s.tiny) for w in ("breaches", "repeats", "reopens", "trend")]
            rows: list[list[Any]] = [head]
            for row in rows_in if limit is None else rows_in[:limit]:
                line: list[Any] = [str(row["rank"]), _p(row["label"], self.s.tiny), str(row["complaints"])]
                for k in kpis:
                    figure = row["kpis"].get(k)
                    if not figure:
                        line.append("")
                        continue
                    text = f"{_pct(figure['rate'])}\n{figure['numerator']}/{figure['denominator']}"
                    missed = figure.get("meets_target") is False
                    line.append(_p(text, self.s.tiny_missed if missed else self.s.tiny))
                line += [str(row["breaches"]), str(row["repeats"]), str(row["reopens"]), row["trend"] or "—"]
                rows.append(line)
            fixed = [PAGE_WIDTH * 0.06, PAGE_WIDTH * 0.18, PAGE_WIDTH * 0.08]
            tail = [PAGE_WIDTH * 0.07] * 4
            rest = (PAGE_WIDTH - sum(fixed) - sum(tail)) / max(len(kpis), 1)
            self.add(_table(rows, fixed + [rest] * len(kpis) + tail, font_size=7))
            if limit is not None and len(rows_in) > limit:
                more = len(rows_in) - limit
                self.add(_p(f"… +{more}" if self.english else f"……另有 {more} 人", self.s.small))
        self.kpi_grids()

    def top_issues(self) -> None:
        self.h2(self.w("h_top_issues"))
        issues = self.c.get("top_issues") or {}
        rows_in = issues.get("rows") or []
        if not rows_in:
            self.none()
            return
        types = issues.get("types") or []
        head: list[Any] = [_p(self.w("model"), self.s.tiny)]
        head += [_p(t["label"], self.s.tiny) for t in types]
        head += [_p(self.w("total"), self.s.tiny), _p(self.w("actions_targeting"), self.s.tiny)]
        rows: list[list[Any]] = [head]
        for row in rows_in:
            actions = "；".join(f"{a['number']} {a['title']}（{a['status_label']}）" for a in row.get("actions") or [])
            rows.append(
                [_p(row["label"], self.s.tiny)]
                + [str(cell["count"]) if cell["count"] else "" for cell in row["cells"]]
                + [str(row["total"]), _p(actions or "—", self.s.tiny)]
            )
        first, last = PAGE_WIDTH * 0.2, PAGE_WIDTH * 0.3
        rest = (PAGE_WIDTH - first - last) / (len(types) + 1)
        self.add(_table(rows, [first] + [rest] * (len(types) + 1) + [last], font_size=7))

    def _cost_table(self, rows_in: list[dict[str, Any]], first_key: str, first: str = "label") -> None:
        rows: list[list[Any]] = [
            [self.w(first_key)]
            + [self.w(k) for k in ("compensation", "compensations", "refunds", "replacements", "solutions")]
        ]
        for row in rows_in:
            rows.append(
                [
                    _p(row[first], self.s.cell),
                    f"{row['compensation']:,.2f}",
                    str(row["compensations"]),
                    str(row["refunds"]),
                    str(row["replacements"]),
                    # the dashboard's and the Excel's last column; reports stored before it have none
                    str(row.get("solutions", "")),
                ]
            )
        self.add(_table(rows, [PAGE_WIDTH * 0.25, PAGE_WIDTH * 0.17] + [PAGE_WIDTH * 0.145] * 4))

    def cost(self) -> None:
        self.h2(self.w("h_cost"))
        cost = self.c.get("cost") or {}
        total = cost.get("total") or {}
        self._cost_table([{"label": self.w("total"), **total}] if total else [], "name")
        months = cost.get("by_month") or []
        if months:
            self.add(
                charts.bar_chart(
                    [m["label"][2:] for m in months],
                    [m["compensation"] for m in months],
                    title=self.w("compensation"),
                    width=460,
                    height=160,
                )
            )
            self.h3(self.w("cost_by_month"))
            self._cost_table(months, "cost_month")
        for key, title in (
            ("by_department", "cost_by_department"),
            ("by_model", "cost_by_model"),
            ("by_cause", "cost_by_cause"),
        ):
            rows_in = cost.get(key) or []
            if rows_in:
                self.h3(self.w(title))
                self._cost_table(rows_in, "name")

    def action_effects(self) -> None:
        self.h2(self.w("h_actions"))
        items = self.c.get("action_effects") or []
        if not items:
            self.none()
            return
        rows: list[list[Any]] = [
            [
                self.w("action_number"),
                self.w("action_title"),
                self.w("effect_target"),
                self.w("effect_done"),
                self.w("effect_window"),
                self.w("effect_complaints"),
                self.w("effect_satisfaction"),
            ]
        ]
        for item in items:
            before, after = item["before"], item["after"]
            rows.append(
                [
                    item["number"],
                    _p(f"{item['title']}（{item['status_label']}）", self.s.cell),
                    _p(item["target"], self.s.cell),
                    item["done_at"],
                    str(item["window_days"]),
                    f"{before['complaints']} → {after['complaints']}",
                    f"{_pct(before['satisfaction'])} → {_pct(after['satisfaction'])}",
                ]
            )
        widths = [0.14, 0.22, 0.18, 0.11, 0.08, 0.12, 0.15]
        self.add(_table(rows, [PAGE_WIDTH * w for w in widths], font_size=7))

    def build(self) -> list[Flowable]:
        self.title()
        self.h1("s_basic")
        self.basic_volume()
        self.distributions()
        self.h1("s_process")
        self.method()
        self.pareto()
        self.kpis()
        self.h1("s_results")
        self.conclusions()
        self.league()
        self.top_issues()
        self.cost()
        self.satisfaction()
        self.repeat_overdue()
        self.defects()
        self.h1("s_recommendations")
        self.action_effects()
        self.actions()
        self.suggestions()
        return self.story


def analysis_report_write(target: str | Path | IO[bytes], contents: dict[str, Any], *, status_label: str = "") -> None:
    """Lay the report out on A4 pages and write it to `target` (a path or a binary file)."""
    report = _Report(contents, status_label)
    story = report.build()
    title = f"{report.w('report_title')} {contents['period']['label']}"
    footer_font = report.s.font

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(footer_font, 7.5)
        canvas.setFillColor(colors.HexColor("#666666"))
        canvas.drawString(15 * mm, 9 * mm, title)
        canvas.drawRightString(A4[0] - 15 * mm, 9 * mm, word("page", report.language) % {"n": doc.page})
        canvas.restoreState()

    doc = SimpleDocTemplate(
        target if not isinstance(target, Path) else str(target),
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=14 * mm,
        bottomMargin=16 * mm,
        title=title,
        author="CloseLoop",
    )
    doc.build(story, onFirstPage=footer, onLaterPages=footer)


def analysis_report_pdf(contents: dict[str, Any], *, status_label: str = "") -> bytes:
    buffer = BytesIO()
    analysis_report_write(buffer, contents, status_label=status_label)
    return buffer.getvalue()
