"""The fonts every CloseLoop PDF is set in: Noto Sans SC at weight 400 (text) and 700 (headings), embedded.

The font comes from the PyPI package justmytype-intl-cjk (Google Fonts' Noto Sans SC, SIL Open Font License),
so a machine with only Python renders Chinese the same way as any other, and the PDF shows the same
glyphs in every viewer: nothing is left for the viewer to substitute (reportlab's built-in STSong-Light
was not embedded, and "·" printed as a missing glyph). The file is a TrueType-outline variable font,
which reportlab can embed (it cannot embed the CFF-outline .otf files of the Noto CJK releases).

reportlab reads only a variable font's default instance, and this one's default is the thinnest weight
(100). Instancing the whole font at a weight takes fontTools about 35 s of CPU and gives a 10 MB file, so
the weights are made from what a document prints (docs/decisions.md, "PDF font weight"):

- layout: each weight's advance widths come from the font's HVAR table (once per process and weight,
  about a tenth of a second), so lines break with the widths the printed glyphs have;
- saving: `_Weight.addObjects`, called by reportlab when it writes the fonts into the file, builds a
  small static font of the characters the document used at the weight (each glyph drawn from the
  variable font at that weight once per process, about 0.3 ms a glyph) and reportlab embeds it as
  before, as subsets of at most 256 glyphs.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from io import BytesIO
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from fontTools.fontBuilder import FontBuilder
from fontTools.misc.roundTools import otRound
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont as FtFont
from fontTools.ttLib.tables._g_l_y_f import Glyph
from fontTools.varLib.models import normalizeLocation, piecewiseLinearMap
from fontTools.varLib.varStore import VarStoreInstancer
from reportlab import rl_config
from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import SUBSETN, TTEncoding, TTFont, TTFontFace, makeToUnicodeCMap

FONT = "NotoSansSC"  # weight 400: text
BOLD = "NotoSansSC-Bold"  # weight 700: headings, <b>
WEIGHTS = {FONT: 400, BOLD: 700}
PACKAGE = "justmytype_intl_cjk"
FILE = "fonts/ofl/notosanssc/NotoSansSC[wght].ttf"
_lock = threading.RLock()


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


class _Source:
    """The variable font as fontTools reads it, loaded once per process (lazily: only the glyphs a
    document prints are ever read), and the static glyphs drawn from it so far, per weight."""

    def __init__(self) -> None:
        self.font = FtFont(str(font_path()), lazy=True)
        self.order = self.font.getGlyphOrder()
        self.cmap: dict[int, str] = self.font.getBestCmap()
        self.glyph_sets: dict[int, Any] = {}
        # (weight, glyph name) → (static glyph, advance width)
        self.glyphs: dict[tuple[int, str], tuple[Glyph, int]] = {}

    def glyph(self, weight: int, name: str) -> tuple[Glyph, int]:
        key = (weight, name)
        if key not in self.glyphs:
            if weight not in self.glyph_sets:
                self.glyph_sets[weight] = self.font.getGlyphSet(location={"wght": weight})
            varied = self.glyph_sets[weight][name]
            pen = TTGlyphPen(None)
            varied.draw(pen)
            self.glyphs[key] = (pen.glyph(), otRound(varied.width))
        return self.glyphs[key]

    def advance_widths(self, weight: int) -> list[int]:
        """Advance width (font units) of every glyph, by glyph id, at `weight`, from the HVAR table."""
        font = self.font
        axes = font["fvar"].axes
        location = normalizeLocation(
            {"wght": weight}, {a.axisTag: (a.minValue, a.defaultValue, a.maxValue) for a in axes}
        )
        if "avar" in font:
            location = {tag: piecewiseLinearMap(v, font["avar"].segments[tag]) for tag, v in location.items()}
        hvar = font["HVAR"].table
        deltas = VarStoreInstancer(hvar.VarStore, axes, location)
        mapping = hvar.AdvWidthMap.mapping if hvar.AdvWidthMap else None
        hmtx = font["hmtx"].metrics
        return [
            hmtx[name][0] + otRound(deltas[mapping[name] if mapping is not None else gid])
            for gid, name in enumerate(self.order)
        ]

    def static_font(self, weight: int, codes: frozenset[int]) -> bytes:
        """A static TrueType font of the characters `codes` at `weight`."""
        cmap = {code: self.cmap[code] for code in codes if code in self.cmap}
        names = [".notdef", *sorted(set(cmap.values()) - {".notdef"}, key=self.font.getGlyphID)]
        drawn = {name: self.glyph(weight, name) for name in names}
        glyphs = {name: glyph for name, (glyph, _width) in drawn.items()}
        source_os2, source_name = self.font["OS/2"], self.font["name"]
        builder = FontBuilder(self.font["head"].unitsPerEm, isTTF=True)
        builder.setupGlyphOrder(names)
        builder.setupCharacterMap(cmap)
        builder.setupGlyf(glyphs)
        builder.setupHorizontalMetrics(
            {name: (width, getattr(glyphs[name], "xMin", 0)) for name, (_glyph, width) in drawn.items()}
        )
        hhea = self.font["hhea"]
        builder.setupHorizontalHeader(ascent=hhea.ascent, descent=hhea.descent, lineGap=hhea.lineGap)
        # The copyright and licence notices of the font software travel with every copy (SIL OFL).
        kept = {
            record.nameID: record.toUnicode()
            for record in source_name.names
            if record.nameID in (0, 7, 8, 9, 11, 12, 13, 14) and record.platformID == 3
        }
        style = _style(weight)
        builder.setupNameTable(
            {
                "familyName": "Noto Sans SC",
                "styleName": style,
                "psName": f"NotoSansSC-{style}",
                **{_NAME_KEYS[k]: v for k, v in kept.items() if k in _NAME_KEYS},
            }
        )
        builder.setupOS2(
            usWeightClass=weight,
            fsType=source_os2.fsType,
            sTypoAscender=source_os2.sTypoAscender,
            sTypoDescender=source_os2.sTypoDescender,
            sTypoLineGap=source_os2.sTypoLineGap,
            usWinAscent=source_os2.usWinAscent,
            usWinDescent=source_os2.usWinDescent,
            sxHeight=source_os2.sxHeight,
            sCapHeight=source_os2.sCapHeight,
            fsSelection=0x20 if style == "Bold" else 0x40,
        )
        builder.setupPost()
        builder.font["head"].macStyle = 1 if style == "Bold" else 0
        out = BytesIO()
        builder.font.save(out)
        return out.getvalue()


def _style(weight: int) -> str:
    return "Bold" if weight >= 700 else "Regular"


_NAME_KEYS = {
    0: "copyright",
    7: "trademark",
    8: "manufacturer",
    9: "designer",
    11: "vendorURL",
    12: "designerURL",
    13: "licenseDescription",
    14: "licenseInfoURL",
}
_source: _Source | None = None


def _the_source() -> _Source:
    global _source
    with _lock:
        if _source is None:
            _source = _Source()
        return _source


def advance_widths(weight: int) -> list[int]:
    """Advance width (font units) of every glyph of the variable font, by glyph id, at `weight`."""
    source = _the_source()
    with _lock:
        return source.advance_widths(weight)


@lru_cache(maxsize=8)
def instance_bytes(weight: int, codes: frozenset[int]) -> bytes:
    """A static TrueType font of the characters `codes` at `weight` (each glyph drawn once per process
    and weight; the font kept for the same set of characters: a document printed twice costs it once)."""
    source = _the_source()
    with _lock:
        return source.static_font(weight, codes)


class _Weight(TTFont):
    """reportlab's TrueType font, at one weight of the variable font (see the module's docstring)."""

    def __init__(self, name: str, variable: TTFontFace, weight: int) -> None:
        # TTFont.__init__ would parse the 17 MB file again: both weights share the variable font's face,
        # each with its own widths and PostScript name.
        face = copy.copy(variable)
        widths = advance_widths(weight)
        scale = 1000 / variable.unitsPerEm
        face.charWidths = {code: round(widths[gid] * scale) for code, gid in variable.charToGlyph.items()}
        face.defaultWidth = round(widths[0] * scale)
        face.name = f"NotoSansSC-{_style(weight)}".encode()
        self.fontName = name
        self.face = face
        self.weight = weight
        self.encoding = TTEncoding()
        self.state: WeakKeyDictionary[Any, Any] = WeakKeyDictionary()
        self._asciiReadable = rl_config.ttfAsciiReadable
        self.shapable = False

    def addObjects(self, doc: Any) -> None:
        """reportlab's TTFont.addObjects, embedding the glyphs of this weight's instance of the characters
        the document used (instead of the variable font's default instance)."""
        try:
            state = self.state[doc]
        except KeyError:
            state = self.state[doc] = TTFont.State(bool(self._asciiReadable))
        state.frozen = 1
        face = TTFontFace(BytesIO(instance_bytes(self.weight, used_codes(state.subsets))))
        face.name = self.face.name
        for n, subset in enumerate(state.subsets):
            internal_name = self.getSubsetInternalName(n, doc)[1:]
            base_font_name = (b"".join((SUBSETN(n), b"+", face.name, face.subfontNameX))).decode("pdfdoc")
            pdf_font: Any = pdfdoc.PDFTrueTypeFont()
            pdf_font.__Comment__ = f"Font {self.fontName} subset {n}"
            pdf_font.Name = internal_name
            pdf_font.BaseFont = base_font_name
            pdf_font.FirstChar = 0
            pdf_font.LastChar = len(subset) - 1
            pdf_font.Widths = pdfdoc.PDFArray(list(map(self.face.getCharWidth, subset)))
            cmap_stream = pdfdoc.PDFStream()
            cmap_stream.content = makeToUnicodeCMap(base_font_name, subset)
            if doc.compression:
                cmap_stream.filters = [pdfdoc.PDFZCompress]
            pdf_font.ToUnicode = doc.Reference(cmap_stream, "toUnicodeCMap:" + base_font_name)
            pdf_font.FontDescriptor = face.addSubsetObjects(doc, base_font_name, subset)
            doc.Reference(pdf_font, internal_name)
            doc.idToObject["BasicFonts"].dict[internal_name] = pdf_font
        del self.state[doc]


def used_codes(subsets: Iterable[Iterable[int]]) -> frozenset[int]:
    """The characters of reportlab's subsets (code 0 stands for the missing glyph, not a character)."""
    return frozenset(code for subset in subsets for code in subset if code)


def register() -> str:
    """Register both weights once per process and return the text font's name for reportlab styles.

    <b> in a paragraph maps to the bold weight; there is no italic (it maps to the upright weights)."""
    with _lock:
        if BOLD not in pdfmetrics.getRegisteredFontNames():
            variable = TTFontFace(str(font_path()))
            pdfmetrics.registerFont(_Weight(FONT, variable, WEIGHTS[FONT]))
            pdfmetrics.registerFont(_Weight(BOLD, variable, WEIGHTS[BOLD]))
            for italic in (0, 1):
                addMapping(FONT, 0, italic, FONT)
                addMapping(FONT, 1, italic, BOLD)
                addMapping(BOLD, 0, italic, BOLD)
                addMapping(BOLD, 1, italic, BOLD)
    return FONT


def register_bold() -> str:
    register()
    return BOLD
