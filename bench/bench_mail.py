"""E-mail intake throughput from the MTA entry (`closeloop mail ingest`), on SQLite.

    .venv/bin/python bench/bench_mail.py [--mails 500]          # part of make bench

A fresh database; --mails generated messages as Chinese customers send them (UTF-8, GBK labelled
gb2312, Big5; a third with a photo attached, one in ten HTML-only), of which four in five are new
complaints and the rest replies by the complaint number in the subject, automatic replies and bounces.
They go through the command's code in this process (`call_command("mail", "ingest", file)`: parse,
checks, complaint, attachments, the original kept, the thread), so the figure is the service's, without
starting Python for each mail; the cost of a spawned `closeloop mail ingest` (what a Postfix pipe pays
per mail) is measured separately on a few mails. Target: at least 50 mails/s. Writes
bench/results/mail-sqlite.json.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "bench" / "mail"
RESULTS = ROOT / "bench" / "results"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 16
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
PROBLEMS = ["吸顶灯通电后不亮", "灯罩有裂纹", "驱动电源有异响", "遥控器失灵", "到货包装破损", "安装师傅未按时上门"]


def encoded(text: str, charset: str) -> str:
    return f"=?{charset}?B?{base64.b64encode(text.encode(charset)).decode()}?="


def message(rng: random.Random, i: int, *, subject: str, extra: dict[str, str] | None = None) -> bytes:
    charset = rng.choice(["utf-8", "utf-8", "gbk", "big5"])
    label = "gb2312" if charset == "gbk" else charset
    name = rng.choice(SURNAMES) + rng.choice("伟芳娜敏静丽强磊军洋")
    if charset == "big5":  # Traditional characters; the complaint number of a reply stays
        name, subject = "陳美玲", " ".join([*re.findall(r"\[TS[\d-]+\]", subject), "燈具故障"])
    model, batch = rng.randrange(100, 999), rng.randrange(10000, 99999)
    body = f"您好，{rng.choice(PROBLEMS)}。型号 XD-{model}，批次 B{batch}。请尽快处理。"
    if charset == "big5":
        body = "您好，燈不亮，請盡快處理。"
    html = rng.random() < 0.1
    if html:
        body = f"<html><body><p>{body}</p><div>{'謝謝' if charset == 'big5' else '谢谢'}</div></body></html>"
    headers = [
        f"From: {encoded(name, label)} <customer{i % 300}@example.cn>",
        "To: complaints@factory.example.com",
        f"Subject: {encoded(subject, label)}",
        "Date: Sun, 06 Dec 2026 10:00:00 +0800",
        f"Message-ID: <bench-{i}-{rng.randrange(10**9)}@example.cn>",
        "MIME-Version: 1.0",
        *(f"{k}: {v}" for k, v in (extra or {}).items()),
    ]
    text = [
        f'Content-Type: text/{"html" if html else "plain"}; charset="{label}"',
        "Content-Transfer-Encoding: base64",
        "",
        base64.encodebytes(body.encode(charset)).decode(),
    ]
    if rng.random() >= 1 / 3:
        return "\r\n".join(headers + text).encode()
    photo = [
        "--b",
        f'Content-Type: image/png; name="{encoded("照片.png", "utf-8")}"',
        "Content-Disposition: attachment",
        "Content-Transfer-Encoding: base64",
        "",
        base64.encodebytes(PNG).decode(),
    ]
    parts = [*headers, 'Content-Type: multipart/mixed; boundary="b"', "", "--b", *text, *photo, "--b--"]
    return "\r\n".join(parts).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mails", type=int, default=500)
    parser.add_argument("--spawned", type=int, default=5, help="mails delivered through a spawned command each")
    args = parser.parse_args()

    shutil.rmtree(WORK, ignore_errors=True)
    (WORK / "in").mkdir(parents=True)
    os.environ.update(
        DATABASE_URL=f"sqlite:///{WORK / 'mail.sqlite3'}",
        CLOSELOOP_DATA_DIR=str(WORK / "data"),
        MEDIA_ROOT=str(WORK / "media"),
        DJANGO_SETTINGS_MODULE="closeloop.settings",
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    from closeloop.complaints.models import Complaint
    from closeloop.mailin.models import InboundMail

    call_command("migrate", interactive=False, verbosity=0)
    call_command("createcachetable", verbosity=0)
    rng = random.Random(15)
    new_count = args.mails * 4 // 5
    files = []
    for i in range(new_count):
        path = WORK / "in" / f"{i}.eml"
        path.write_bytes(message(rng, i, subject=rng.choice(PROBLEMS)))
        files.append(path)

    def ingest(paths: list[Path]) -> list[float]:
        latencies = []
        with open(os.devnull, "w") as sink:
            for path in paths:
                started = time.perf_counter()
                call_command("mail", "ingest", str(path), stdout=sink)
                latencies.append((time.perf_counter() - started) * 1000)
        return latencies

    load_before = list(os.getloadavg())
    started, cpu_started = time.perf_counter(), time.process_time()
    latencies = ingest(files)
    # Replies need the numbers the first mails were given: written now, taken in the same measurement.
    numbers = list(Complaint.objects.values_list("number", flat=True))
    build_started = time.perf_counter()
    replies = []
    for i in range(new_count, args.mails):
        kind = rng.random()
        if kind < 0.8:
            raw = message(rng, i, subject=f"回复：[{rng.choice(numbers)}] 投诉受理通知")
        else:
            raw = message(rng, i, subject="自动回复：我正在休假", extra={"Auto-Submitted": "auto-replied"})
        path = WORK / "in" / f"{i}.eml"
        path.write_bytes(raw)
        replies.append(path)
    building = time.perf_counter() - build_started
    latencies += ingest(replies)
    elapsed = time.perf_counter() - started - building
    cpu = time.process_time() - cpu_started

    outcomes = dict(
        (row, InboundMail.objects.filter(outcome=row).count())
        for row in InboundMail.objects.values_list("outcome", flat=True).distinct()
    )
    spawned = []
    command = [str(Path(sys.executable).parent / "closeloop"), "mail", "ingest"]
    for i in range(args.spawned):
        raw = message(rng, args.mails + i, subject="管道投递")
        t0 = time.perf_counter()
        subprocess.run(command, input=raw, check=True, capture_output=True, env=os.environ.copy())
        spawned.append((time.perf_counter() - t0) * 1000)

    result: dict[str, Any] = {
        "database": "sqlite",
        "mails": args.mails,
        "outcomes": outcomes,
        "complaints": Complaint.objects.count(),
        "seconds": round(elapsed, 2),
        "per_second": round(args.mails / elapsed, 1),
        "per_second_if_one_full_core": round(args.mails / cpu, 1),
        "latency_ms_median": round(statistics.median(latencies), 1),
        "latency_ms_p95": round(sorted(latencies)[int(len(latencies) * 0.95)], 1),
        "spawned_command_ms_median": round(statistics.median(spawned), 0),
        "target_per_second": 50,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_average": os.getloadavg()},
        # os.getloadavg() around the measurement: a figure from a busy machine says so (bench/report.py).
        "load": {"before": load_before, "after": list(os.getloadavg())},
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "mail-sqlite.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(
        f"mail ingest (MTA entry, in process): {result['per_second']} mails/s "
        f"(median {result['latency_ms_median']} ms, p95 {result['latency_ms_p95']} ms; target ≥ 50/s); "
        f"a spawned `closeloop mail ingest`: {result['spawned_command_ms_median']:.0f} ms per mail; outcomes {outcomes}"
    )
    print(f"written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
