"""Charts for the dashboard (as inline SVG) and the analysis report (as PDF drawings), from one code path.

reportlab's graphics draw each chart once as a `Drawing`; `to_svg` renders it for the browser and the
PDF report places the same drawing on its page. Chinese text uses reportlab's built-in CID font
STSong-Light in the PDF (the viewer supplies the glyphs, so nothing has to be installed on the server)
and the browser's own CJK fonts in the SVG. No JavaScript and no files from a CDN are involved.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from reportlab.graphics import renderSVG
from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.charts.piecharts import Pie
from reportlab.graphics.shapes import Drawing, PolyLine, String
from reportlab.lib import colors
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont

FONT = "STSong-Light"
PALETTE = [
    colors.HexColor(value)
    for value in ("#2f6f9f", "#e07b39", "#4c9a5b", "#c0504d", "#8064a2", "#4bacc6", "#9b8b2f", "#7f7f7f")
]
_registered = False


def register_font() -> str:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
        _registered = True
    return FONT


def _short(label: str, limit: int = 12) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _title(drawing: Drawing, title: str) -> None:
    if title:
        drawing.add(
            String(drawing.width / 2, drawing.height - 14, title, fontName=FONT, fontSize=11, textAnchor="middle")
        )


def _value_max(values: Sequence[float]) -> float:
    top = max([float(v) for v in values] + [1.0])
    return top * 1.15


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str = "",
    width: int = 460,
    height: int = 220,
    horizontal: bool = False,
) -> Drawing:
    register_font()
    drawing = Drawing(width, height)
    _title(drawing, title)
    chart = HorizontalBarChart() if horizontal else VerticalBarChart()
    left = 110 if horizontal else 40
    chart.x, chart.y = left, 30
    chart.width, chart.height = width - left - 20, height - 60
    chart.data = [[float(v) for v in values] or [0.0]]
    chart.categoryAxis.categoryNames = [_short(str(label)) for label in labels] or [""]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 8
    if not horizontal:
        chart.categoryAxis.labels.angle = 30 if len(labels) > 6 else 0
        chart.categoryAxis.labels.boxAnchor = "ne" if len(labels) > 6 else "n"
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = _value_max(values)
    chart.valueAxis.labels.fontSize = 8
    chart.bars[0].fillColor = PALETTE[0]
    chart.barLabelFormat = "%d"
    chart.barLabels.fontSize = 7
    chart.barLabels.nudge = 7
    drawing.add(chart)
    return drawing


def line_chart(
    labels: Sequence[str],
    series: dict[str, Sequence[float]],
    *,
    title: str = "",
    width: int = 460,
    height: int = 220,
) -> Drawing:
    register_font()
    drawing = Drawing(width, height)
    _title(drawing, title)
    chart = HorizontalLineChart()
    chart.x, chart.y = 40, 40
    chart.width, chart.height = width - 60, height - 80
    data = [[float(v) for v in values] for values in series.values()] or [[0.0]]
    chart.data = data
    chart.categoryAxis.categoryNames = [str(label) for label in labels] or [""]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 8
    step = max(1, len(labels) // 10)
    if step > 1:
        chart.categoryAxis.categoryNames = [str(label) if i % step == 0 else "" for i, label in enumerate(labels)]
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = _value_max([v for values in data for v in values])
    chart.valueAxis.labels.fontSize = 8
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
    legend.x, legend.y = 60 + size, height - 40
    legend.fontName = FONT
    legend.fontSize = 8
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
    """Bars in descending order with the cumulative share as a line on a 0–100 % scale (right axis)."""
    drawing = bar_chart(labels, counts, title=title, width=width, height=height)
    chart = drawing.contents[-1]
    total = sum(counts)
    if not total or not counts:
        return drawing
    cumulative, points = 0, []
    step = chart.width / len(counts)
    for index, count in enumerate(counts):
        cumulative += count
        x = chart.x + step * (index + 0.5)
        y = chart.y + chart.height * cumulative / total
        points.extend([x, y])
    drawing.add(PolyLine(points, strokeColor=PALETTE[1], strokeWidth=1.5))
    right = chart.x + chart.width
    for share in (0, 50, 80, 100):
        y = chart.y + chart.height * share / 100
        drawing.add(String(right + 3, y - 3, f"{share}%", fontSize=7, fillColor=PALETTE[1]))
    return drawing


_FONT_FAMILY = re.compile(r"font-family\s*:\s*[^;\"']+")


def to_svg(drawing: Drawing) -> str:
    """The drawing as an inline <svg> element; text in the browser's sans-serif (CJK-capable) fonts."""
    svg = renderSVG.drawToString(drawing)
    svg = svg[svg.index("<svg") :]
    return _FONT_FAMILY.sub("font-family: sans-serif", svg)
