"""The PDF font: from an installed package, embedded, and the glyph check of tests/pdf_glyphs.py can fail."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from reportlab.pdfgen import canvas

from closeloop.core import pdf_fonts
from tests.pdf_glyphs import missing_glyphs, shown_characters, unembedded

ROOT = Path(__file__).resolve().parents[2]


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
    pdf = _pdf((font, "责任人反馈表 · 投诉单号 20261206-0006 ■□（无）"))
    assert unembedded(pdf) == set()
    assert missing_glyphs(pdf) == set()
    assert {"责", "·", "■", "□", "（"} <= shown_characters(pdf)


def test_the_check_finds_a_substituted_font_and_a_missing_glyph():
    font = pdf_fonts.register()
    pdf = _pdf((font, "✗ 不在字体里"), ("Helvetica", "not embedded"))
    assert unembedded(pdf) == {"/Helvetica"}
    assert missing_glyphs(pdf) == {"<a character the font lacks>"}
