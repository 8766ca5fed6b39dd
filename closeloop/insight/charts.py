"""Charts for the dashboard (as inline SVG) and the analysis report (as PDF drawings), from one code path.

reportlab's graphics draw each chart once as a `Drawing`; `to_svg` renders it for the browser and the
PDF report places the same drawing on its page. Chinese text uses the embedded CJK font of
closeloop/core/pdf_fonts.py in the PDF and the browser's own CJK fonts in the SVG. No JavaScript and no
files from a CDN are involved.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from html import escape
from typing import cast

from reportlab.graphics import renderSVG
from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.charts.piecharts import Pie
from reportlab.graphics.shapes import Circle, Drawing, Line, PolyLine, String
from reportlab.lib import colors
from reportlab.pdfbase import pdfmetrics

from closeloop.core import pdf_fonts

FONT = pdf_fonts.FONT
BOLD = pdf_fonts.BOLD
PALETTE = [
    colors.HexColor(value)
    for value in ("#2f6f9f", "#e07b39", "#4c9a5b", "#c0504d", "#8064a2", "#4bacc6", "#9b8b2f", "#7f7f7f")
]


def register_font() -> str:
    return pdf_fonts.register()


def _short(label: str, limit: int = 12) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _title(drawing: Drawing, title: str) -> None:
    if title:
        drawing.add(
            String(drawing.width / 2, drawing.height - 14, title, fontName=BOLD, fontSize=11, textAnchor="middle")
        )


def _value_max(values: Sequence[float]) -> float:
    top = max([float(v) for v in values] + [1.0])
    return top * 1.15


def _text_width(text: str, size: float) -> float:
    return float(pdfmetrics.stringWidth(text, FONT, size))


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str = "",
    width: int = 460,
    height: int = 220,
    horizontal: bool = False,
) -> Drawing:
    """Bars in the given order: left to right, or top to bottom when horizontal."""
    register_font()
    drawing = Drawing(width, height)
    _title(drawing, title)
    names = [_short(str(label)) for label in labels] or [""]
    numbers = [float(v) for v in values] or [0.0]
    label_size = 10
    widest = max(_text_width(name, label_size) for name in names)
    top = 34 if title else 16
    if horizontal:
        # reportlab draws the first category at the bottom; the largest belongs on top.
        names, numbers = names[::-1], numbers[::-1]
        chart: HorizontalBarChart | VerticalBarChart = HorizontalBarChart()
        left = min(max(40.0, widest + 12), width * 0.4)
        chart.x, chart.y = left, 24  # type: ignore[assignment]  # reportlab takes floats; its stubs say int
        chart.width, chart.height = width - left - 30, height - 24 - top  # type: ignore[assignment]  # reportlab takes floats; its stubs say int
    else:
        chart = VerticalBarChart()
        chart.x = 40
        chart.width = width - 40 - 20
        # Labels wider than their slot are turned, and the plot moves up to make room for them (and
        # right, for the first label, which reaches left from the middle of its bar).
        slot = chart.width / len(names)
        turned = widest > slot - 4
        if turned:
            reach = widest * 0.87 + 4
            chart.x = min(max(40.0, reach - slot / 2), width * 0.35)  # type: ignore[assignment]  # reportlab takes floats; its stubs say int
            chart.width = width - chart.x - 20
        bottom = min(16 + widest * 0.5, height * 0.4) if turned else 24
        chart.y = bottom  # type: ignore[assignment]  # reportlab takes floats; its stubs say int
        chart.height = height - bottom - top  # type: ignore[assignment]  # reportlab takes floats; its stubs say int
        chart.categoryAxis.labels.angle = 30 if turned else 0
        chart.categoryAxis.labels.boxAnchor = "ne" if turned else "n"
    chart.data = [numbers]
    chart.categoryAxis.categoryNames = names
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = label_size
    chart.categoryAxis.strokeColor = colors.grey
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = _value_max(numbers)
    if max(numbers) <= 5:
        chart.valueAxis.valueStep = 1  # counts: no 0.2 steps
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = 9
    # A few bars stay slim instead of filling the width (bars are 10 units, spacing relative to them).
    chart.groupSpacing = 10 / min(0.67, 0.12 + 0.09 * len(names)) - 10  # type: ignore[assignment]  # reportlab takes floats; its stubs say int
    chart.valueAxis.strokeColor = colors.grey
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = colors.HexColor("#e3e6eb")
    chart.bars.strokeColor = None
    chart.bars[0].fillColor = PALETTE[0]
    chart.barLabelFormat = "%d"
    chart.barLabels.fontName = FONT
    chart.barLabels.fontSize = 9
    chart.barLabels.nudge = 7
    drawing.add(chart)
    return drawing


def line_chart(
    labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    title: str = "",
    width: int = 460,
    height: int = 220,
) -> Drawing:
    register_font()
    drawing = Drawing(width, height)
    _title(drawing, title)
    chart = HorizontalLineChart()
    top = 34 if title else 16
    bottom = 40 if len(series) > 1 else 24
    chart.x, chart.y = 40, bottom
    chart.width, chart.height = width - 60, height - bottom - top
    # None is a month with nothing to count: left out of the line, not a fall to zero. A series with fewer
    # than two values has no line to draw (reportlab refuses it): it is left out, legend included.
    series = {name: values for name, values in series.items() if sum(v is not None for v in values) >= 2}
    data = [[None if v is None else float(v) for v in values] for values in series.values()] or [[0.0]]
    chart.data = data
    chart.categoryAxis.categoryNames = [str(label) for label in labels] or [""]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 9
    chart.categoryAxis.strokeColor = colors.grey
    chart.valueAxis.strokeColor = colors.grey
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = colors.HexColor("#e3e6eb")
    step = max(1, len(labels) // 10)
    if step > 1:
        chart.categoryAxis.categoryNames = [str(label) if i % step == 0 else "" for i, label in enumerate(labels)]
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = _value_max([v for values in data for v in values if v is not None])
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = 9
    for index in range(len(data)):
        chart.lines[index].strokeColor = PALETTE[index % len(PALETTE)]
        chart.lines[index].strokeWidth = 1.5
    drawing.add(chart)
    if len(series) > 1:
        legend = Legend()
        legend.x, legend.y = 40, 14
        legend.fontName = FONT
        legend.fontSize = 8
        legend.alignment = "right"
        legend.columnMaximum = 1
        legend.deltax = 90
        legend.colorNamePairs = [(PALETTE[i % len(PALETTE)], name) for i, name in enumerate(series)]
        drawing.add(legend)
    return drawing


def pie_chart(
    labels: Sequence[str], values: Sequence[float], *, title: str = "", width: int = 460, height: int = 220
) -> Drawing:
    register_font()
    drawing = Drawing(width, height)
    _title(drawing, title)
    pie = Pie()
    size = min(height - 50, width // 2)
    pie.x, pie.y = 30, (height - 20 - size) // 2
    pie.width = pie.height = size
    total = sum(float(v) for v in values)
    pie.data = [float(v) for v in values] if total else [1.0]
    pie.labels = None
    pie.slices.strokeColor = colors.white
    for index in range(len(pie.data)):
        pie.slices[index].fillColor = PALETTE[index % len(PALETTE)] if total else colors.lightgrey
    drawing.add(pie)
    legend = Legend()
    legend.x, legend.y = 50 + size, pie.y + size
    legend.fontName = FONT
    legend.fontSize = 10
    legend.alignment = "right"
    legend.columnMaximum = 10
    legend.colorNamePairs = [
        (PALETTE[i % len(PALETTE)], f"{_short(str(label), 14)}  {float(v):g} ({float(v) * 100 / total:.1f}%)")
        for i, (label, v) in enumerate(zip(labels, values, strict=True))
        if total
    ]
    drawing.add(legend)
    return drawing


def pareto_chart(
    labels: Sequence[str], counts: Sequence[int], *, title: str = "", width: int = 460, height: int = 240
) -> Drawing:
    """Horizontal bars in descending order (largest on top, labels written left of them, horizontally, so
    that Chinese names stay readable) with the cumulative share as a line on a 0–100 % scale along the top.
    The count axis ends at the total so that the two scales agree: the line's first point sits at the end
    of the first bar and its last at 100 %."""
    rows = max(len(counts), 1)
    height = max(height, 60 + 22 * rows)
    drawing = bar_chart(labels, counts, title=title, width=width, height=height, horizontal=True)
    chart = cast(HorizontalBarChart, drawing.contents[-1])
    total = sum(counts)
    if not total or not counts:
        return drawing
    chart.height -= 14  # room for the percentage scale above the plot
    chart.valueAxis.valueMax = total
    top = chart.y + chart.height
    cumulative, points = 0, []
    for index, count in enumerate(counts):
        cumulative += count
        x = chart.x + chart.width * cumulative / total
        y = chart.y + chart.height * (len(counts) - index - 0.5) / len(counts)
        points.extend([x, y])
    drawing.add(PolyLine(points, strokeColor=PALETTE[1], strokeWidth=1.5))
    for (x, y), share in zip(zip(points[::2], points[1::2], strict=True), _running_shares(counts, total), strict=True):
        drawing.add(Circle(x, y, 2.2, fillColor=PALETTE[1], strokeColor=None))
        drawing.add(String(x + 4, y + 3, f"{share:.0f}%", fontName=FONT, fontSize=7, fillColor=PALETTE[1]))
    drawing.add(Line(chart.x, top, chart.x + chart.width, top, strokeColor=PALETTE[1], strokeWidth=0.8))
    for share in (0, 50, 80, 100):
        x = chart.x + chart.width * share / 100
        drawing.add(Line(x, top, x, top + 3, strokeColor=PALETTE[1], strokeWidth=0.8))
        drawing.add(
            String(x, top + 5, f"{share}%", fontName=FONT, fontSize=8, fillColor=PALETTE[1], textAnchor="middle")
        )
    return drawing


def _running_shares(counts: Sequence[int], total: int) -> list[float]:
    shares, running = [], 0
    for count in counts:
        running += count
        shares.append(running * 100 / total)
    return shares


_FONT_FAMILY = re.compile(r"font-family\s*:\s*[^;\"']+")
# The desk's own font stack (desk.css), so that Chinese labels use the system's CJK font.
SVG_FONTS = "system-ui, 'PingFang SC', 'Microsoft YaHei', 'Noto Sans CJK SC', 'WenQuanYi Micro Hei', sans-serif"
_svg_ids = itertools.count(1)
_STYLE_ATTRIBUTE = re.compile(r'\sstyle="([^"]*)"')
# SVG properties that are also presentation attributes: written as attributes they are not CSS, so the
# Content-Security-Policy (no inline style) lets them through. renderSVG uses only these.
PRESENTATION_ATTRIBUTES = frozenset(
    {
        "clip-path",
        "clip-rule",
        "fill",
        "fill-opacity",
        "fill-rule",
        "font-family",
        "font-size",
        "font-style",
        "font-weight",
        "opacity",
        "stroke",
        "stroke-dasharray",
        "stroke-dashoffset",
        "stroke-linecap",
        "stroke-linejoin",
        "stroke-miterlimit",
        "stroke-opacity",
        "stroke-width",
        "text-anchor",
    }
)


def _as_presentation_attributes(match: re.Match[str]) -> str:
    """`style="fill: red; stroke: none"` → `fill="red" stroke="none"` (the value is already attribute-safe)."""
    attributes, rest = [], []
    for declaration in match.group(1).split(";"):
        name, _, value = declaration.partition(":")
        name, value = name.strip().lower(), value.strip()
        if not name or not value:
            continue
        if name in PRESENTATION_ATTRIBUTES:
            attributes.append(f' {name}="{value}"')
        else:  # kept as style, which the browser test's CSP check then reports
            rest.append(f"{name}: {value}")
    return "".join(attributes) + (f' style="{"; ".join(rest)}"' if rest else "")


def to_svg(drawing: Drawing, *, title: str = "") -> str:
    """The drawing as an inline <svg> element; text in the browser's CJK-capable fonts.

    Several charts share one page, so the clip path gets an id of its own (renderSVG calls every one
    "clip"), and the chart is announced as one image named `title` (its numbers are in a table beside it).
    """
    svg = renderSVG.drawToString(drawing)
    svg = svg[svg.index("<svg") :]
    uid = f"chart{next(_svg_ids)}"
    svg = svg.replace('id="clip"', f'id="{uid}-clip"').replace("url(#clip)", f"url(#{uid}-clip)")
    svg = svg.replace('<g id="group" ', "<g ")
    svg = svg.replace("<title>...</title>", f"<title>{escape(title)}</title>" if title else "", 1)
    svg = svg.replace("<desc>...</desc>", "", 1)
    label = f' role="img" aria-label="{escape(title)}"' if title else ' aria-hidden="true"'
    svg = svg.replace("<svg ", f'<svg class="chart"{label} ', 1)
    svg = _FONT_FAMILY.sub(f"font-family: {SVG_FONTS}", svg)
    return _STYLE_ATTRIBUTE.sub(_as_presentation_attributes, svg)
