"""Service orders (售服单, issue 16): queue and intake speed, as bench_suite.py measures them for complaints.

    .venv/bin/python bench/bench_service.py --orders 10000                  # make bench (SQLite)
    .venv/bin/python bench/bench_service.py --orders 100000 --database-url postgres://postgres@127.0.0.1:5432/closeloop

Seeds (or with --reuse, reuses) a database with the demo data and --orders service orders of every kind
and state, spread over a year and over a third as many customers, each with its registration event;
then measures, in one process with Django's test client (the view and SQL cost without the network),
median and p95 over --requests and the SQL statements per request of: the desk's queue,
the queue filtered by kind and open, by status, the order page (50 random orders) and the API's list;
then API intake (POST /api/v1/service-orders, the whole service: number, warranty, repeat detection,
clocks, timeline) for --intake-requests. The load before and after is recorded. Prints a table and
writes bench/results/service-<db>-<n>.json (bench/report.py puts it in the README).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from bench_foundation import fresh_database, percentile  # noqa: E402
from bench_suite import client_for, measure_get  # noqa: E402

RESULTS = ROOT / "bench" / "results"
NAMES = ["王芳", "李娜", "张伟", "刘洋", "陈静", "杨磊", "赵敏", "黄强"]
DESCRIPTIONS = ["吸顶灯闪烁", "遥控器失灵", "安装新灯具", "灯罩破裂要求换货", "驱动电源异响", "咨询保修期"]


def seed_orders(count: int, seed: int) -> dict[str, Any]:
    """`count` orders in bulk (as an import would write them, not through the service: the seeding is not
    what is measured), every kind and state, each with its `registered` event. No clocks: the queues do
    not read them (and where they live is moving to sla.Deadline)."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from closeloop.directory.models import Customer, Department, Product
    from closeloop.serviceorders.lifecycle import Kind, ServiceStatus
    from closeloop.serviceorders.models import ServiceEvent, ServiceOrder, ServiceSequence

    started = time.perf_counter()
    rng = random.Random(seed)
    products = list(Product.objects.all()) or [None]
    departments = {d.code: d for d in Department.objects.filter(code__in=["tech", "warehouse", "cs"])}
    technicians = list(get_user_model().objects.filter(is_active=True).order_by("id")[:10])
    customers = Customer.objects.bulk_create(
        [
            Customer(kind="end_user", name=rng.choice(NAMES), phone=f"186{i:08d}", province="浙江", city="杭州")
            for i in range(max(count // 3, 1))
        ],
        batch_size=2000,
    )
    now = timezone.now()
    # The demo's orders keep their numbers: a seeded day continues its sequence.
    per_day: dict[datetime.date, int] = dict(ServiceSequence.objects.values_list("day", "last"))
    orders = []
    for _i in range(count):
        received = now - datetime.timedelta(minutes=rng.randrange(365 * 24 * 60))
        day = timezone.localdate(received)
        per_day[day] = per_day.get(day, 0) + 1
        kind = rng.choice(Kind.values)
        status = rng.choice(ServiceStatus.values)
        department = departments.get("warehouse" if kind in {"return", "exchange"} else "tech")
        orders.append(
            ServiceOrder(
                number=f"SF{day:%Y%m%d}-{per_day[day]:04d}",
                kind=kind,
                status=status,
                channel="hotline",
                priority=rng.choice([1, 2, 3, 3, 3]),
                received_at=received,
                registered_at=received,
                customer=rng.choice(customers),
                product=rng.choice(products),
                description=rng.choice(DESCRIPTIONS),
                department=department,
                assignee=rng.choice(technicians) if technicians and status != "registered" else None,
                next_due_at=received + datetime.timedelta(days=2),
                resolved_at=received + datetime.timedelta(days=1) if status in {"resolved", "closed"} else None,
            )
        )
    ServiceOrder.objects.bulk_create(orders, batch_size=2000)
    # The next registration of a seeded day takes the next number.
    ServiceSequence.objects.all().delete()
    ServiceSequence.objects.bulk_create(
        [ServiceSequence(day=day, last=last) for day, last in per_day.items()], batch_size=2000
    )
    ServiceEvent.objects.bulk_create(
        [
            ServiceEvent(order=o, at=o.received_at, via="desk", action="registered", after={"status": "registered"})
            for o in orders
        ],
        batch_size=2000,
    )
    return {"orders": count, "customers": len(customers), "seconds": round(time.perf_counter() - started, 1)}


def bench_intake(raw_key: str, requests: int, products: list[str], start_index: int) -> dict[str, Any]:
    """POST /api/v1/service-orders in this process: the whole registration service, as the API runs it."""
    from django.test import Client

    client = Client()
    rng = random.Random(3)
    headers = {"Authorization": f"Bearer {raw_key}"}

    def payload(index: int) -> dict[str, Any]:
        return {
            "kind": rng.choice(["repair", "return", "exchange", "installation", "support", "consultation"]),
            "channel": "api",
            "customer_name": rng.choice(NAMES),
            # Half of them an existing customer: repeat detection then reads their orders and complaints.
            "phone": f"186{rng.randrange(1000):08d}" if index % 2 else f"187{index:08d}",
            "description": rng.choice(DESCRIPTIONS),
            "product_model": rng.choice(products) if products else "",
            "purchase_date": "2026-01-15",
        }

    for warm in range(5):
        client.post("/api/v1/service-orders", payload(start_index + warm), "application/json", headers=headers)
    latencies, errors = [], 0
    started, cpu_started = time.perf_counter(), time.process_time()
    for i in range(requests):
        t0 = time.perf_counter()
        response = client.post(
            "/api/v1/service-orders", payload(start_index + 10 + i), "application/json", headers=headers
        )
        latencies.append((time.perf_counter() - t0) * 1000)
        if response.status_code != 201:
            errors += 1
            if errors == 1:
                print(f"  intake: HTTP {response.status_code}: {response.content[:300]!r}", file=sys.stderr)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return {
        "requests": requests,
        "errors": errors,
        "cpu_ms_per_request": round(cpu / requests * 1000, 1),
        "per_second_if_one_full_core": round(requests / cpu, 1),
        "seconds": round(elapsed, 2),
        "per_second": round(requests / elapsed, 1),
        "latency_ms_median": round(statistics.median(latencies), 1),
        "latency_ms_p95": round(percentile(latencies, 95), 1),
    }


def service_pages(numbers: list[str]) -> dict[str, tuple[str, list[str]]]:
    """Each measured page: (the demo user who opens it, the paths it cycles through)."""
    return {
        "queue_default": ("agent", ["/desk/service/"]),
        "queue_filtered": ("agent", ["/desk/service/?kind=repair&open=1", "/desk/service/?kind=exchange&open=1"]),
        "queue_status": ("agent", ["/desk/service/?status=dispatched", "/desk/service/?status=in_transit"]),
        "order_page": ("agent", [f"/desk/service/{n}" for n in numbers]),
        "api_list": ("agent", ["/api/v1/service-orders?limit=50", "/api/v1/service-orders?kind=repair&open=true"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=10_000, help="service orders in the database (default 10,000)")
    parser.add_argument("--database-url", help="postgres://… for a throwaway PostgreSQL database; default SQLite")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--intake-requests", type=int, default=300)
    parser.add_argument("--reuse", action="store_true", help="reuse a database seeded by an earlier run")
    args = parser.parse_args()

    database_url, vendor, seeded = fresh_database(args.database_url, args.orders, args.reuse, kind="service")
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "closeloop.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from closeloop.core.services import api_token_create
    from closeloop.directory.models import Product
    from closeloop.serviceorders.models import ServiceOrder

    result: dict[str, Any] = {
        "database": vendor,
        "orders_target": args.orders,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    print(f"database: {vendor} {database_url}")
    call_command("migrate", interactive=False, verbosity=0)
    if not seeded:
        call_command("createcachetable", verbosity=0)
        call_command("demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
        missing = max(args.orders - ServiceOrder.objects.count(), 0)
        result["seeding"] = seed_orders(missing, args.seed)
        if vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        print(f"seeded {result['seeding']}")
    result["orders_in_database"] = ServiceOrder.objects.count()

    load_before = list(os.getloadavg())  # after seeding: the load the measurements start with
    numbers = list(ServiceOrder.objects.order_by("?").values_list("number", flat=True)[:50])
    clients = {"agent": client_for("agent")}
    _token, raw_key = api_token_create(user=get_user_model().objects.get(username="agent"), name="bench-service")
    result["pages"] = {}
    for name, (user, paths) in service_pages(numbers).items():
        client = clients[user]
        if name == "api_list":
            from django.test import Client

            client = Client(headers={"Authorization": f"Bearer {raw_key}"})
        try:
            result["pages"][name] = measure_get(client, paths, args.requests)
        except AssertionError as exc:
            result["pages"][name] = {"error": str(exc)}
        print(f"  {name}: {result['pages'][name]}")
    models = list(Product.objects.values_list("model", flat=True)[:20])
    result["intake"] = bench_intake(raw_key, args.intake_requests, models, result["orders_in_database"])
    print(f"  intake: {result['intake']}")
    result["load"] = {"before": load_before, "after": list(os.getloadavg())}  # shown by bench/report.py

    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"service-{vendor}-{args.orders}.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    print()
    print(f"{'workload':<16} {'median':>10} {'p95':>10} {'SQL':>5}")
    for name, row in result["pages"].items():
        if "error" not in row:
            print(f"{name:<16} {row['median_ms']:>8} ms {row['p95_ms']:>7} ms {row['queries']:>5}")
    print(f"{'API intake':<16} {result['intake']['per_second']:>8} /s (one process)")
    print(f"written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
