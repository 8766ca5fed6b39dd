"""Chinese text attachments: the sniffer reads the first 8 KB, which usually ends inside a character.
UTF-8, GB18030 (GBK) and UTF-16 with a byte-order mark count as text; binary does not."""

from __future__ import annotations

import codecs
import io
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import given
from hypothesis import strategies as st

from closeloop.complaints.models import Complaint
from closeloop.complaints.services import AttachmentUpload, complaint_attach
from closeloop.complaints.sniff import HEAD_BYTES, content_type_sniff, looks_like_text

# Any printable character (CJK, Latin, punctuation, emoji…) plus the layout controls text files hold.
TEXT = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
        st.characters(blacklist_categories=("Cc", "Cs")),
        st.sampled_from("\n\r\t"),
    ),
    max_size=200,
)
ENCODINGS = ("utf-8", "gb18030", "gbk", "utf-16")


def _encodable(text: str, encoding: str) -> bytes | None:
    try:
        return text.encode(encoding)
    except UnicodeEncodeError:  # GBK lacks most of Unicode; GB18030 and the UTFs have all of it
        return None


@given(text=TEXT, encoding=st.sampled_from(ENCODINGS))
def test_text_cut_at_any_offset_is_still_text(text: str, encoding: str) -> None:
    data = _encodable(text, encoding)
    if data is None:
        return
    assert looks_like_text(data, complete=True)
    start = 2 if encoding == "utf-16" else 0  # a UTF-16 head keeps its byte-order mark
    for cut in range(start, len(data) + 1):
        assert looks_like_text(data[:cut], complete=False), (encoding, cut)


def test_a_whole_file_must_end_on_a_whole_character() -> None:
    cut = "说明".encode()[:-1]  # neither UTF-8 nor GB18030 when nothing follows

    assert looks_like_text(cut, complete=False)
    assert not looks_like_text(cut, complete=True)


@pytest.mark.parametrize(
    "head",
    [
        b"\x00\x01\x02\x03" * 100,  # NULs decode as UTF-8 but are not text
        bytes(range(256)) * 4,
        "正常文字".encode() + b"\x00" + "然后是二进制".encode(),
        b"\x80\x81\xfe\xff" * 50,
    ],
)
def test_binary_is_not_text(head: bytes) -> None:
    assert not looks_like_text(head, complete=True)
    assert not looks_like_text(head, complete=False)


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
@pytest.mark.parametrize("ascii_prefix", [0, 1, 2, 3])
def test_chinese_txt_over_8_kb_is_accepted_wherever_the_head_ends(
    agent: User, make_complaint: Callable[..., Complaint], encoding: str, ascii_prefix: int
) -> None:
    complaint = make_complaint()
    content = ("x" * ascii_prefix + "客户来电反映吸顶灯通电后不亮，已安排上门检查。\n" * 400).encode(encoding)
    assert len(content) > HEAD_BYTES
    upload = SimpleUploadedFile("通话记录.txt", content, content_type="text/plain")

    attachment = complaint_attach(
        complaint=complaint,
        upload=AttachmentUpload(name=upload.name, file=upload, size=upload.size, kind="other"),
        actor=agent,
        via="desk",
    )

    assert attachment.content_type == "text/plain"


def test_text_is_only_text_with_a_txt_name() -> None:
    content = "说明".encode() * 10
    assert content_type_sniff(io.BytesIO(content), name="说明.txt", size=len(content)) == "text/plain"
    assert content_type_sniff(io.BytesIO(content), name="说明.html", size=len(content)) is None


def test_utf16_needs_its_byte_order_mark() -> None:
    content = codecs.BOM_UTF16_LE + "说明文字".encode("utf-16-le")
    assert looks_like_text(content, complete=True)
