"""The analysis report PDF (charts included) embeds its fonts (weights 400 and 700) and has a glyph for every
character it prints."""

# ruff: noqa: F811 - the fixtures imported from test_report_support are taken as parameters

from __future__ import annotations

import pytest

from closeloop.insight.services.reports import report_create, report_generate
from tests.insight.test_report_support import (  # noqa: F401 - the fixtures this module's tests take
    GENERATED_AT,
    SEPTEMBER,
    Month,
    read,
    report_month,
    report_people,
)
from tests.pdf_glyphs import missing_glyphs, shown_characters, unembedded, weights, width_mismatches

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_printed_character_has_a_glyph_in_the_embedded_font(report_month: Month, language: str) -> None:
    report = report_create(
        period=SEPTEMBER, actor=report_month.people["supervisor"], language=language, now=GENERATED_AT
    )
    report = report_generate(report=report, now=GENERATED_AT)
    pdf = read(report.pdf)
    assert unembedded(pdf) == set()
    assert missing_glyphs(pdf) == set()
    assert weights(pdf) == {400, 700}  # text and headings
    assert width_mismatches(pdf) == set()
    assert len(shown_characters(pdf)) > 50
