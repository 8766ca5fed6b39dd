"""Text out of an e-mail as Chinese mailboxes write it: charsets decoded by what the bytes are rather
than by what the label claims, HTML turned into plain text, and a reply cut before the quoted earlier mail.

Chinese mail clients label GBK text `gb2312` (GBK and GB18030 are supersets of GB2312; a name such as
镕 or 喆 is outside GB2312), so every label of that family is decoded as GB18030, and Big5 as Big5-HKSCS,
its superset. An unknown or missing label is tried as UTF-8 and then GB18030; what still fails is
replaced, never raised.
"""

from __future__ import annotations

import codecs
import re
from html.parser import HTMLParser

from email_reply_parser import EmailReplyParser

# Labels whose text is decoded with a superset codec.
SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "ms936": "gb18030",
    "euc-cn": "gb18030",
    "gb_2312-80": "gb18030",
    "csgb2312": "gb18030",
    "hz-gb-2312": "hz",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
    "cp950": "big5hkscs",
    "us-ascii": "utf-8",  # 8-bit text labelled ASCII is almost always UTF-8
    "ascii": "utf-8",
}
FALLBACKS = ("utf-8", "gb18030")


def codec_for(label: str | None) -> str | None:
    """The codec to decode text labelled `label` with; None when Python knows no such charset."""
    if not label:
        return None
    label = label.strip().strip('"').lower()
    label = SUPERSETS.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def decode_text(data: bytes, label: str | None) -> str:
    """`data` as text: by its label (or the label's superset), else UTF-8, else GB18030, else UTF-8 with
    replacement characters."""
    codec = codec_for(label)
    for candidate in (codec, *FALLBACKS) if codec else FALLBACKS:
        try:
            return without_nul(data.decode(candidate))
        except (UnicodeDecodeError, LookupError):
            continue
    return without_nul(data.decode(codec or "utf-8", errors="replace"))


def without_nul(text: str) -> str:
    """`text` without NUL characters: PostgreSQL's text columns refuse them, and junk or a broken charset
    brings them (the raw original, attached, keeps every byte)."""
    return text.replace("\x00", "")


# --- HTML -----------------------------------------------------------------------------------------

_BLOCKS = frozenset(
    [
        "p",
        "div",
        "br",
        "tr",
        "li",
        "ul",
        "ol",
        "table",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "pre",
        "section",
        "article",
        "header",
        "footer",
        "hr",
    ]
)
_SKIPPED = frozenset({"script", "style", "head", "title", "noscript", "template"})


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self.skipping += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """The text a reader sees: no tags, no scripts or styles, entities resolved, one line per block."""
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    lines = (re.sub(r"[ \t\r\f\v\u00a0]+", " ", line).strip() for line in "".join(collector.parts).split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# --- replies --------------------------------------------------------------------------------------

# Where the quoted earlier mail starts in what Chinese (and other) clients write under a reply.
_QUOTE_STARTS = re.compile(
    r"""^(?:
        在.{0,120}写道\s*[:：]\s*$                              # Foxmail, QQ, 163: 在 2026年12月6日 …，张三 写道：
      | \s*-{2,}\s*(?:原始邮件|Original\ Message|Forwarded\ message|转发邮件)\s*-{2,}\s*$
      | \s*-{2,}\s*回复的原邮件\s*-{2,}\s*$
      | 发件人\s*[:：].*$                                       # Outlook in Chinese: 发件人: / 发送时间: / 收件人:
      | On\ .{0,200}\ wrote:\s*$
      | _{10,}\s*$                                             # Outlook's rule above its From: block
    )""",
    re.MULTILINE | re.VERBOSE,
)
# An English "From:" block counts only when the header lines of a quoted mail follow it.
_FROM_BLOCK = re.compile(r"^From\s*:.*\n(?:.*\n){0,3}?(?:Sent|Date|To|Subject|Cc)\s*:", re.MULTILINE | re.IGNORECASE)


def reply_text(text: str) -> str:
    """The new text of a reply: the quoted earlier mail removed (`>` lines and the quote headers of
    English clients by email-reply-parser, then everything from the first Chinese or Outlook quote
    header on), signatures kept out. Empty when the reply holds nothing new."""
    text = text.replace("\r\n", "\n")
    cut = len(text)
    for pattern in (_QUOTE_STARTS, _FROM_BLOCK):
        match = pattern.search(text)
        if match is not None:
            cut = min(cut, match.start())
    text = text[:cut]
    return EmailReplyParser.parse_reply(text).strip() if text.strip() else ""
