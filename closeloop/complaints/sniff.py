"""What an uploaded file is, decided from its first bytes rather than its name or the browser's claim.

Binary formats are recognised by their signature (`filetype`). Anything else is text when its head
decodes in one of TEXT_ENCODINGS and holds no control characters but layout ones: UTF-8 (what current
systems write), GB18030 (a superset of GBK and GB2312, what Chinese Windows saves as "ANSI") and UTF-16
with its byte-order mark (Notepad's "Unicode"). Only the head is read, so it usually ends inside a
character: an unfinished multi-byte sequence at the very end of a cut head is not a decoding error.
"""

from __future__ import annotations

import codecs
import re
from typing import IO

import filetype

HEAD_BYTES = 8192
# Call recordings and voice messages, as `filetype` names them: WAV, MP3 (an ID3 tag or an MPEG frame
# header), AMR ("#!AMR", what Chinese phones and many call-centre systems record) and M4A (the "M4A "
# brand of an MP4 container). Accepted besides ATTACHMENT_ALLOWED_TYPES, up to AUDIO_MAX_BYTES.
AUDIO_TYPES = frozenset({"audio/x-wav", "audio/mpeg", "audio/amr", "audio/mp4"})
# What desk browsers play in an <audio> element; AMR is offered as a download only.
PLAYABLE_AUDIO_TYPES = frozenset({"audio/x-wav", "audio/mpeg", "audio/mp4"})
TEXT_ENCODINGS = ("utf-8-sig", "gb18030")
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# C0 controls other than tab, line feed, vertical tab, form feed, carriage return, SUB (the DOS end of
# file) and ESC (colour codes in logs): a NUL or a BEL says binary, whatever decodes.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x19\x1c-\x1f\x7f]")


def _decodes(head: bytes, encoding: str, *, complete: bool) -> str | None:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        return decoder.decode(head, final=complete)
    except UnicodeDecodeError:
        return None


def looks_like_text(head: bytes, *, complete: bool) -> bool:
    """Whether `head` is text. `complete` says it is the whole file; otherwise it is the start of a
    longer one and may end in the middle of a character."""
    encodings = ("utf-16",) if head.startswith(UTF16_BOMS) else TEXT_ENCODINGS
    for encoding in encodings:
        text = _decodes(head, encoding, complete=complete)
        if text is not None:
            return not _CONTROL.search(text)
    return False


def content_type_sniff(file: IO[bytes], *, name: str, size: int) -> str | None:
    """The MIME type of an upload from its content; text only for a `.txt` name. None when unknown.
    Leaves the file at its start."""
    head = file.read(HEAD_BYTES)
    file.seek(0)
    kind = filetype.guess(head)
    if kind is not None:
        return str(kind.mime)
    if name.lower().endswith(".txt") and looks_like_text(head, complete=size <= len(head)):
        return "text/plain"
    return None
