"""The feedback form (责任人反馈表) printed in the paper form's layout (seed 003).

Text is set in the embedded CJK font of closeloop/core/pdf_fonts.py (headings at weight 700, the rest at 400),
so every viewer shows the same glyphs.

The form's own wording is the paper form's, so its labels are a fixed bilingual table here (Chinese,
or English when the active language is English) rather than catalogue entries: a printed 责任人反馈表
must read the same whatever state the translation catalogue is in.
"""

from __future__ import annotations

import datetime
from io import BytesIO
from typing import Any
from xml.sax.saxutils import escape

from django.utils import dateformat, timezone
from django.utils.translation import get_language
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from closeloop.core import pdf_fonts
from closeloop.handling.models import FeedbackForm, FeedbackResult, FeedbackStatus
from closeloop.handling.services.feedback import FeedbackPrefill, feedback_form_values

FONT = pdf_fonts.FONT
BOLD = pdf_fonts.BOLD

# key: (中文, English)
LABELS: dict[str, tuple[str, str]] = {
    "title": ("责任人反馈表", "Responsible Person's Feedback Form"),
    "subtitle": ("售后服务投诉处理表", "After-sales complaint handling"),
    "basic": ("投诉基本信息", "Complaint"),
    "number": ("投诉单号", "Complaint number"),
    "customer": ("客户姓名", "Customer name"),
    "phone": ("联系方式（脱敏）", "Phone (masked)"),
    "product": ("投诉产品/服务", "Product / service"),
    "type": ("投诉类型", "Complaint type"),
    "description": ("问题描述（客户原话）", "Problem (customer's own words)"),
    "demand": ("客户诉求", "Customer's demand"),
    "process": ("处理过程记录", "Handling"),
    "handler": ("责任人", "Responsible person"),
    "department": ("所属部门", "Department"),
    "measures": ("处理措施", "Measures taken"),
    "compensation": ("补偿（金额/形式）", "Compensation (amount / form)"),
    "timeline": ("关键时间节点及沟通记录", "Key actions and contacts"),
    "outcome": ("处理结果与客户反馈", "Result and customer feedback"),
    "result": ("处理状态", "Result"),
    "reason": ("原因", "reason"),
    "satisfaction": ("客户满意度", "Customer satisfaction"),
    "demand_met": ("是否达成客户初始诉求", "Initial demand met"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "analysis": ("问题分析与改进建议", "Analysis and improvement"),
    "root_cause": ("投诉根本原因分析", "Root cause"),
    "suggestion": ("针对性改进建议", "Improvement suggestion"),
    "signatures": ("签字与审核", "Signatures and review"),
    "handler_sign": ("责任人签字", "Responsible person's signature"),
    "date": ("日期", "Date"),
    "review": ("主管审核意见", "Supervisor's review"),
    "approve": ("同意归档", "approved for archive"),
    "supplement": ("需补充说明", "to be supplemented"),
    "note": ("说明", "note"),
    "supervisor_sign": ("主管签字", "Supervisor's signature"),
    "status": ("表单状态", "Form status"),
    "revision": ("修订", "revision"),
    "printed": ("打印时间", "Printed"),
    "none": ("（无）", "(none)"),
}
RESULTS: dict[str, tuple[str, str]] = {
    FeedbackResult.RESOLVED: ("已解决", "resolved"),
    FeedbackResult.NEGOTIATING: ("协商中", "still negotiating"),
    FeedbackResult.UNRESOLVABLE: ("无法解决", "cannot be resolved"),
}
SATISFACTION: dict[str, tuple[str, str]] = {
    "satisfied": ("满意", "satisfied"),
    "basically_satisfied": ("基本满意", "basically satisfied"),
    "unsatisfied": ("不满意", "unsatisfied"),
}
STATUSES: dict[str, tuple[str, str]] = {
    FeedbackStatus.DRAFT: ("待填写", "to fill in"),
    FeedbackStatus.SUBMITTED: ("待审核", "waiting for review"),
    FeedbackStatus.RETURNED: ("退回补充", "returned for supplement"),
    FeedbackStatus.APPROVED: ("已同意归档", "approved for archive"),
}
CHECKED, UNCHECKED = "■", "□"


def _font() -> str:
    return pdf_fonts.register()


def _english(language: str | None) -> bool:
    return (language or get_language() or "zh-hans").lower().startswith("en")


def _date(value: datetime.datetime | None) -> str:
    return dateformat.format(timezone.localtime(value), "Y-m-d") if value else ""


class _Writer:
    def __init__(self, english: bool) -> None:
        font = _font()
        self.english = english
        self.body = ParagraphStyle("body", fontName=font, fontSize=9.5, leading=13, wordWrap="CJK")
        # English labels wrap between words ("Improvement suggestion" broke after "suggestio").
        self.label = ParagraphStyle(
            "label", parent=self.body, textColor=colors.HexColor("#333333"), wordWrap=None if english else "CJK"
        )
        self.title = ParagraphStyle("title", fontName=BOLD, fontSize=18, leading=24, alignment=TA_CENTER)
        self.sub = ParagraphStyle("sub", fontName=font, fontSize=10, leading=14, alignment=TA_CENTER)
        self.section = ParagraphStyle("section", fontName=BOLD, fontSize=10.5, leading=14)

    def word(self, key: str, table: dict[str, tuple[str, str]] = LABELS) -> str:
        zh, en = table[key]
        return en if self.english else zh

    def p(self, text: str, style: ParagraphStyle | None = None) -> Paragraph:
        return Paragraph(escape(text or "").replace("\n", "<br/>"), style or self.body)

    def boxes(self, table: dict[str, tuple[str, str]], chosen: str) -> str:
        return "  ".join(f"{CHECKED if code == chosen else UNCHECKED}{self.word(code, table)}" for code in table)


def feedback_form_pdf(form: FeedbackForm, prefill: FeedbackPrefill, *, language: str | None = None) -> bytes:
    """The form as an A4 PDF of as many pages as its text needs. The customer's phone is the prefill's,
    i.e. masked."""
    w = _Writer(_english(language))
    values = feedback_form_values(form, prefill)
    page_width = A4[0] - 30 * mm
    col = [page_width * 0.24, page_width * 0.26, page_width * 0.22, page_width * 0.28]

    rows: list[list[Any]] = []
    spans: list[int] = []  # rows whose value spans columns 1-3
    sections: list[int] = []

    def section(key: str) -> None:
        sections.append(len(rows))
        rows.append([Paragraph(escape(w.word(key)), w.section), "", "", ""])

    def pair(k1: str, v1: str, k2: str, v2: str) -> None:
        rows.append([w.p(w.word(k1), w.label), w.p(v1), w.p(w.word(k2), w.label), w.p(v2)])

    def wide(key: str, value: Any) -> None:
        spans.append(len(rows))
        cell = value if isinstance(value, Paragraph) else w.p(value or "")
        rows.append([w.p(w.word(key), w.label), cell, "", ""])

    section("basic")
    pair("number", prefill.number, "customer", prefill.customer_name)
    pair("phone", prefill.phone_masked, "product", prefill.product)
    pair("type", prefill.type, "department", prefill.department)
    wide("description", prefill.description)
    if prefill.demand:
        wide("demand", prefill.demand)

    section("process")
    pair("handler", prefill.handler, "compensation", values["compensation"] or w.word("none"))
    wide("measures", values["measures"])
    actions = values["key_actions"] or []
    timeline = "\n".join(
        f"{n}. {row.get('at', '')}  {row.get('text', '')}".rstrip() for n, row in enumerate(actions, start=1)
    )
    wide("timeline", timeline or w.word("none"))

    section("outcome")
    result = w.boxes(RESULTS, values["result"])
    if values["result_reason"]:
        result += f"（{w.word('reason')}：{values['result_reason']}）"
    wide("result", result)
    wide("satisfaction", w.boxes(SATISFACTION, values["satisfaction_seen"]))
    met = values["demand_met"]
    yes, no = (CHECKED if met is True else UNCHECKED), (CHECKED if met is False else UNCHECKED)
    demand = f"{yes}{w.word('yes')}  {no}{w.word('no')}"
    if values["demand_reason"]:
        demand += f"（{w.word('reason')}：{values['demand_reason']}）"
    wide("demand_met", demand)

    section("analysis")
    wide("root_cause", values["root_cause"])
    wide("suggestion", values["improvement_suggestion"])

    section("signatures")
    pair("handler_sign", prefill.handler, "date", _date(form.submitted_at))
    review = f"{CHECKED if form.status == FeedbackStatus.APPROVED else UNCHECKED}{w.word('approve')}  "
    review += f"{CHECKED if form.status == FeedbackStatus.RETURNED else UNCHECKED}{w.word('supplement')}"
    if form.review_note:
        review += f"（{w.word('note')}：{form.review_note}）"
    wide("review", review)
    reviewer = ""
    if form.reviewed_by is not None:
        reviewer = form.reviewed_by.get_full_name() or form.reviewed_by.get_username()
    pair("supervisor_sign", reviewer, "date", _date(form.reviewed_at))

    style: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), w.body.fontName),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#666666")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
    ]
    for index in sections:
        style += [
            ("SPAN", (0, index), (-1, index)),
            ("BACKGROUND", (0, index), (-1, index), colors.HexColor("#e8e8e8")),
        ]
    for index in spans:
        style.append(("SPAN", (1, index), (-1, index)))
    # A row may be taller than a page (each long field takes up to 10,000 characters): splitInRow lets
    # reportlab break a row across pages instead of failing with LayoutError.
    table = Table(rows, colWidths=col, repeatRows=0, splitInRow=1)
    table.setStyle(TableStyle(style))

    footer = "  ·  ".join(
        [
            f"{w.word('status')}：{w.word(form.status, STATUSES)}",
            f"{w.word('revision')} {form.revision}",
            f"{w.word('printed')}：{dateformat.format(timezone.localtime(), 'Y-m-d H:i')}",
        ]
    )
    buffer = BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=f"{w.word('title')} {prefill.number}",
        author="CloseLoop",
    )
    doc.build(
        [
            Paragraph(escape(w.word("title")), w.title),
            Paragraph(escape(f"{w.word('subtitle')} · {prefill.number}"), w.sub),
            Spacer(1, 5 * mm),
            table,
            Spacer(1, 4 * mm),
            w.p(footer, w.label),
        ]
    )
    return buffer.getvalue()
