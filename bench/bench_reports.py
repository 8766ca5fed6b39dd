"""Monthly reports benchmark: the summary table (Excel) and the analysis report (PDF) for one month.

    .venv/bin/python bench/bench_reports.py --complaints 20000 [--background N] [--reuse]
        [--database-url postgres://postgres@127.0.0.1:5432/x]

Creates a fresh database (a SQLite file under var/bench/, or a throwaway PostgreSQL database named after
the URL's one plus `_reports_<N>`), migrates, loads the demo users and seeds N complaints received in one
month (the generator, then a bulk pass that gives most of them what handling adds: a department task with
its handler, a solution with measures and compensation, a feedback form with a root cause and a rated
follow-up — so the Excel merges real rows). `--background N` adds N more complaints spread over the year
before, so the month is a slice of a bigger table.

Then a fresh child process (so that seeding does not count) generates the report as the worker does
(`report_generate`: Excel + contents + PDF + storing) and reports wall time per part, the SQL queries, the
rows written and the peak RSS (`resource.getrusage`). Prints a table and writes
bench/results/reports_<db>_<N>.json. Target (issue 6): ≤ 60 s together at 100,000 in the month, memory
bounded (peak RSS roughly independent of the month's size).
"""

from __future__ import annotations

import argparse
import calendar as pycalendar
import datetime
import json
import os
import platform
import random
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SHANGHAI = ZoneInfo("Asia/Shanghai")
TARGET_SECONDS = 60.0
MONTH = (2026, 9)  # the month the complaints are received in
CAUSES = [
    "驱动电源批次不良",
    "灯罩卡扣设计缺陷",
    "包装抗压不足",
    "安装说明不清",
    "物流野蛮装卸",
    "遥控器配对失败",
    "色温与宣传不符",
    "售后响应慢",
    "配件漏发",
    "焊点虚焊",
    "散热不良",
    "电商页面描述有误",
]


def fresh_database(url: str | None, complaints: int, reuse: bool) -> tuple[str, str, bool]:
    """Return (DATABASE_URL, vendor, already_seeded)."""
    if not url or url.startswith("sqlite"):
        path = ROOT / "var" / "bench" / f"reports-{complaints}.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        if reuse and path.exists():
            return f"sqlite:///{path}", "sqlite", True
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}", "sqlite", False

    import psycopg

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'closeloop'}_reports_{complaints}"
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    bench_url = urlunsplit(parts._replace(path=f"/{name}"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if reuse and exists:
            return bench_url, "postgresql", True
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return bench_url, "postgresql", False


def month_bounds() -> tuple[datetime.datetime, int]:
    year, month = MONTH
    days = pycalendar.monthrange(year, month)[1]
    end = datetime.datetime(year, month, days, 23, 0, tzinfo=SHANGHAI)
    return end, days - 1


def enrich(share: float = 0.6, seed: int = 7) -> dict[str, int]:
    """Give a share of the month's complaints a task, solution, feedback form and rated follow-up, in bulk
    (the services' per-complaint path would take hours at this size; the rows are what they write)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import transaction

    from closeloop.complaints.lifecycle import Status
    from closeloop.complaints.models import Complaint
    from closeloop.directory.models import Department
    from closeloop.followup.models import FollowUp, SatisfactionLevel
    from closeloop.handling.models import FeedbackForm, Solution, SolutionStatus, Task, TaskStatus

    rng = random.Random(seed)
    user_model = get_user_model()
    handler_group = Group.objects.get(name="handler")
    handlers = []
    for index in range(20):
        user, _created = user_model.objects.get_or_create(
            username=f"bench_handler_{index}", defaults={"first_name": f"工{index}", "last_name": "王"}
        )
        user.groups.add(handler_group)
        handlers.append(user)
    departments = list(Department.objects.all())
    levels = list(SatisfactionLevel.objects.filter(scale__is_active=True).order_by("order"))
    weights = [35, 40, 15, 10][: len(levels)] or [1]
    counts = {"tasks": 0, "solutions": 0, "forms": 0, "followups": 0}
    qs = (
        Complaint.objects.exclude(status__in=[Status.REGISTERED, Status.INVALID, Status.DUPLICATE])
        .order_by("pk")
        .values_list("pk", "department_id", "received_at", "resolved_at")
    )
    batch: list[tuple[int, Any, datetime.datetime, datetime.datetime | None]] = []

    def flush() -> None:
        tasks, solutions, forms, followups = [], [], [], []
        for pk, department_id, received_at, resolved_at in batch:
            handler = rng.choice(handlers)
            dispatched = received_at + datetime.timedelta(hours=1)
            replied = dispatched + datetime.timedelta(hours=rng.uniform(2, 60))
            tasks.append(
                Task(
                    complaint_id=pk,
                    department_id=department_id or rng.choice(departments).pk,
                    handler=handler,
                    status=TaskStatus.REPLIED,
                    dispatched_at=dispatched,
                    verified_at=dispatched + datetime.timedelta(minutes=30),
                    reply="已处理",
                    replied_at=replied,
                )
            )
            compensates = rng.random() < 0.3
            solutions.append(
                Solution(
                    complaint_id=pk,
                    proposed_by=handler,
                    proposed_at=dispatched + datetime.timedelta(hours=1),
                    measures=["replacement", "compensation"]
                    if compensates
                    else [rng.choice(["onsite_repair", "tech_guidance", "replacement"])],
                    description="更换并补偿" if compensates else "上门处理",
                    compensation_amount=rng.choice([50, 100, 200, 500]) if compensates else None,
                    compensation_form="voucher" if compensates else "",
                    status=SolutionStatus.DONE,
                    required_levels=["cs_supervisor"],
                    approved_levels=1,
                )
            )
            forms.append(
                FeedbackForm(
                    complaint_id=pk,
                    handler=handler,
                    status="approved",
                    result="resolved",
                    measures="上门处理",
                    root_cause=rng.choice(CAUSES),
                    improvement_suggestion="加强来料检验" if rng.random() < 0.1 else "",
                    submitted_at=replied + datetime.timedelta(hours=2),
                )
            )
            if resolved_at is not None and levels:
                followups.append(
                    FollowUp(
                        complaint_id=pk,
                        round=1,
                        created_at=resolved_at,
                        method="phone",
                        outcome="satisfied",
                        solved=True,
                        satisfaction=rng.choices(levels, weights=weights)[0],
                        completed_at=resolved_at + datetime.timedelta(days=1),
                    )
                )
        with transaction.atomic():
            created = Task.objects.bulk_create(tasks)
            for task, solution, form in zip(created, solutions, forms, strict=True):
                solution.task_id = task.pk
                form.task_id = task.pk
            Solution.objects.bulk_create(solutions)
            FeedbackForm.objects.bulk_create(forms)
            FollowUp.objects.bulk_create(followups, ignore_conflicts=True)
        counts["tasks"] += len(tasks)
        counts["solutions"] += len(solutions)
        counts["forms"] += len(forms)
        counts["followups"] += len(followups)
        batch.clear()

    for row in qs.iterator(chunk_size=5000):
        if rng.random() < share:
            batch.append(row)
            if len(batch) >= 2000:
                flush()
    if batch:
        flush()
    return counts


def measure() -> dict[str, Any]:
    """In a fresh process: generate the report as the worker does; time, queries and peak RSS."""
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from closeloop.insight.exports.contents import report_contents
    from closeloop.insight.exports.pdf import analysis_report_write
    from closeloop.insight.exports.xlsx import summary_table_write
    from closeloop.insight.kpis import Period, cohort
    from closeloop.insight.models import Report, ReportKind
    from closeloop.insight.services.reports import report_generate

    period = Period.month(*MONTH)
    now = datetime.datetime(MONTH[0], MONTH[1], 1, tzinfo=SHANGHAI) + datetime.timedelta(days=40)
    rss_start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # after Django's setup
    in_month = cohort(period).count()
    result: dict[str, Any] = {"complaints_in_month": in_month}
    scratch = ROOT / "var" / "bench" / "reports-scratch"
    scratch.mkdir(parents=True, exist_ok=True)

    with CaptureQueriesContext(connection) as queries:
        t0, c0 = time.perf_counter(), time.process_time()
        stats = summary_table_write(scratch / "summary.xlsx", period=period, language="zh-hans", now=now)
        result["excel_seconds"] = round(time.perf_counter() - t0, 2)
        result["excel_cpu_seconds"] = round(time.process_time() - c0, 2)
    result["excel_rows"] = stats.rows
    result["excel_queries"] = len(queries.captured_queries)
    result["excel_bytes"] = (scratch / "summary.xlsx").stat().st_size
    result["rss_after_excel_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)

    with CaptureQueriesContext(connection) as queries:
        t0, c0 = time.perf_counter(), time.process_time()
        contents = report_contents(period, now=now, language="zh-hans")
        result["contents_seconds"] = round(time.perf_counter() - t0, 2)
        result["contents_cpu_seconds"] = round(time.process_time() - c0, 2)
    result["contents_queries"] = len(queries.captured_queries)
    t0 = time.perf_counter()
    analysis_report_write(scratch / "analysis.pdf", contents)
    result["pdf_seconds"] = round(time.perf_counter() - t0, 2)
    result["pdf_bytes"] = (scratch / "analysis.pdf").stat().st_size

    # The whole job as the worker runs it: both files, stored, the report row and its step.
    Report.objects.filter(kind=ReportKind.ON_DEMAND, figures__bench=True).delete()
    report = Report.objects.create(
        kind=ReportKind.ON_DEMAND,
        period_start=period.start,
        period_end=period.end,
        figures={"language": "zh-hans", "bench": True},
    )
    t0, c0 = time.perf_counter(), time.process_time()
    report = report_generate(report=report, now=now)
    result["report_generate_seconds"] = round(time.perf_counter() - t0, 2)
    result["report_generate_cpu_seconds"] = round(time.process_time() - c0, 2)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    result["rss_at_start_mb"] = round(rss_start / 1024, 1)
    result["target_seconds"] = TARGET_SECONDS
    result["target_met"] = result["report_generate_seconds"] <= TARGET_SECONDS
    return result


def seed(args: argparse.Namespace) -> dict[str, Any]:
    """In a child process (so that the measuring process does not inherit its memory high-water mark)."""
    import django

    django.setup()
    from django.core.management import call_command

    from closeloop.demo.generator import seed_complaints

    call_command("migrate", interactive=False, verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("demo", stdout=open(os.devnull, "w"))  # noqa: SIM115 - users, catalogue, a few recent complaints
    end, days = month_bounds()
    started = time.perf_counter()
    if args.background:
        before = end - datetime.timedelta(days=days + 1)
        seed_complaints(count=args.background, seed=args.seed + 1, days=365, now=before)
    seeded_month = seed_complaints(count=args.complaints, seed=args.seed, days=days, now=end)
    extra = enrich()
    # A live database has planner statistics; a freshly bulk-loaded one has none until autovacuum runs.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "complaints": seeded_month.complaints,
        "background": args.background,
        **extra,
        "seconds": round(time.perf_counter() - started, 1),
    }


def _child(flag: str, args: argparse.Namespace, database_url: str) -> dict[str, Any]:
    command = [sys.executable, __file__, flag, "--complaints", str(args.complaints), "--seed", str(args.seed)]
    command += ["--background", str(args.background)]
    child = subprocess.run(
        command, env={**os.environ, "DATABASE_URL": database_url}, capture_output=True, text=True, check=False
    )
    if child.returncode != 0:
        print(child.stdout[-2000:], child.stderr[-4000:], file=sys.stderr)
        sys.exit(child.returncode)
    return json.loads(child.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--complaints", type=int, default=20_000, help="complaints received in the month")
    parser.add_argument("--background", type=int, default=0, help="more complaints over the year before")
    parser.add_argument("--database-url", help="postgres://… for a throwaway PostgreSQL database; default SQLite")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reuse", action="store_true", help="reuse a database seeded by an earlier run")
    parser.add_argument("--measure-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--seed-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "closeloop.settings")
    # Media (the stored report files) next to the database, not in the developer's var/.
    os.environ.setdefault("MEDIA_ROOT", str(ROOT / "var" / "bench" / "reports-media"))
    if args.measure_only:
        print(json.dumps(measure()))
        return
    if args.seed_only:
        print(json.dumps(seed(args)))
        return

    # This process only orchestrates (no Django): seeding and measuring run in children of their own.
    database_url, vendor, seeded = fresh_database(args.database_url, args.complaints, args.reuse)
    result: dict[str, Any] = {
        "database": vendor,
        "complaints_target": args.complaints,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "load_average": os.getloadavg(),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    print(f"database: {vendor} {database_url}")
    if not seeded:
        result["seeding"] = _child("--seed-only", args, database_url)
        print(f"seeded: {result['seeding']}")
    result["report"] = r = _child("--measure-only", args, database_url)
    print(f"complaints in the month:      {r['complaints_in_month']:>10,}")
    excel = f"{r['excel_rows']:,} rows, {r['excel_queries']} queries, {r['excel_bytes'] / 1e6:.1f} MB"
    print(f"Excel (summary table):        {r['excel_seconds']:>10.2f} s  cpu {r['excel_cpu_seconds']:.2f} s  {excel}")
    contents = f"cpu {r['contents_cpu_seconds']:.2f} s  {r['contents_queries']} queries"
    print(f"contents (figures, SQL):      {r['contents_seconds']:>10.2f} s  {contents}")
    print(f"PDF (analysis report):        {r['pdf_seconds']:>10.2f} s  {r['pdf_bytes'] / 1e3:.0f} kB")
    total = f"cpu {r['report_generate_cpu_seconds']:.2f} s  (target ≤ {TARGET_SECONDS:.0f} s)"
    print(f"report_generate (all, stored): {r['report_generate_seconds']:>9.2f} s  {total}")
    rss = f"after Excel {r['rss_after_excel_mb']} MB, after setup {r['rss_at_start_mb']} MB"
    print(f"peak RSS:                     {r['peak_rss_mb']:>10.1f} MB  ({rss})")
    print(f"load average during the run:  {os.getloadavg()}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"reports_{vendor}_{args.complaints}.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
