"""The font every CloseLoop PDF is set in: Noto Sans SC, embedded (subset) in the file.

It comes from the PyPI package justmytype-intl-cjk (Google Fonts' Noto Sans SC, SIL Open Font License),
so a machine with only Python renders Chinese the same way as any other, and the PDF shows the same
glyphs in every viewer: nothing is left for the viewer to substitute (reportlab's built-in STSong-Light
was not embedded, and "·" printed as a missing glyph). The file is a TrueType-outline variable font,
which reportlab can embed (it cannot embed the CFF-outline .otf files of the Noto CJK releases); its
default instance is the light weight (docs/decisions.md, "PDF font").
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT = "NotoSansSC"
PACKAGE = "justmytype_intl_cjk"
FILE = "fonts/ofl/notosanssc/NotoSansSC[wght].ttf"


class FontMissing(RuntimeError):
    """The package that ships the font is not installed."""


def font_path() -> Path:
    try:
        path = Path(str(resources.files(PACKAGE).joinpath(FILE)))
    except ModuleNotFoundError as exc:
        raise FontMissing(
            "The PDF font (Noto Sans SC) comes from the Python package justmytype-intl-cjk, which is not "
            "installed: run `make .venv/.installed` or `pip install -r requirements.lock`."
        ) from exc
    if not path.is_file():
        raise FontMissing(f"The PDF font file is missing from the package {PACKAGE}: {path}")
    return path


def register() -> str:
    """Register the font once per process and return its name for reportlab styles.

    One face serves every style: <b> in a paragraph maps to the same font instead of failing."""
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, str(font_path())))
        for bold in (0, 1):
            for italic in (0, 1):
                addMapping(FONT, bold, italic, FONT)
    return FONT
