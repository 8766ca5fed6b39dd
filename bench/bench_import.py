"""History import benchmark: a 10,000-row 投诉汇总表 imported as `closeloop import complaints` does it.

    .venv/bin/python bench/bench_import.py [--rows 10000] [--database-url postgres://…]

Creates a throwaway SQLite file under var/bench/ (or PostgreSQL database `<name>_import_bench`), migrates,
adds 200 catalogue products, then writes two files of N rows each — one .xlsx, one GB18030 .csv — with a
desk's mix: about one customer in three complaining more than once, nine in ten rows resolved or closed
with a follow-up and a satisfaction, the rest archived or invalid, a fifth with their original numbers.
Measures reading + checking + writing of each file (the dry run separately) and checks that nothing else
happened: no deadline, notification or defect alert. Target (issue 14): ≥ 2,000 complaints/s on SQLite.
Writes bench/results/import-<db>.json.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import io
import json
import os
import platform
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET = 2000.0
HEADERS = [
    "投诉编号",
    "接收时间",
    "解决时间",
    "结案时间",
    "投诉渠道",
    "投诉人类型",
    "客户姓名",
    "联系电话",
    "省份",
    "城市",
    "产品（型号）",
    "投诉类型",
    "优先级",
    "责任部门",
    "状态",
    "投诉内容",
    "处理结果",
    "回访结果",
    "客户满意度",
]


def prepare_database(url: str | None) -> tuple[str, str]:
    if url and url.startswith("postgres"):
        import dj_database_url
        import psycopg

        cfg = dj_database_url.parse(url)
        name = f"{cfg['NAME']}_import_bench"
        admin = psycopg.connect(
            host=cfg["HOST"], port=cfg["PORT"] or 5432, user=cfg["USER"], dbname="postgres", autocommit=True
        )
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
        admin.close()
        return url.rsplit("/", 1)[0] + "/" + name, "postgresql"
    path = ROOT / "var" / "bench" / "import.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    return f"sqlite:///{path}", "sqlite"


def history_rows(count: int, *, seed: int, phone_base: int, prefix: str) -> list[list[object]]:
    rng = random.Random(seed)
    customers = max(count * 2 // 3, 1)
    types = ["质量", "服务", "物流", "安装", "价格"]
    departments = ["质量部", "客户服务部", "仓储物流部", "技术支持部", "生产部"]
    places = [("广东", "广州"), ("浙江", "杭州"), ("江苏", "南京"), ("四川", "成都"), ("湖北", "武汉")]
    start = datetime.datetime(2024, 1, 1, 8, 0)
    rows = []
    for i in range(count):
        received = start + datetime.timedelta(minutes=rng.randrange(0, 60 * 24 * 600))
        resolved = received + datetime.timedelta(hours=rng.randrange(2, 120))
        closed = resolved + datetime.timedelta(hours=rng.randrange(1, 72))
        pick = rng.random()
        status, result, outcome, satisfaction = "已结案", "更换配件并上门安装", "满意", "满意"
        resolved_cell, closed_cell = resolved, closed
        if pick < 0.25:
            status, closed_cell = "已解决", None
        elif pick < 0.30:
            status, result, outcome, satisfaction = "无效", "广告信息", "", ""
            resolved_cell = closed_cell = None
        elif pick < 0.40:
            status = "已归档"
        elif pick < 0.55:
            outcome, satisfaction = "不满意", "不满意"
        province, city = rng.choice(places)
        rows.append(
            [
                f"{prefix}{i:06d}" if i % 5 == 0 else "",
                received,
                resolved_cell,
                closed_cell,
                "热线",
                "终端用户" if rng.random() < 0.8 else "经销商",
                f"客户{i % customers}",
                f"1{phone_base + i % customers:010d}",
                province,
                city,
                f"BM-{rng.randrange(200):03d}",
                rng.choice(types),
                rng.choice(["紧急", "重要", "一般"]),
                rng.choice(departments),
                status,
                "产品使用一周后出现故障，要求换货",
                result,
                outcome,
                satisfaction,
            ]
        )
    return rows


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("投诉汇总表")
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: list[list[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADERS)
    for row in rows:
        writer.writerow(
            ["" if v is None else f"{v:%Y-%m-%d %H:%M}" if isinstance(v, datetime.datetime) else v for v in row]
        )
    return buffer.getvalue().encode("gb18030")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    url, vendor = prepare_database(args.database_url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "closeloop.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from closeloop.complaints.models import Complaint
    from closeloop.defects.models import DefectAlert
    from closeloop.directory.models import Product, ProductLine
    from closeloop.imports.models import ImportSource
    from closeloop.imports.reading import read_table
    from closeloop.imports.services import complaints_import
    from closeloop.notifications.models import Notification
    from closeloop.sla.models import Deadline

    call_command("migrate", verbosity=0)
    line = ProductLine.objects.create(code="bench", name="压测产品线", name_en="Bench line")
    Product.objects.bulk_create(
        [Product(line=line, model=f"BM-{i:03d}", name=f"产品{i}", name_en=f"Product {i}") for i in range(200)]
    )

    files = {
        "xlsx": ("history.xlsx", xlsx_bytes(history_rows(args.rows, seed=1, phone_base=3800000000, prefix="KX"))),
        "csv": ("history.csv", csv_bytes(history_rows(args.rows, seed=2, phone_base=3900000000, prefix="KC"))),
    }
    results: dict[str, object] = {}
    load_before = list(os.getloadavg())
    for kind, (name, data) in files.items():
        begin = time.perf_counter()
        _headers, rows = read_table(data=data, file_name=name)
        read = time.perf_counter() - begin
        begin = time.perf_counter()
        dry = complaints_import(rows=rows, actor=None, source=ImportSource.CLI, file_name=name, dry_run=True)
        checked = time.perf_counter() - begin
        assert dry.ok, dry.errors[:5]
        before = Complaint.objects.count()
        begin, cpu = time.perf_counter(), time.process_time()
        _headers, rows = read_table(data=data, file_name=name)
        result = complaints_import(rows=rows, actor=None, source=ImportSource.CLI, file_name=name)
        total, cpu = time.perf_counter() - begin, time.process_time() - cpu
        assert result.ok, result.errors[:5]
        assert Complaint.objects.count() - before == args.rows
        rate = args.rows / total
        results[kind] = {
            "rows": args.rows,
            "read_seconds": round(read, 3),
            "dry_run_seconds": round(checked, 3),
            "import_seconds": round(total, 3),
            "complaints_per_second": round(rate),
            "import_cpu_seconds": round(cpu, 3),
            "complaints_per_cpu_second": round(args.rows / cpu),
            "customers_created": result.customers_created,
            "followups": result.followups,
        }
        print(
            f"{kind:<5} {args.rows:,} rows: read {read:.2f} s, dry run {checked:.2f} s, "
            f"import (read + check + write) {total:.2f} s = {rate:,.0f} complaints/s "
            f"(CPU {cpu:.2f} s = {args.rows / cpu:,.0f}/s) "
            f"({result.customers_created:,} customers, {result.followups:,} follow-ups)"
        )
    side_effects = {
        "deadlines": Deadline.objects.count(),
        "notifications": Notification.objects.count(),
        "defect_alerts": DefectAlert.objects.count(),
    }
    print("side effects:", side_effects)
    assert not any(side_effects.values()), side_effects
    slowest = min(r["complaints_per_second"] for r in results.values())  # type: ignore[index]
    print(f"target {TARGET:,.0f} complaints/s:", "met" if slowest >= TARGET else "NOT met")
    out = ROOT / "bench" / "results" / f"import-{vendor}.json"
    out.write_text(
        json.dumps(
            {
                "when": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                "machine": platform.platform(),
                "python": platform.python_version(),
                "database": vendor,
                "target_per_second": TARGET,
                # os.getloadavg() around the measurement (bench/report.py shows it beside the figures).
                "load": {"before": load_before, "after": list(os.getloadavg())},
                "results": results,
                "side_effects": side_effects,
            },
            indent=2,
            ensure_ascii=False,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
