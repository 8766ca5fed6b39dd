"""Parsing like a Chinese mailbox needs: charsets as labelled and as really written, RFC 2047 headers and
file names, HTML-only mails, nested multiparts, forwarded messages, automatic replies and bounces."""

from __future__ import annotations

import base64

from hypothesis import given, settings
from hypothesis import strategies as st

from closeloop.mailin.parse import parse_mail
from closeloop.mailin.text import html_to_text, reply_text
from tests.mailin.samples import EXE, PNG, bounce, encoded_word, mail

# 喆 and 镕 are GBK characters outside GB2312: what a "gb2312" label in the wild holds.
GBK_NAME = "王喆"


def test_utf8_subject_sender_and_body() -> None:
    parsed = parse_mail(mail(subject="投诉：吸顶灯不亮", body="灯不亮了"))
    assert parsed.subject == "投诉：吸顶灯不亮"
    assert (parsed.sender_name, parsed.sender_address) == ("王芳", "wang.fang@customer.example.cn")
    assert parsed.text == "灯不亮了" and not parsed.problems


def test_a_gb2312_label_holding_gbk_characters_is_read_as_gb18030() -> None:
    raw = mail(subject=f"{GBK_NAME}的投诉", body=f"我是{GBK_NAME}，镕铸件有裂纹。", charset="gbk")
    raw = raw.replace(b"?gbk?", b"?gb2312?").replace(b'charset="gbk"', b'charset="gb2312"')
    parsed = parse_mail(raw)
    assert parsed.subject == f"{GBK_NAME}的投诉"
    assert parsed.text == f"我是{GBK_NAME}，镕铸件有裂纹。"


def test_gb18030_and_big5() -> None:
    assert parse_mail(mail(body="灯泡坏了𠀀", charset="gb18030")).text == "灯泡坏了𠀀"
    parsed = parse_mail(mail(subject="燈具投訴", body="燈不亮，請處理。", charset="big5"))
    assert (parsed.subject, parsed.text) == ("燈具投訴", "燈不亮，請處理。")


def test_chinese_attachment_names_in_every_charset() -> None:
    for charset in ("utf-8", "gbk", "big5"):
        name = "裂紋照片.png" if charset == "big5" else "裂纹照片.png"
        parsed = parse_mail(mail(attachments=[(name, "image/png", PNG)], filename_charset=charset))
        assert [(a.name, a.content) for a in parsed.attachments] == [(name, PNG)]


def test_rfc2231_file_name() -> None:
    raw = mail(attachments=[("x.png", "image/png", PNG)])
    raw = raw.replace(
        f'filename="{encoded_word("x.png", "utf-8")}"'.encode(),
        b"filename*=utf-8''%E5%8F%91%E7%A5%A8.pdf",
    )
    assert parse_mail(raw).attachments[0].name == "发票.pdf"


def test_raw_8bit_gbk_subject() -> None:
    raw = b"From: a@b.cn\r\nSubject: " + "灯坏了".encode("gbk") + b"\r\nMessage-ID: <x1@b.cn>\r\n\r\nbody"
    assert parse_mail(raw).subject == "灯坏了"


def test_html_only_mail_becomes_text_without_tags() -> None:
    html = (
        "<html><head><style>p{color:red}</style><script>alert(1)</script></head>"
        "<body><p>灯&nbsp;不亮</p><div>型号：<b>XD-100</b></div><br>谢谢&amp;祝好</body></html>"
    )
    parsed = parse_mail(mail(body=html, html=True))
    assert parsed.text == "灯 不亮\n\n型号：XD-100\n\n谢谢&祝好"
    assert "<" not in parsed.text and "alert" not in parsed.text and "color" not in parsed.text


def test_nested_multipart_alternative_with_related_picture() -> None:
    raw = (
        "From: a@customer.example.cn\r\nSubject: =?utf-8?B?" + base64.b64encode("裂纹".encode()).decode() + "?=\r\n"
        "Message-ID: <nested@customer.example.cn>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="o"\r\n\r\n'
        '--o\r\nContent-Type: multipart/alternative; boundary="a"\r\n\r\n'
        '--a\r\nContent-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'
        "灯罩有裂纹\r\n"
        '--a\r\nContent-Type: multipart/related; boundary="r"\r\n\r\n'
        '--r\r\nContent-Type: text/html; charset="utf-8"\r\n\r\n<p>灯罩有裂纹</p><img src="cid:p1">\r\n'
        "--r\r\nContent-Type: image/png\r\nContent-ID: <p1>\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(PNG).decode()
        + "--r--\r\n--a--\r\n"
        "--o\r\nContent-Type: application/pdf; name=invoice.pdf\r\n"
        "Content-Disposition: attachment; filename=invoice.pdf\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(b"%PDF-1.4 test").decode() + "--o--\r\n"
    ).encode()
    parsed = parse_mail(raw)
    assert parsed.text == "灯罩有裂纹"  # the plain alternative, once
    assert [a.name for a in parsed.attachments] == ["invoice.pdf"]


def test_a_forwarded_message_keeps_its_text_and_files() -> None:
    inner = mail(subject="原始投诉", body="经销商转来的投诉：灯不亮", attachments=[("照片.png", "image/png", PNG)])
    raw = (
        b"From: dealer@dealer.example.cn\r\nSubject: Fwd: =?utf-8?B?"
        + base64.b64encode("原始投诉".encode())
        + b"?=\r\nMessage-ID: <fwd1@dealer.example.cn>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="f"\r\n\r\n--f\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n'
        + "请处理下面的投诉".encode()
        + b"\r\n--f\r\nContent-Type: message/rfc822\r\n\r\n"
        + inner
        + b"\r\n--f--\r\n"
    )
    parsed = parse_mail(raw)
    assert parsed.sender_address == "dealer@dealer.example.cn"
    assert "请处理下面的投诉" in parsed.text and "经销商转来的投诉：灯不亮" in parsed.text
    assert "Subject: 原始投诉" in parsed.text
    assert [a.name for a in parsed.attachments] == ["照片.png"]


def test_attachments_of_any_type_are_found_for_intake_to_check() -> None:
    parsed = parse_mail(mail(attachments=[("setup.exe", "application/octet-stream", EXE)]))
    assert [(a.name, a.declared_type) for a in parsed.attachments] == [("setup.exe", "application/octet-stream")]


def test_automatic_replies() -> None:
    for headers in (
        {"Auto-Submitted": "auto-replied"},
        {"Auto-Submitted": "auto-generated; owner-email=x"},
        {"X-Autoreply": "yes"},
        {"X-Autorespond": "1"},
        {"Precedence": "bulk"},
        {"Precedence": "auto_reply"},
        {"Precedence": "junk"},
        {"Precedence": "list"},
    ):
        assert parse_mail(mail(headers=headers)).auto_reply, headers
    assert not parse_mail(mail(headers={"Auto-Submitted": "no"})).auto_reply


def test_a_bounce_names_the_returned_message() -> None:
    parsed = parse_mail(bounce("<notification-42@closeloop>"))
    assert parsed.bounce and parsed.bounced_ids == ["<notification-42@closeloop>"]
    assert parse_mail(mail(sender="MAILER-DAEMON@mx.example.com")).bounce


def test_threading_headers() -> None:
    parsed = parse_mail(mail(headers={"In-Reply-To": "<b@x>", "References": "<a@x>\r\n <b@x>"}))
    assert parsed.thread_ids == ["<b@x>", "<a@x>"]


def test_junk_is_reported_not_raised() -> None:
    parsed = parse_mail(b"\x00\xff\xfe garbage \x89PNG")
    assert parsed.problems and parsed.message_id.endswith("@no-message-id>")
    assert parse_mail(b"\x00\xff\xfe garbage \x89PNG").message_id == parsed.message_id


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000))
def test_any_bytes_parse_without_raising(raw: bytes) -> None:
    parsed = parse_mail(raw)
    assert parsed.message_id


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300), st.sampled_from(["utf-8", "gb2312", "gbk", "big5", "x-unknown", ""]))
def test_any_header_and_body_text_parse_without_raising(text: str, label: str) -> None:
    raw = ("Subject: =?" + (label or "utf-8") + "?B?").encode() + base64.b64encode(text.encode("utf-8", "replace"))
    raw += b"?=\r\nContent-Type: text/html; charset=" + label.encode() + b"\r\n\r\n" + text.encode("utf-8", "replace")
    parse_mail(raw)
    html_to_text(text)
    reply_text(text)


# --- quoted text ----------------------------------------------------------------------------------


def test_reply_text_cuts_chinese_quote_headers() -> None:
    new = "好的，我明天在家，请安排师傅上门。"
    for quote in (
        "在 2026年12月6日 周日 10:00，客诉中心 <complaints@factory.example.com> 写道：\n> 您的投诉已受理",
        "发件人: 客诉中心 <complaints@factory.example.com>\n发送时间: 2026年12月6日 10:00\n主题: 受理",
        "-----原始邮件-----\n发件人：客诉中心\n主题：受理",
        '------------------ 原始邮件 ------------------\n发件人: "客诉中心"',
        "From: CloseLoop <complaints@factory.example.com>\nSent: Sunday, December 6, 2026 10:00\nTo: me\nSubject: x",
        "On Sun, Dec 6, 2026 at 10:00 AM CloseLoop <complaints@factory.example.com> wrote:\n> received",
        "________________________________\nFrom: CloseLoop\nSent: 2026",
    ):
        assert reply_text(f"{new}\n\n{quote}\n旧的内容") == new, quote


def test_reply_text_without_a_quote_is_kept_whole() -> None:
    text = "我们店里三台灯都坏了。\n在仓库里还有十台，是否也要检查？\n\n李明"
    assert reply_text(text) == text
