"""SLA sweep benchmark: one sweep over N complaints with open deadlines, idle and with K due at once.

    .venv/bin/python bench/bench_sla.py --complaints 1000000 --due 10000 \
        [--database-url postgres://postgres@127.0.0.1:5432/closeloop]

Creates a throwaway PostgreSQL database (`<name>_sla_bench`) or a SQLite file under var/bench/, migrates,
then fills it with SQL (generate_series on PostgreSQL, a recursive CTE on SQLite): N complaints, each with
an open `resolution` deadline due in the future, so that the sweep has a million open clocks to ignore.
Measures `sla_sweep()` when nothing is due, then after moving K deadlines past their warning point and
deadline (K warnings and K breaches, each with its event and notifications). Targets (issue 3, on
PostgreSQL at 1,000,000): idle ≤ 1 s, 10,000 due ≤ 10 s. Writes bench/results/sla-<db>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def prepare_database(url: str | None, complaints: int, reuse: bool = False) -> tuple[str, str]:
    if url and url.startswith("postgres"):
        import dj_database_url
        import psycopg

        cfg = dj_database_url.parse(url)
        name = f"{cfg['NAME']}_sla_bench"
        admin = psycopg.connect(
            host=cfg["HOST"], port=cfg["PORT"] or 5432, user=cfg["USER"], dbname="postgres", autocommit=True
        )
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not (reuse and exists):
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            admin.execute(f'CREATE DATABASE "{name}"')
        admin.close()
        return url.rsplit("/", 1)[0] + "/" + name, "postgresql"
    path = ROOT / "var" / "bench" / f"sla-{complaints}.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm") if not reuse else ():
        Path(str(path) + suffix).unlink(missing_ok=True)
    return f"sqlite:///{path}", "sqlite"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--complaints", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--reuse", action="store_true", help="keep an earlier run's database and its rows")
    args = parser.parse_args()

    url, vendor = prepare_database(args.database_url, args.complaints, args.reuse)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "closeloop.settings")
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from closeloop.complaints.models import Complaint, Event
    from closeloop.directory.models import ComplaintType, Customer, Department, Membership
    from closeloop.sla.models import Deadline, Policy

    call_command("migrate", verbosity=0)
    if args.reuse and Complaint.objects.count() >= args.complaints:
        future = timezone.now() + timezone.timedelta(days=30)
        Deadline.objects.update(warn_at=future, due_at=future, warned_at=None, breached_at=None, escalation_level=0)
        Event.objects.filter(action__startswith="deadline_").delete()
        measure(args, vendor, seeded=0.0)
        return
    supervisor = User.objects.create_user("bench_supervisor", email="s@example.com")
    supervisor.groups.add(Group.objects.get(name="cs_supervisor"))
    manager = User.objects.create_user("bench_manager")
    manager.groups.add(Group.objects.get(name="dept_manager"))
    quality = Department.objects.get(code="quality")
    Membership.objects.create(user=manager, department=quality, is_manager=True)
    customer = Customer.objects.create(name="压测客户", phone="13900000000")
    ctype = ComplaintType.objects.get(code="quality")
    policy = Policy.objects.get(is_default=True)

    now = timezone.now()
    future = now + timezone.timedelta(days=30)
    began = time.perf_counter()
    complaint_table, deadline_table = Complaint._meta.db_table, Deadline._meta.db_table
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            series = "SELECT i FROM generate_series(1, %s) AS i"
            number = "'BX' || lpad(i::text, 8, '0')"
        else:
            series = "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < %s) SELECT i FROM s"
            number = "'BX' || substr('00000000' || i, -8, 8)"
        cursor.execute(
            f"INSERT INTO {complaint_table} (number, status, channel, priority, received_at, registered_at, "  # noqa: S608
            "customer_id, product_text, batch_no, order_no, province, city, type_id, department_id, description, "
            "onsite_situation, demand, external_ref, resolution, status_reason, updated_at, sla_policy_id, "
            "next_due_at, next_warn_at, waiting_reason, repeat_reason, reopen_count) "
            f"SELECT {number}, 'acknowledged', 'hotline', 3, %s, %s, %s, '', '', '', '', '', %s, %s, '压测', "
            f"'', '', '', '', '', %s, %s, %s, %s, '', '', 0 FROM ({series}) AS g",
            [now, now, customer.pk, ctype.pk, quality.pk, now, policy.pk, future, future, args.complaints],
        )
        cursor.execute(
            f"INSERT INTO {deadline_table} (complaint_id, milestone, policy_id, duration, started_at, due_at, "  # noqa: S608
            "warn_at, paused_seconds, paused_work_seconds, escalation_level, cancelled) "
            f"SELECT id, 'resolution', %s, '3wd', %s, %s, %s, 0, 0, 0, %s FROM {complaint_table}",
            [policy.pk, now, future, future, False],
        )
    if vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    seeded = time.perf_counter() - began
    print(f"seeded {args.complaints:,} complaints with open deadlines in {seeded:.1f} s ({vendor})")
    measure(args, vendor, seeded)


def measure(args: argparse.Namespace, vendor: str, seeded: float) -> None:
    from django.utils import timezone

    from closeloop.complaints.models import Event
    from closeloop.complaints.sweeps import sla_sweep
    from closeloop.notifications.models import Notification
    from closeloop.sla.models import Deadline

    def timed_sweep() -> tuple[float, object]:
        start = time.perf_counter()
        result = sla_sweep(now=timezone.now())
        return time.perf_counter() - start, result

    timed_sweep()  # warm the process (imports, policy cache)
    load_before = list(os.getloadavg())
    idle = [timed_sweep()[0] for _ in range(5)]
    past = timezone.now() - timezone.timedelta(minutes=5)
    ids = list(Deadline.objects.order_by("id").values_list("id", flat=True)[: args.due])
    Deadline.objects.filter(id__in=ids).update(warn_at=past - timezone.timedelta(hours=1), due_at=past)
    due_seconds, result = timed_sweep()
    events = Event.objects.count()
    notifications = Notification.objects.count()
    again_seconds, again = timed_sweep()

    report = {
        "database": vendor,
        "complaints": args.complaints,
        "open_deadlines": Deadline.objects.filter(met_at__isnull=True).count(),
        "due": args.due,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "seed_seconds": round(seeded, 1),
        "sweep_idle_seconds": {"median": round(sorted(idle)[len(idle) // 2], 4), "max": round(max(idle), 4)},
        "sweep_due_seconds": round(due_seconds, 2),
        "sweep_due_result": {"warned": result.warned, "breached": result.breached, "escalated": result.escalated},
        "events_written": events,
        "notifications_written": notifications,
        "sweep_after_seconds": round(again_seconds, 4),
        "sweep_after_result": {"warned": again.warned, "breached": again.breached},
        "load": {"before": load_before, "after": list(os.getloadavg())},  # shown by bench/report.py
    }
    print(json.dumps(report, indent=2))
    ok_idle = report["sweep_idle_seconds"]["max"] <= 1.0
    ok_due = due_seconds <= 10.0
    print(f"targets: idle ≤ 1 s: {ok_idle}; {args.due:,} due ≤ 10 s: {ok_due}")
    out = ROOT / "bench" / "results" / f"sla-{vendor}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
