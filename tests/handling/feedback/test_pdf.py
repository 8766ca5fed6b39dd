"""The printable form: Chinese headings and the form's values in the PDF's text, the phone masked.

The text is extracted with pypdf, which maps reportlab's STSong-Light CID glyphs back to Unicode."""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO

import pytest
from django.contrib.auth.models import User
from django.utils import translation
from pypdf import PdfReader

from closeloop.handling.pdf import feedback_form_pdf
from closeloop.handling.services.feedback import (
    feedback_form_prefill,
    feedback_form_review,
    feedback_form_save,
    feedback_form_submit,
)

from .conftest import COMPLETE, Opened

pytestmark = pytest.mark.django_db


def _text(content: bytes) -> str:
    assert content.startswith(b"%PDF")
    reader = PdfReader(BytesIO(content))
    # Table cells wrap long labels; compare without the line breaks.
    return "".join(page.extract_text() for page in reader.pages).replace("\n", "")


def test_pdf_in_chinese_with_the_values_and_a_masked_phone(
    opened: Callable[..., Opened], people: dict[str, User]
) -> None:
    o = opened(contacts=True, description="吸顶灯通电后不亮")
    feedback_form_save(
        form=o.form,
        data={**COMPLETE, "compensation": "200元代金券", "satisfaction_seen": "basically_satisfied"},
        actor=people["quality_handler"],
    )
    form = feedback_form_submit(form=o.form, actor=people["quality_handler"])
    form = feedback_form_review(form=form, approve=False, note="补充签收单", actor=people["supervisor"])
    with translation.override("zh-hans"):
        text = _text(feedback_form_pdf(form, feedback_form_prefill(form)))
    for heading in ("责任人反馈表", "投诉基本信息", "处理过程记录", "关键时间节点及沟通记录", "处理结果与客户反馈"):
        assert heading in text
    for heading in ("问题分析与改进建议", "责任人签字", "主管审核意见", "主管签字"):
        assert heading in text
    for value in (o.complaint.number, "张伟", "吸顶灯通电后不亮", "上门更换驱动电源", "驱动电源批次不良"):
        assert value in text
    for value in ("加强来料检验", "200元代金券", "电话联系客户，确认故障现象", "补充签收单", "■已解决", "■基本满意"):
        assert value in text
    assert "138****5678" in text
    assert "13812345678" not in text


def test_pdf_in_english(opened: Callable[..., Opened]) -> None:
    o = opened()
    with translation.override("en"):
        text = _text(feedback_form_pdf(o.form, feedback_form_prefill(o.form)))
    assert "Responsible Person's Feedback Form" in text
    assert "责任人反馈表" not in text
    assert o.complaint.number in text and "张伟" in text
