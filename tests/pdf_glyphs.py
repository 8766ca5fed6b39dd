"""What a PDF's own fonts can draw: every font embedded, and a glyph for every character printed.

A viewer draws a character with the glyph the embedded font file holds for its code; reportlab writes
glyph 0 (.notdef, a box or nothing) for a character the font lacks. The ToUnicode map of each font
lists the characters printed with it, so checking each of its codes against the embedded font's own
character map covers every character on every page (charts included)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from io import BytesIO
from typing import Any

from fontTools.pens.areaPen import AreaPen
from fontTools.ttLib import TTFont
from pypdf import PdfReader
from pypdf.generic import ByteStringObject, ContentStream, DictionaryObject, IndirectObject, TextStringObject

_BFCHAR = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>")
_BFRANGE = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>")
EMBEDDED = ("/FontFile", "/FontFile2", "/FontFile3")


def _resolve(value: Any) -> Any:
    return value.get_object() if isinstance(value, IndirectObject) else value


def _fonts(resources: Any, seen: set[int]) -> Iterator[DictionaryObject]:
    resources = _resolve(resources)
    if not resources:
        return
    for font in _resolve(resources.get("/Font", {})).values():
        yield _resolve(font)
    for xobject in _resolve(resources.get("/XObject", {})).values():
        obj = _resolve(xobject)
        if id(obj) not in seen and obj.get("/Subtype") == "/Form":
            seen.add(id(obj))
            yield from _fonts(obj.get("/Resources"), seen)


def pdf_fonts(content: bytes) -> dict[str, DictionaryObject]:
    reader = PdfReader(BytesIO(content))
    found: dict[str, DictionaryObject] = {}
    seen: set[int] = set()
    for page in reader.pages:
        for font in _fonts(page.get("/Resources"), seen):
            found[str(font.get("/BaseFont"))] = font
    return found


def _descriptor(font: DictionaryObject) -> DictionaryObject:
    if font.get("/Subtype") == "/Type0":
        font = _resolve(font["/DescendantFonts"][0])
    return _resolve(font.get("/FontDescriptor", DictionaryObject()))


def unembedded(content: bytes) -> set[str]:
    """The fonts that show text but whose file is not in the PDF (the viewer substitutes something).

    reportlab names Helvetica in every page's resources; only a font that shows a character counts."""
    fonts = pdf_fonts(content)
    used = {name for name, _code in _shown(content)}
    return {name for name in used if not any(k in _descriptor(fonts[name]) for k in EMBEDDED)}


def _printed(font: DictionaryObject) -> dict[int, str]:
    """code → the character printed with it, from the font's ToUnicode map."""
    cmap = _resolve(font.get("/ToUnicode"))
    if cmap is None:
        return {}
    data = cmap.get_data()
    codes: dict[int, str] = {}
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        for low, high, start in _BFRANGE.findall(block):
            for offset in range(int(high, 16) - int(low, 16) + 1):
                codes[int(low, 16) + offset] = chr(int(start, 16) + offset)
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        for code, text in _BFCHAR.findall(block):
            codes[int(code, 16)] = bytes.fromhex(text.decode()).decode("utf-16-be")
    return codes


def _shown(content: bytes) -> Iterator[tuple[str, int]]:
    """(font resource name, code) of every character the pages' content streams show."""
    reader = PdfReader(BytesIO(content))
    for page in reader.pages:
        fonts = {str(k): v for k, v in _resolve(_resolve(page.get("/Resources")).get("/Font", {})).items()}
        current = ""
        for operands, operator in ContentStream(page.get_contents(), reader).operations:
            if operator == b"Tf":
                current = str(fonts[str(operands[0])].get("/BaseFont"))
            elif operator in (b"Tj", b"'", b'"'):
                yield from ((current, code) for code in bytes(operands[-1].original_bytes))
            elif operator == b"TJ":
                for item in operands[0]:
                    if isinstance(item, (ByteStringObject, TextStringObject)):
                        yield from ((current, code) for code in bytes(item.original_bytes))


def missing_glyphs(content: bytes) -> set[str]:
    """Characters shown with glyph 0 (.notdef: a box or nothing) of their embedded TrueType font."""
    fonts = pdf_fonts(content)
    faces: dict[str, tuple[dict[int, int], dict[int, str]] | None] = {}
    missing: set[str] = set()
    for name, code in _shown(content):
        if name not in faces:
            descriptor = _descriptor(fonts[name])
            if "/FontFile2" not in descriptor:  # not embedded: `unembedded` reports it
                faces[name] = None
                continue
            face = TTFont(BytesIO(_resolve(descriptor["/FontFile2"]).get_data()))
            cmap: dict[int, int] = {}
            for table in face["cmap"].tables:
                cmap.update({c: face.getGlyphID(g) for c, g in table.cmap.items()})
            faces[name] = (cmap, _printed(fonts[name]))
        known = faces[name]
        if known is None:
            continue
        cmap, printed = known
        char = printed.get(code, f"<code {code} of {name}>")
        char = "<a character the font lacks>" if char == "\x00" else char
        if not char.isspace() and cmap.get(code, 0) == 0:
            missing.add(char)
    return missing


def shown_characters(content: bytes) -> set[str]:
    """Every character the pages show (through each font's ToUnicode map)."""
    fonts = pdf_fonts(content)
    maps = {name: _printed(font) for name, font in fonts.items()}
    return {maps[name].get(code, "?") for name, code in _shown(content)}


def embedded_faces(content: bytes) -> dict[str, TTFont]:
    """The embedded TrueType font file of every font that shows text, by its PDF name."""
    fonts = pdf_fonts(content)
    used = {name for name, _code in _shown(content)}
    faces = {}
    for name in sorted(used):
        descriptor = _descriptor(fonts[name])
        if "/FontFile2" in descriptor:
            faces[name] = TTFont(BytesIO(_resolve(descriptor["/FontFile2"]).get_data()))
    return faces


def weights(content: bytes) -> set[int]:
    """The weights (OS/2 usWeightClass) of the embedded fonts that show text."""
    return {face["OS/2"].usWeightClass for face in embedded_faces(content).values()}


def glyph_area(content: bytes, char: str) -> dict[int, float]:
    """weight → the inked area (font units²) of `char`'s glyph in each embedded font that prints it."""
    fonts = pdf_fonts(content)
    areas: dict[int, float] = {}
    for name, face in embedded_faces(content).items():
        codes = [code for code, printed in _printed(fonts[name]).items() if printed == char]
        if not codes:
            continue
        glyph_name = _codes(face)[codes[0]]
        pen = AreaPen(face.getGlyphSet())
        face.getGlyphSet()[glyph_name].draw(pen)
        areas[face["OS/2"].usWeightClass] = abs(pen.value)
    return areas


def width_mismatches(content: bytes) -> set[str]:
    """Characters whose width in the PDF (what the layout used) is not their embedded glyph's advance width."""
    fonts = pdf_fonts(content)
    wrong = set()
    for name, face in embedded_faces(content).items():
        font = fonts[name]
        first = int(font.get("/FirstChar", 0))
        scale = 1000 / face["head"].unitsPerEm
        cmap, printed = _codes(face), _printed(font)
        for offset, width in enumerate(font.get("/Widths", [])):
            code = first + offset
            if code in cmap and round(face["hmtx"][cmap[code]][0] * scale) != int(width):
                wrong.add(printed.get(code, f"<code {code} of {name}>"))
    return wrong


def _codes(face: TTFont) -> dict[int, str]:
    """code → glyph name, from every table of the font's cmap (reportlab writes Mac and Windows symbol ones)."""
    names: dict[int, str] = {}
    for table in face["cmap"].tables:
        names.update(table.cmap)
    return names
