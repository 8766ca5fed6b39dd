"""One raw RFC 5322 message → what intake needs of it (`ParsedMail`). Never raises on bad input: what
cannot be read is reported in `problems`, and intake turns such a mail into a complaint to triage.

Parsed with `email` and `policy.default`; headers and text parts are decoded here (closeloop/mailin/
text.py) rather than by the charset label alone, because Chinese clients label GBK text `gb2312`.
"""

from __future__ import annotations

import datetime
import email
import email.header
import email.message
import email.policy
import email.utils
import hashlib
import re
from dataclasses import dataclass, field

from closeloop.mailin.text import decode_text, html_to_text, without_nul

MESSAGE_ID = re.compile(r"<[^<>\s]+>")
# Nesting deeper than this is not a mail anyone wrote; the rest is kept only in the original.
MAX_DEPTH = 8


@dataclass(frozen=True)
class ParsedAttachment:
    name: str
    content: bytes
    declared_type: str


@dataclass
class ParsedMail:
    message_id: str
    subject: str = ""
    sender_name: str = ""
    sender_address: str = ""
    date: datetime.datetime | None = None
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    text: str = ""
    attachments: list[ParsedAttachment] = field(default_factory=list)
    # Why no reply may ever be sent to it and no complaint made of it ("" when it is a person's mail).
    auto_reply: str = ""
    bounce: bool = False
    # The Message-IDs of the returned message(s) a bounce quotes.
    bounced_ids: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def thread_ids(self) -> list[str]:
        """Every Message-ID this mail answers, nearest first."""
        seen: list[str] = []
        for message_id in [*self.in_reply_to, *reversed(self.references)]:
            if message_id not in seen:
                seen.append(message_id)
        return seen


def synthetic_message_id(raw: bytes) -> str:
    """For a mail without a Message-ID: the same bytes get the same id, so a second delivery is a duplicate."""
    return f"<{hashlib.sha256(raw).hexdigest()[:40]}@no-message-id>"


def _raw_headers(part: email.message.Message, name: str) -> list[str]:
    return [str(value) for key, value in part.raw_items() if key.lower() == name.lower()]


def _unescape_8bit(value: str) -> str:
    """A header written in raw 8-bit (no encoded words) is surrogate-escaped by the parser: decode its bytes."""
    if not any("\udc80" <= char <= "\udcff" for char in value):
        return value
    return decode_text(value.encode("ascii", "surrogateescape"), None)


def decode_header_value(value: str) -> str:
    """An RFC 2047 header (encoded words in any charset, or raw 8-bit) as text, on one line."""
    value = without_nul(_unescape_8bit(value))
    try:
        chunks = email.header.decode_header(value)
    except Exception:  # a malformed encoded word: keep it as written
        return re.sub(r"\s+", " ", value).strip()
    text = []
    for chunk, charset in chunks:
        text.append(decode_text(chunk, charset) if isinstance(chunk, bytes) else chunk)
    return re.sub(r"\s+", " ", "".join(text)).strip()


def header(part: email.message.Message, name: str) -> str:
    values = _raw_headers(part, name)
    return decode_header_value(values[0]) if values else ""


def _message_ids(part: email.message.Message, name: str) -> list[str]:
    return [m for value in _raw_headers(part, name) for m in MESSAGE_ID.findall(value)]


def _param(part: email.message.Message, name: str, header_name: str) -> str:
    """A Content-Type or Content-Disposition parameter (RFC 2231 or RFC 2047 encoded, in any charset)."""
    values = _raw_headers(part, header_name)
    if not values:
        return ""
    legacy = email.message.Message()
    legacy[header_name] = values[0]
    value = legacy.get_param(name, header=header_name)
    if value is None:
        return ""
    if isinstance(value, tuple):  # RFC 2231: (charset, language, percent-decoded text as latin-1)
        charset, _language, text = value
        return decode_text(text.encode("latin-1", "surrogateescape"), charset or None).strip()
    return decode_header_value(email.utils.unquote(value))


def _content_type(part: email.message.Message) -> tuple[str, str]:
    """(type, charset) from the raw header, read the light legacy way: policy.default's header objects
    cost more than the rest of the parse, and only these two values are needed."""
    values = _raw_headers(part, "content-type")
    legacy = email.message.Message()
    if values:
        legacy["Content-Type"] = values[0]
    elif part.get_default_type() == "message/rfc822":
        legacy.set_default_type("message/rfc822")
    charset = legacy.get_content_charset() or ""
    return legacy.get_content_type(), charset if isinstance(charset, str) else ""


def _disposition(part: email.message.Message) -> str:
    values = _raw_headers(part, "content-disposition")
    return values[0].split(";", 1)[0].strip().lower() if values else ""


def _payload(part: email.message.Message) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _text_of(part: email.message.Message) -> str:
    ctype, charset = _content_type(part)
    text = decode_text(_payload(part), charset or None)
    return html_to_text(text) if ctype == "text/html" else text.replace("\r\n", "\n").strip()


def _filename(part: email.message.Message) -> str:
    return _param(part, "filename", "content-disposition") or _param(part, "name", "content-type")


class _Walker:
    """Collects the body and the files of a message part by part: the first plain text (or else HTML)
    of each alternative, every file, and a forwarded message's own body and files under a heading."""

    def __init__(self, mail: ParsedMail) -> None:
        self.mail = mail
        self.texts: list[str] = []

    def walk(self, part: email.message.Message, depth: int = 0) -> None:
        if depth > MAX_DEPTH:
            self.mail.problems.append("nested too deeply")
            return
        ctype, _charset = _content_type(part)
        disposition = _disposition(part)
        if part.is_multipart():
            payload = part.get_payload()
            if not isinstance(payload, list):
                return
            subparts = [sub for sub in payload if isinstance(sub, email.message.Message)]
            if ctype == "multipart/alternative":
                chosen = self._alternative(subparts)
                if chosen is not None:
                    self.walk(chosen, depth + 1)
                return
            if ctype == "message/rfc822":
                for inner in subparts:
                    self._forwarded(inner, depth)
                return
            for sub in subparts:
                self.walk(sub, depth + 1)
            return
        name = _filename(part)
        if name or disposition == "attachment" or ctype.split("/")[0] not in {"text", "multipart"}:
            if ctype in {"message/delivery-status", "text/rfc822-headers"}:
                return
            content = _payload(part)
            if content:
                self.mail.attachments.append(
                    ParsedAttachment(
                        name=name or f"attachment-{len(self.mail.attachments) + 1}",
                        content=content,
                        declared_type=ctype,
                    )
                )
            return
        if ctype in {"text/plain", "text/html"}:
            text = _text_of(part)
            if text:
                self.texts.append(text)

    @staticmethod
    def _alternative(subparts: list[email.message.Message]) -> email.message.Message | None:
        types = [_content_type(sub)[0] for sub in subparts]
        for wanted in ("text/plain", "multipart/related", "multipart/mixed", "text/html"):
            for sub, ctype in zip(subparts, types, strict=True):
                if ctype == wanted and (sub.is_multipart() or _payload(sub).strip()):
                    return sub
        return subparts[-1] if subparts else None

    def _forwarded(self, inner: email.message.Message, depth: int) -> None:
        lines = [
            f"{label}: {value}"
            for label, value in (
                ("From", header(inner, "From")),
                ("Date", header(inner, "Date")),
                ("Subject", header(inner, "Subject")),
            )
            if value
        ]
        self.texts.append("---------- Forwarded message ----------\n" + "\n".join(lines))
        self.walk(inner, depth + 1)


AUTO_SUBMITTED = re.compile(r"^\s*no\s*(?:;|$)", re.IGNORECASE)
BULK_PRECEDENCE = frozenset({"bulk", "junk", "auto_reply", "list"})
DAEMON_SENDERS = re.compile(r"^(?:mailer-daemon|postmaster|mail-daemon|mailerdaemon)@", re.IGNORECASE)


def _auto_reply_reason(message: email.message.Message) -> str:
    auto_submitted = header(message, "Auto-Submitted")
    if auto_submitted and not AUTO_SUBMITTED.match(auto_submitted):
        return f"Auto-Submitted: {auto_submitted}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder"):
        if _raw_headers(message, name):
            return name
    precedence = header(message, "Precedence").lower()
    if precedence in BULK_PRECEDENCE:
        return f"Precedence: {precedence}"
    return ""


def _bounced_ids(message: email.message.Message) -> list[str]:
    """The Message-IDs of the returned message in a bounce: its message/rfc822 or text/rfc822-headers part,
    else any Message-ID line in the bounce's text."""
    ids: list[str] = []
    for part in message.walk():
        if part is message:
            continue
        ctype = part.get_content_type()
        payload = part.get_payload()
        if ctype == "message/rfc822" and isinstance(payload, list):
            for inner in payload:
                if isinstance(inner, email.message.Message):
                    ids += _message_ids(inner, "Message-ID")
        elif ctype == "text/rfc822-headers":
            ids += MESSAGE_ID.findall(
                " ".join(re.findall(r"(?im)^message-id:\s*(.+)$", decode_text(_payload(part), None)))
            )
    if not ids:
        for part in message.walk():
            if part.get_content_maintype() == "text":
                for line in re.findall(r"(?im)^\s*message-id:\s*(<[^<>\s]+>)", decode_text(_payload(part), None)):
                    ids.append(line)
    return list(dict.fromkeys(ids))


def _date(message: email.message.Message) -> datetime.datetime | None:
    value = header(message, "Date")
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=datetime.UTC)


def _sender(message: email.message.Message) -> tuple[str, str]:
    for name in ("From", "Sender", "Reply-To"):
        value = header(message, name)
        if not value:
            continue
        display, address = email.utils.parseaddr(value)
        if "@" in address:
            return display.strip().strip('"'), address.strip().lower()
    return "", ""


def parse_mail(raw: bytes) -> ParsedMail:
    """Everything intake reads from a message; problems are listed, never raised."""
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
    except Exception as exc:  # the parser is lenient; this is the last guard
        mail = ParsedMail(message_id=synthetic_message_id(raw))
        mail.problems.append(f"cannot be parsed: {type(exc).__name__}")
        return mail
    ids = _message_ids(message, "Message-ID")
    mail = ParsedMail(message_id=ids[0] if ids else synthetic_message_id(raw))
    try:
        mail.subject = header(message, "Subject")
        mail.sender_name, mail.sender_address = _sender(message)
        mail.date = _date(message)
        mail.in_reply_to = _message_ids(message, "In-Reply-To")
        mail.references = _message_ids(message, "References")
        mail.auto_reply = _auto_reply_reason(message)
        from_header = header(message, "From")
        return_path = header(message, "Return-Path")
        mail.bounce = (
            message.get_content_type() == "multipart/report"
            or bool(DAEMON_SENDERS.search(email.utils.parseaddr(from_header)[1]))
            or return_path.strip() == "<>"
        )
        if mail.bounce:
            mail.bounced_ids = _bounced_ids(message)
            return mail
        walker = _Walker(mail)
        walker.walk(message)
        mail.text = "\n\n".join(walker.texts).strip()
    except Exception as exc:  # a part no decoder can read: the complaint is made for triage
        mail.problems.append(f"cannot be read: {type(exc).__name__}")
    if not mail.sender_address:
        mail.problems.append("no sender address")
    if not raw.strip() or not any(key for key, _value in message.raw_items()):
        mail.problems.append("no headers")
    return mail
