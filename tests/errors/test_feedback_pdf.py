"""The feedback form's PDF with the longest text the API accepts in every long field: it wraps and
runs over several pages instead of failing with reportlab's LayoutError (a 500 on GET …/pdf)."""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO

import pytest
from django.contrib.auth.models import User
from django.utils import translation
from pypdf import PdfReader

from closeloop.handling.pdf import feedback_form_pdf
from closeloop.handling.services.feedback import (
    MAX_LENGTHS,
    TEXT_MAX_LENGTH,
    feedback_form_prefill,
    feedback_form_review,
    feedback_form_save,
    feedback_form_submit,
)
from tests.handling.feedback.conftest import Opened

pytestmark = pytest.mark.django_db

# 20 distinct characters, so that a lost or repeated stretch of text shows in the comparison.
CHINESE = "驱动电源批次不良导致吸顶灯通电后不亮客"


def _long(marker: str, length: int) -> str:
    body = (CHINESE * (length // len(CHINESE) + 1))[: length - len(marker) * 2]
    return f"{marker}{body}{marker}"


def _pages_and_text(content: bytes) -> tuple[int, str]:
    reader = PdfReader(BytesIO(content))
    text = "".join(page.extract_text() for page in reader.pages)
    return len(reader.pages), text.replace("\n", "").replace(" ", "")


def test_ten_thousand_chinese_characters_in_every_long_field_render_on_several_pages(
    opened: Callable[..., Opened], people: dict[str, User]
) -> None:
    o = opened(description=_long("甲", 5000), demand=_long("乙", 2000))
    fields = {
        "measures": _long("丙", TEXT_MAX_LENGTH),
        "root_cause": _long("丁", TEXT_MAX_LENGTH),
        "improvement_suggestion": _long("戊", TEXT_MAX_LENGTH),
        "result_reason": _long("己", TEXT_MAX_LENGTH),
        "demand_reason": _long("庚", TEXT_MAX_LENGTH),
        "compensation": _long("辛", MAX_LENGTHS["compensation"]),
    }
    feedback_form_save(
        form=o.form,
        data={**fields, "result": "negotiating", "demand_met": False, "satisfaction_seen": "unsatisfied"},
        actor=people["quality_handler"],
    )
    form = feedback_form_submit(form=o.form, actor=people["quality_handler"])
    form = feedback_form_review(form=form, approve=False, note=_long("壬", TEXT_MAX_LENGTH), actor=people["supervisor"])

    with translation.override("zh-hans"):
        pages, text = _pages_and_text(feedback_form_pdf(form, feedback_form_prefill(form)))

    assert pages > 5
    for value in [*fields.values(), _long("甲", 5000), _long("乙", 2000), _long("壬", TEXT_MAX_LENGTH)]:
        assert value in text
    assert "主管签字" in text  # the last row, after all the long ones


def test_a_long_line_without_breaks_in_latin_script_wraps_too(
    opened: Callable[..., Opened], people: dict[str, User]
) -> None:
    o = opened()
    token = "x" * TEXT_MAX_LENGTH  # one "word" far wider than the page
    form = feedback_form_save(form=o.form, data={"measures": token}, actor=people["quality_handler"])

    with translation.override("en"):
        pages, text = _pages_and_text(feedback_form_pdf(form, feedback_form_prefill(form)))

    assert text.count("x") >= TEXT_MAX_LENGTH, (pages, text.count("x"))
    assert pages > 1
