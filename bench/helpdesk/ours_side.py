"""CloseLoop's half of the comparison: runs with our .venv python, against its own SQLite database.

    python ours_side.py --database PATH --data-dir DIR seed --complaints 100000 [--seed 1]
    python ours_side.py --database PATH --data-dir DIR token --user integration
    python ours_side.py --database PATH --data-dir DIR probe --username supervisor --paths-json '{...}'
        [--api-json '{...}' --api-user integration] [--form-json '{...}']

`seed` migrates, loads the demo users and catalogue (`closeloop demo`) and seeds the complaints with the
project's generator (closeloop.demo.generator.seed_complaints: all states, events, deadlines), as
bench/bench_foundation.py does. `token` creates an API token (as `closeloop token create` does) and
prints it. `probe` counts the SQL statements of one request per path with Django's test client (after
one warm-up), and of one intake through the API and through the desk registration form. Every command
prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def setup(args: argparse.Namespace) -> None:
    """Django on the benchmark database, migrated to the code as it is now (a reused database may
    predate a migration)."""
    os.environ["DATABASE_URL"] = f"sqlite:///{args.database}"
    os.environ["CLOSELOOP_DATA_DIR"] = str(args.data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "closeloop.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def seed(args: argparse.Namespace) -> dict[str, Any]:
    setup(args)
    from django.core.management import call_command
    from django.db import connection

    from closeloop.complaints.models import Complaint, Event
    from closeloop.demo.generator import SeedResult, seed_complaints

    started = time.perf_counter()
    call_command("createcachetable", verbosity=0)
    with open(os.devnull, "w") as devnull:
        call_command("demo", stdout=devnull)  # users, catalogue, integration token, 300 complaints
    missing = max(args.complaints - Complaint.objects.count(), 0)

    def progress(r: SeedResult) -> None:
        if r.complaints % 20_000 < 5000:
            print(f"  closeloop: {r.complaints:,} complaints in {r.seconds:.0f} s", file=sys.stderr)

    result = seed_complaints(count=missing, seed=args.seed, progress=progress)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "seeded": {"complaints": result.complaints, "customers": result.customers, "events": result.events},
        "seconds": round(time.perf_counter() - started, 1),
        "complaints_in_database": Complaint.objects.count(),
        "events_in_database": Event.objects.count(),
    }


def token(args: argparse.Namespace) -> dict[str, Any]:
    setup(args)
    from django.contrib.auth import get_user_model

    from closeloop.core.services import api_token_create

    _token, raw_key = api_token_create(user=get_user_model().objects.get(username=args.user), name=args.name)
    return {"user": args.user, "key": raw_key}


def probe(args: argparse.Namespace) -> dict[str, Any]:
    setup(args)
    import django
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from closeloop.complaints.models import Complaint

    users = get_user_model().objects
    client = Client()
    client.force_login(users.get(username=args.username))
    results: dict[str, Any] = {}
    for label, path in json.loads(args.paths_json).items():
        client.get(path)
        t0 = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        results[label] = {
            "path": path,
            "status": response.status_code,
            "queries": len(queries.captured_queries),
            "ms": round((time.perf_counter() - t0) * 1000, 1),
        }
    if args.form_json:
        form = json.loads(args.form_json)
        for attempt in range(2):  # the first one warms up
            form["phone"] = f"1390000{int(time.time() * 1000) % 10000:04d}{attempt}"[:11]
            with CaptureQueriesContext(connection) as queries:
                response = client.post("/desk/new/", form)
        results["create_form"] = {
            "path": "/desk/new/",
            "status": response.status_code,
            "queries": len(queries.captured_queries),
        }
    if args.api_json:
        api_client = Client()
        api_client.force_login(users.get(username=args.api_user))
        payload = json.loads(args.api_json)
        for attempt in range(2):
            payload["phone"] = f"1380000{int(time.time() * 1000) % 10000:04d}{attempt}"[:11]
            with CaptureQueriesContext(connection) as queries:
                response = api_client.post("/api/v1/complaints", payload, content_type="application/json")
        results["create_api"] = {
            "path": "/api/v1/complaints",
            "status": response.status_code,
            "queries": len(queries.captured_queries),
        }
    with connection.cursor() as cursor:
        cursor.execute("SELECT sqlite_version()")
        sqlite_version = cursor.fetchone()[0]
    return {
        "requests": results,
        "complaints_in_database": Complaint.objects.count(),
        "versions": {"django": django.get_version(), "python": sys.version.split()[0], "sqlite": sqlite_version},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", type=Path, required=True)
    parser.add_argument("--data-dir", type=Path, required=True, help="CLOSELOOP_DATA_DIR (huey file, secret key)")
    sub = parser.add_subparsers(dest="command", required=True)
    seeding = sub.add_parser("seed")
    seeding.add_argument("--complaints", type=int, required=True)
    seeding.add_argument("--seed", type=int, default=1)
    tokens = sub.add_parser("token")
    tokens.add_argument("--user", required=True)
    tokens.add_argument("--name", default="bench-helpdesk")
    probing = sub.add_parser("probe")
    probing.add_argument("--username", required=True)
    probing.add_argument("--paths-json", required=True)
    probing.add_argument("--form-json", default="")
    probing.add_argument("--api-json", default="")
    probing.add_argument("--api-user", default="integration")
    args = parser.parse_args()
    result = {"seed": seed, "token": token, "probe": probe}[args.command](args)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
