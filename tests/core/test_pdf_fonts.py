"""The PDF fonts: from an installed package, embedded at weight 400 (text) and 700 (headings), laid out
with the widths of the glyphs embedded, and the glyph check of tests/pdf_glyphs.py can fail."""

from __future__ import annotations

import time
from io import BytesIO
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from closeloop.core import pdf_fonts
from tests.pdf_glyphs import glyph_area, missing_glyphs, shown_characters, unembedded, weights, width_mismatches

ROOT = Path(__file__).resolve().parents[2]
TEXT = "全国责任人反馈表 · 投诉单号 20261206-0006 ■□（无）Feedback form, WAVE 1%"


def _pdf(*lines: tuple[str, str]) -> bytes:
    out = BytesIO()
    page = canvas.Canvas(out)
    for y, (font, text) in enumerate(lines):
        page.setFont(font, 12)
        page.drawString(50, 700 - 20 * y, text)
    page.save()
    return out.getvalue()


def test_the_font_file_comes_from_an_installed_package_not_from_the_repository():
    path = pdf_fonts.font_path()
    assert path.is_file()
    assert ROOT not in path.resolve().parents or ".venv" in path.parts
    assert not [p for p in (ROOT / "closeloop").rglob("*") if p.suffix.lower() in {".ttf", ".otf", ".ttc"}]


def test_chinese_and_the_middle_dot_are_embedded_with_their_glyphs():
    font = pdf_fonts.register()
    pdf = _pdf((font, TEXT), (pdf_fonts.BOLD, TEXT))
    assert unembedded(pdf) == set()
    assert missing_glyphs(pdf) == set()
    assert {"责", "·", "■", "□", "（"} <= shown_characters(pdf)


def test_text_is_embedded_at_weight_400_and_headings_at_700_with_thicker_strokes():
    font = pdf_fonts.register()
    pdf = _pdf((font, TEXT), (pdf_fonts.BOLD, TEXT))
    assert weights(pdf) == {400, 700}
    # Not only the label: the outlines are the weights' (the variable font's default is 100).
    thin = _pdf((_variable_default(), "国"))
    area = glyph_area(pdf, "国") | glyph_area(thin, "国")
    assert area[100] < area[400] < area[700]
    assert area[700] > 1.5 * area[400]


def test_the_check_of_weights_finds_the_variable_fonts_thin_default():
    assert weights(_pdf((_variable_default(), "国 text"))) == {100}


def test_the_layout_uses_the_widths_of_the_glyphs_embedded():
    """Latin letters are wider in bold: a line laid out with another weight's widths would overlap or gape."""
    font = pdf_fonts.register()
    pdf = _pdf((font, TEXT), (pdf_fonts.BOLD, TEXT))
    assert width_mismatches(pdf) == set()
    assert pdfmetrics.stringWidth("WAVE", pdf_fonts.BOLD, 10) > pdfmetrics.stringWidth("WAVE", font, 10)
    assert width_mismatches(_pdf((_variable_default(), TEXT))) == set()  # the check reads what it should


def test_the_check_of_widths_finds_a_layout_with_another_weights_widths():
    thin = pdfmetrics.getFont(_variable_default())
    bold_glyphs_thin_widths = pdf_fonts._Weight("NotoSansSC-BoldWithThinWidths", thin.face, 700)
    bold_glyphs_thin_widths.face.charWidths = thin.face.charWidths
    # reportlab takes a font whose face name is registered already for that font: a name of its own.
    bold_glyphs_thin_widths.face.name = b"NotoSansSC-BoldWithThinWidths"
    pdfmetrics.registerFont(bold_glyphs_thin_widths)
    assert {"W", "A", "V", "E"} <= width_mismatches(_pdf(("NotoSansSC-BoldWithThinWidths", TEXT)))


def test_the_weights_cost_a_fraction_of_a_second_per_document():
    font = pdf_fonts.register()
    # Characters no other test prints: each glyph is drawn here for the first time in the process.
    fresh = "".join(chr(code) for code in range(0x8C00, 0x8C00 + 300))
    started = time.process_time()
    pdf = _pdf((font, fresh), (pdf_fonts.BOLD, fresh[:40]))
    assert time.process_time() - started < 1.5
    assert missing_glyphs(pdf) == set()


def test_the_check_finds_a_substituted_font_and_a_missing_glyph():
    font = pdf_fonts.register()
    pdf = _pdf((font, "✗ 不在字体里"), ("Helvetica", "not embedded"))
    assert unembedded(pdf) == {"/Helvetica"}
    assert missing_glyphs(pdf) == {"<a character the font lacks>"}


def _variable_default() -> str:
    """The variable font registered as reportlab reads it by itself: its default instance, weight 100."""
    name = "NotoSansSC-VariableDefault"
    if name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(name, str(pdf_fonts.font_path())))
    return name
