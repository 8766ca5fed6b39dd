"""Call-centre fixtures: the desk's and the API's clients (in English), and minimal audio files."""

from __future__ import annotations

import struct

from tests.api.conftest import agent_api, api_client_for  # noqa: F401 - fixtures shared with the API tests
from tests.desk.conftest import _english, agent_client, client_for  # noqa: F401 - the desk's fixtures


def wav(samples: int = 800) -> bytes:
    """A RIFF/WAVE file: 8 kHz mono 16-bit PCM, `samples` of silence."""
    data = b"\x00\x00" * samples
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def mp3(frames: int = 4) -> bytes:
    """MPEG-1 Layer III frames (128 kbit/s, 44.1 kHz: 417 bytes each) behind an empty ID3v2.4 tag."""
    frame = b"\xff\xfb\x90\x00" + b"\x00" * 413
    return b"ID3\x04\x00\x00\x00\x00\x00\x00" + frame * frames


def mp3_without_tag(frames: int = 4) -> bytes:
    return b"\xff\xfb\x90\x00" + b"\x00" * 413 + (b"\xff\xfb\x90\x00" + b"\x00" * 413) * (frames - 1)


def amr(frames: int = 10) -> bytes:
    """AMR narrow-band: the "#!AMR\\n" magic, then frames of 12.2 kbit/s (header 0x3C, 31 bytes of speech)."""
    return b"#!AMR\n" + (b"\x3c" + b"\x00" * 31) * frames


def m4a() -> bytes:
    """An MP4 container with the M4A brand: the ftyp box and an empty mdat."""
    ftyp = b"ftyp" + b"M4A " + struct.pack(">I", 0) + b"M4A " + b"isom" + b"mp42"
    mdat = b"mdat" + b"\x00" * 64
    return struct.pack(">I", len(ftyp) + 4) + ftyp + struct.pack(">I", len(mdat) + 4) + mdat
