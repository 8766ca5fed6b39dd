"""Raw messages as Chinese mail clients write them, built byte by byte so that each charset label and
encoding is exactly what the test says (the `email` package would re-encode them its own way)."""

from __future__ import annotations

import base64
import itertools

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
EXE = b"MZ\x90\x00" + bytes(200)
_seq = itertools.count(1)


def encoded_word(text: str, charset: str) -> str:
    return f"=?{charset}?B?{base64.b64encode(text.encode(charset)).decode()}?="


def message_id(domain: str = "customer.example.cn") -> str:
    return f"<m{next(_seq)}.{id(object())}@{domain}>"


def mail(
    *,
    subject: str = "吸顶灯不亮",
    body: str = "您好，我买的吸顶灯通电后不亮。",
    charset: str = "utf-8",
    subject_charset: str | None = None,
    sender: str = "wang.fang@customer.example.cn",
    sender_name: str = "王芳",
    msgid: str | None = None,
    headers: dict[str, str] | None = None,
    html: bool = False,
    attachments: list[tuple[str, str, bytes]] = (),  # type: ignore[assignment]
    filename_charset: str = "utf-8",
    date: str = "Sun, 06 Dec 2026 10:00:00 +0800",
) -> bytes:
    """A message with a base64 text (or HTML) body in `charset` and the attachments as (name, type, bytes)."""
    subject_charset = subject_charset or charset
    lines = [
        f"From: {encoded_word(sender_name, subject_charset)} <{sender}>",
        "To: complaints@factory.example.com",
        f"Subject: {encoded_word(subject, subject_charset)}",
        f"Date: {date}",
        f"Message-ID: {msgid or message_id()}",
        "MIME-Version: 1.0",
    ]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    subtype = "html" if html else "plain"
    text_part = [
        f'Content-Type: text/{subtype}; charset="{charset}"',
        "Content-Transfer-Encoding: base64",
        "",
        base64.encodebytes(body.encode(charset)).decode(),
    ]
    if not attachments:
        return ("\r\n".join(lines + text_part)).encode("ascii")
    boundary = f"==b{next(_seq)}=="
    lines.append(f'Content-Type: multipart/mixed; boundary="{boundary}"')
    lines += ["", f"--{boundary}", *text_part]
    for name, ctype, content in attachments:
        lines += [
            f"--{boundary}",
            f'Content-Type: {ctype}; name="{encoded_word(name, filename_charset)}"',
            f'Content-Disposition: attachment; filename="{encoded_word(name, filename_charset)}"',
            "Content-Transfer-Encoding: base64",
            "",
            base64.encodebytes(content).decode(),
        ]
    lines.append(f"--{boundary}--")
    return "\r\n".join(lines).encode("ascii")


def bounce(returned_message_id: str) -> bytes:
    boundary = "==bounce=="
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\r\n"
        "To: complaints@factory.example.com\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: {message_id('mx.example.com')}\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n\r\n'
        f"--{boundary}\r\nContent-Type: text/plain\r\n\r\nThe mail system could not deliver your message.\r\n"
        f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.com\r\n\r\nFinal-Recipient: rfc822; nobody@customer.example.cn\r\n"
        "Action: failed\r\nStatus: 5.1.1\r\n"
        f"--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        "From: complaints@factory.example.com\r\nTo: nobody@customer.example.cn\r\n"
        f"Subject: [TS20261206-0001] received\r\nMessage-ID: {returned_message_id}\r\n"
        f"--{boundary}--\r\n"
    ).encode("ascii")
