"""Demo data for the call-centre: a hotline complaint as a CTI pop-up registers it, with the link to
the call's recording in the call-centre system and a short recording attached (a tone made here, a
valid 8 kHz WAV the desk plays). Registered through the intake service; idempotent."""

from __future__ import annotations

import datetime
import io
import math
import struct

from django.contrib.auth import get_user_model
from django.utils import timezone

from closeloop.complaints.models import AttachmentKind, Complaint, Via
from closeloop.complaints.services import AttachmentUpload, IntakeData, complaint_register

DEMO_REF = "demo-cti-"
SAMPLE_RATE = 8000  # telephone quality


def demo_tone_wav(*, seconds: float = 2.0, frequency: float = 440.0) -> bytes:
    """A mono 16-bit PCM WAV of a soft tone that fades out."""
    count = int(SAMPLE_RATE * seconds)
    samples = b"".join(
        struct.pack("<h", int(6000 * (1 - i / count) * math.sin(2 * math.pi * frequency * i / SAMPLE_RATE)))
        for i in range(count)
    )
    fmt = struct.pack("<HHIIHH", 1, 1, SAMPLE_RATE, SAMPLE_RATE * 2, 2, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(samples)) + samples
    return b"RIFF" + struct.pack("<I", len(body)) + body


def demo_hotline_call() -> Complaint | None:
    """The demo's hotline complaint with its recording; None when it exists already or the demo agent is
    missing."""
    agent = get_user_model().objects.filter(username="agent").first()
    if agent is None or Complaint.objects.filter(external_ref__startswith=DEMO_REF).exists():
        return None
    recording = demo_tone_wav()
    now = timezone.now()
    return complaint_register(
        data=IntakeData(
            channel="hotline",
            customer_name="王海燕",
            phone="13600220001",
            province="四川",
            city="成都",
            description="电话反映：新装的吊灯遥控器失灵，按任何键都没有反应，换了电池也不行。",
            type_code="quality",
            priority=3,
            received_at=now - datetime.timedelta(minutes=20),
            demand="更换遥控器",
            external_ref=f"{DEMO_REF}8841",
            recording_url="https://cti.example.com/recordings/8841.wav",
            attachments=[
                AttachmentUpload(
                    name="来电录音-8841.wav",
                    file=io.BytesIO(recording),
                    size=len(recording),
                    kind=AttachmentKind.RECORDING,
                )
            ],
        ),
        actor=agent,
        via=Via.DESK,
    )
