"""Foundation benchmark: bulk seeding, API intake rate, desk queue latency.

    .venv/bin/python bench/bench_foundation.py --complaints 100000 [--database-url postgres://postgres@127.0.0.1:5432/x]

Creates a fresh database (a SQLite file under var/bench/, or a throwaway PostgreSQL database named
after the URL's one plus `_bench`), migrates, loads the demo users and seeds N complaints with the
generator, then measures
  (a) API intake (POST /api/v1/complaints, Bearer token): in-process with django.test.Client (one
      process, one core) and against gunicorn with 2 workers driven by a pool of HTTP client threads;
  (b) the desk queue (/desk/) as the demo agent: median and p95 over ~50 requests, default and filtered,
      with the SQL query count per request.
Prints a table and writes bench/results/foundation-<db>.json. Targets: intake >= 150/s, queue p95 <= 150 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
INTAKE_TARGET = 150.0  # complaints per second
QUEUE_P95_TARGET_MS = 150.0

TYPES = ["quality", "service", "logistics", "delivery", "price", "installation"]
NAMES = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强", "周杰", "吴霞"]
PRODUCTS = ["XD-1001", "XD-1002", "TD-1001", "SF-1002", "CD-1001", "YG-1003", ""]


def fresh_database(url: str | None, complaints: int, reuse: bool, *, kind: str = "") -> tuple[str, str, bool]:
    """Return (DATABASE_URL, vendor, already_seeded): a throwaway database of its own, by size (and by
    `kind` for a bench that seeds other records, e.g. "service")."""
    if not url or url.startswith("sqlite"):
        path = ROOT / "var" / "bench" / f"{kind or 'foundation'}-{complaints}.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        if reuse and path.exists():
            return f"sqlite:///{path}", "sqlite", True
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}", "sqlite", False

    import psycopg

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'closeloop'}_bench_{kind + '_' if kind else ''}{complaints}"
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    bench_url = urlunsplit(parts._replace(path=f"/{name}"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if reuse and exists:
            return bench_url, "postgresql", True
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return bench_url, "postgresql", False


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def intake_payload(rng: random.Random, index: int) -> dict[str, Any]:
    payload = {
        "channel": "api",
        "customer_name": rng.choice(NAMES),
        "phone": f"199{index:08d}",
        "description": "基准测试：吸顶灯通电后闪烁，用了三天。",
        "type": rng.choice(TYPES),
        "priority": rng.choice([1, 2, 3, 3, 3]),
        "external_ref": f"BENCH-{index}",
    }
    product = rng.choice(PRODUCTS)
    if product:
        payload["product_model"] = product
    return payload


def bench_intake_in_process(raw_key: str, requests: int, start_index: int) -> dict[str, Any]:
    from django.test import Client

    client = Client()
    rng = random.Random(1)
    headers = {"Authorization": f"Bearer {raw_key}"}
    latencies, errors = [], 0
    for warm in range(5):
        client.post("/api/v1/complaints", intake_payload(rng, start_index + warm), "application/json", headers=headers)
    started, cpu_started = time.perf_counter(), time.process_time()
    for i in range(requests):
        t0 = time.perf_counter()
        response = client.post(
            "/api/v1/complaints", intake_payload(rng, start_index + 10 + i), "application/json", headers=headers
        )
        latencies.append((time.perf_counter() - t0) * 1000)
        if response.status_code != 201:
            errors += 1
            if errors == 1:
                print(f"  in-process intake: HTTP {response.status_code}: {response.content[:300]!r}", file=sys.stderr)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    registered = requests - errors  # a refused request (a 429, a 4xx) registered nothing: not counted
    return {
        "requests": requests,
        "errors": errors,
        # CPU of this process per intake: what one core could do if it had it all (the machine may be shared).
        "cpu_ms_per_request": round(cpu / requests * 1000, 1),
        "per_second_if_one_full_core": round(registered / cpu, 1),
        "seconds": round(elapsed, 2),
        "per_second": round(registered / elapsed, 1),
        "latency_ms_median": round(statistics.median(latencies), 1),
        "latency_ms_p95": round(percentile(latencies, 95), 1),
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench_intake_http(
    database_url: str, raw_key: str, requests: int, threads: int, workers: int, start_index: int
) -> dict[str, Any]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "closeloop.settings"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "closeloop.wsgi:application",
            "--config",
            "python:closeloop.gunicorn_conf",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/login/", timeout=2).read()
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)

        def post(index: int) -> tuple[int, float]:
            body = json.dumps(intake_payload(random.Random(index), start_index + index)).encode()
            request = urllib.request.Request(
                f"{base}/api/v1/complaints",
                data=body,
                method="POST",
                headers={"Authorization": f"Bearer {raw_key}", "Content-Type": "application/json"},
            )
            t0 = time.perf_counter()
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    response.read()
                    status = response.status
            except urllib.error.HTTPError as exc:
                status = exc.code
                if status != 201:
                    print(f"  HTTP intake: {status}: {exc.read()[:300]!r}", file=sys.stderr)
            except (urllib.error.URLError, OSError) as exc:
                print(f"  HTTP intake: {exc}", file=sys.stderr)
                status = 0
            return status, (time.perf_counter() - t0) * 1000

        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(post, range(-threads, 0)))  # warm up each worker and connection
            started = time.perf_counter()
            results = list(pool.map(post, range(requests)))
            elapsed = time.perf_counter() - started
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    latencies = [ms for _status, ms in results]
    errors = sum(1 for status, _ms in results if status != 201)
    return {
        "requests": requests,
        "errors": errors,
        "workers": workers,
        "client_threads": threads,
        "seconds": round(elapsed, 2),
        "per_second": round((requests - errors) / elapsed, 1),  # complaints registered, refusals not counted
        "latency_ms_median": round(statistics.median(latencies), 1),
        "latency_ms_p95": round(percentile(latencies, 95), 1),
    }


def bench_queue(path: str, requests: int) -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(get_user_model().objects.get(username="agent"))
    for _warm in range(3):
        assert client.get(path).status_code == 200
    latencies = []
    cpu_started = time.process_time()
    for _i in range(requests):
        t0 = time.perf_counter()
        response = client.get(path)
        latencies.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, response.status_code
    cpu = time.process_time() - cpu_started
    with CaptureQueriesContext(connection) as queries:
        client.get(path)
    return {
        "path": path,
        "requests": requests,
        "cpu_ms_per_request": round(cpu / requests * 1000, 1),
        "median_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "max_ms": round(max(latencies), 1),
        "queries": len(queries.captured_queries),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--complaints", type=int, default=100_000)
    parser.add_argument("--database-url", help="postgres://… for a throwaway PostgreSQL database; default SQLite")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--intake-requests", type=int, default=500, help="in-process API intakes")
    parser.add_argument("--http-requests", type=int, default=1000, help="API intakes against gunicorn")
    parser.add_argument("--http-threads", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--queue-requests", type=int, default=50)
    parser.add_argument("--output-suffix", default="", help="e.g. '-queue' for foundation-sqlite-queue.json")
    parser.add_argument("--reuse", action="store_true", help="reuse a database seeded by an earlier run")
    parser.add_argument("--skip-http", action="store_true", help="no gunicorn run")
    parser.add_argument("--skip-intake", action="store_true", help="measure the queue only")
    args = parser.parse_args()

    database_url, vendor, seeded = fresh_database(args.database_url, args.complaints, args.reuse)
    os.environ["DATABASE_URL"] = database_url
    os.environ["API_TOKEN_RATE_PER_MINUTE"] = "0"  # intake is measured, not the per-token limit (bench_suite.py)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "closeloop.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from closeloop.complaints.models import Complaint
    from closeloop.core.services import api_token_create
    from closeloop.demo.generator import SeedResult, seed_complaints

    result: dict[str, Any] = {
        "database": vendor,
        "database_version": None,
        "complaints_target": args.complaints,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    print(f"database: {vendor} {database_url}")
    if not seeded:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("createcachetable", verbosity=0)
        call_command("demo", stdout=open(os.devnull, "w"))  # noqa: SIM115 - users, catalogue, 300 complaints
        missing = args.complaints - Complaint.objects.count()

        def progress(r: SeedResult) -> None:
            if r.complaints % 50_000 < 2000:
                print(f"  seeded {r.complaints:,} in {r.seconds:.0f} s", file=sys.stderr)

        seed = seed_complaints(count=max(missing, 0), seed=args.seed, progress=progress)
        result["seeding"] = {
            "complaints": seed.complaints,
            "customers": seed.customers,
            "tasks": seed.tasks,
            "followups": seed.followups,
            "deadlines": seed.deadlines,
            "events": seed.events,
            "rows": seed.rows,
            "seconds": round(seed.seconds, 1),
            "seconds_per_100k": round(seed.seconds_per_100k, 1),
            "rows_per_second": round(seed.rows_per_second),
        }
        print(
            f"seeded {seed.complaints:,} complaints with their history ({seed.rows:,} rows) in {seed.seconds:.1f} s "
            f"({seed.seconds_per_100k:.1f} s/100k, {seed.rows_per_second:,.0f} rows/s)"
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT sqlite_version()" if vendor == "sqlite" else "SHOW server_version")
        result["database_version"] = cursor.fetchone()[0]
    result["complaints_in_database"] = Complaint.objects.count()

    from django.contrib.auth import get_user_model

    _token, raw_key = api_token_create(user=get_user_model().objects.get(username="integration"), name="bench")
    start_index = Complaint.objects.count() * 10  # fresh phone numbers on every run: new customers
    if not args.skip_intake:
        print(f"intake in-process: {args.intake_requests} requests …")
        result["intake_in_process"] = bench_intake_in_process(raw_key, args.intake_requests, start_index)
    if not args.skip_http and not args.skip_intake:
        print(f"intake over HTTP: gunicorn {args.workers} workers, {args.http_threads} client threads …")
        connection.close()
        result["intake_http"] = bench_intake_http(
            database_url,
            raw_key,
            args.http_requests,
            args.http_threads,
            args.workers,
            start_index + args.intake_requests + 100,
        )
    today = time.strftime("%Y-%m-%d")
    queue_paths = {
        "default": "/desk/",
        "filtered": "/desk/?status=acknowledged&priority=2&type=quality",
        "filtered_by_date": f"/desk/?received_from={today[:8]}01&sort=priority",
        "search_phone": "/desk/?q=5678",
    }
    result["queue"] = {}
    for label, path in queue_paths.items():
        print(f"queue {label}: {path} …")
        result["queue"][label] = bench_queue(path, args.queue_requests)

    intake_best = max(
        result.get("intake_in_process", {}).get("per_second", 0), result.get("intake_http", {}).get("per_second", 0)
    )
    result["targets"] = {
        "intake_per_second": INTAKE_TARGET,
        "queue_p95_ms": QUEUE_P95_TARGET_MS,
        "intake_met": intake_best >= INTAKE_TARGET,
        "queue_met": all(result["queue"][k]["p95_ms"] <= QUEUE_P95_TARGET_MS for k in ("default", "filtered")),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"foundation-{vendor}{args.output_suffix}.json"
    if "seeding" not in result and out.exists():
        # A --reuse run did not seed: keep the figure of the run that did.
        earlier = json.loads(out.read_text(encoding="utf-8")).get("seeding")
        if earlier:
            result["seeding"] = {**earlier, "from_earlier_run": True}
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    print()
    print(f"{'measure':<34} {'value':>12}  notes")
    if "seeding" in result:
        s = result["seeding"]
        print(
            f"{'seeding, s per 100k':<34} {s['seconds_per_100k']:>12}  "
            f"{s['complaints']:,} complaints, {s['events']:,} events"
        )
    if "intake_in_process" in result:
        i = result["intake_in_process"]
        print(
            f"{'intake in-process, /s':<34} {i['per_second']:>12}  p95 {i['latency_ms_p95']} ms, "
            f"{i['cpu_ms_per_request']} ms CPU each, errors {i['errors']}"
        )
    if "intake_http" in result:
        h = result["intake_http"]
        print(
            f"{'intake gunicorn x' + str(h['workers']) + ', /s':<34} {h['per_second']:>12}  "
            f"{h['client_threads']} threads, p95 {h['latency_ms_p95']} ms, errors {h['errors']}"
        )
    for label, q in result["queue"].items():
        print(
            f"{'queue ' + label + ', p95 ms':<34} {q['p95_ms']:>12}  median {q['median_ms']} ms, "
            f"{q['cpu_ms_per_request']} ms CPU, {q['queries']} queries"
        )
    print(
        f"\ntargets: intake >= {INTAKE_TARGET}/s: {result['targets']['intake_met']}; "
        f"queue p95 <= {QUEUE_P95_TARGET_MS} ms: {result['targets']['queue_met']}"
    )
    print(f"written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
