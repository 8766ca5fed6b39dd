"""Instructions per request, counted by valgrind's callgrind: for comparing two versions of the code.

    .venv/bin/python bench/instructions.py --database COPY.sqlite3 intake [--form] [--requests 100]
    .venv/bin/python bench/instructions.py --database COPY.sqlite3 page /desk/ [--user supervisor]

The rates and CPU times of the other benches moved by a half between reruns on the shared two-core machine
(issue 20), too much to see a change of a few per cent. The number of instructions a request executes is
the same on every run of the same code on the same data, whatever else the machine does: run this on two
checkouts (ROOT= the other one) against copies of one database, and compare.

The script runs itself under `valgrind --tool=callgrind --collect-atstart=no --toggle-collect=deque_init`:
the measured requests are driven through `collections.deque(map(...), maxlen=0)`, so that one C function
encloses them and only they are counted — not Python's and Django's start, nor the warm-up requests. The
requests run in-process (Django's test client): intakes through the API with an integration token, or
through the desk's registration form as the agent (`--form`; the "registered" message is dropped after
each post, as the page the browser is redirected to would show and clear it); a page as `--user`. Work
the kernel does (writing the database's pages, waiting for a lock) is not counted. Under valgrind a
request runs ~50 times slower: 100 intakes take two to three minutes, most of them Django's start.

Prints one JSON object; needs valgrind (Debian's package) and a database with the demo users (the
foundation and helpdesk benches' databases have them). The database is written to (intakes, access log):
give it a copy.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(os.environ.get("ROOT") or Path(__file__).resolve().parent.parent)
WARMUP = 20


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", type=Path, required=True, help="a SQLite database (a copy: it is written)")
    parser.add_argument("--data-dir", type=Path, help="CLOSELOOP_DATA_DIR (default: a directory beside the database)")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    workloads = parser.add_subparsers(dest="workload", required=True)
    intake = workloads.add_parser("intake", help="complaints registered through the API (or --form)")
    intake.add_argument("--form", action="store_true", help="through the desk's registration form, as the agent")
    page = workloads.add_parser("page", help="GET a page")
    page.add_argument("path")
    page.add_argument("--user", default="supervisor")
    args = parser.parse_args(argv)
    if args.requests < 1:
        parser.error("--requests must be at least 1")
    return args


def instructions_collected(valgrind_output: str) -> int:
    """The total valgrind reports ("==123== Collected : 1737470376")."""
    match = re.search(r"^==\d+== Collected : (\d+)$", valgrind_output, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"no instruction count in valgrind's output:\n{valgrind_output[-2000:]}")
    return int(match.group(1))


def main() -> None:
    args = parse_args()
    if args.child:
        child(args)
        return
    data_dir = args.data_dir or args.database.parent / f"{args.database.stem}-data"
    command = [
        "valgrind", "--tool=callgrind", "--collect-atstart=no", "--toggle-collect=deque_init",
        "--callgrind-out-file=/dev/null",
        sys.executable, __file__, "--child", "--data-dir", str(data_dir), *sys.argv[1:],
    ]  # fmt: skip
    # Hash randomisation changes dictionaries' layouts, and with them a few instructions per run.
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the measured run failed ({done.returncode}):\n{done.stderr[-3000:]}")
    total = instructions_collected(done.stderr)
    workload = "form" if getattr(args, "form", False) else args.workload
    if args.workload == "page":
        workload = f"page {args.path}"
    print(
        json.dumps(
            {
                "root": str(ROOT),
                "workload": workload,
                "requests": args.requests,
                "instructions": total,
                "million_instructions_per_request": round(total / args.requests / 1e6, 3),
            }
        )
    )


def child(args: argparse.Namespace) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{args.database.resolve()}"
    os.environ["CLOSELOOP_DATA_DIR"] = str(args.data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "closeloop.settings")
    sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    if args.workload == "page":
        client.force_login(get_user_model().objects.get(username=args.user))

        def request(_index: int) -> int:
            return client.get(args.path).status_code

        ok = 200
    elif args.form:
        client.force_login(get_user_model().objects.get(username="agent"))
        request, ok = _form_poster(client), 302
    else:
        request, ok = _api_poster(client), 201
    for index in range(WARMUP):
        if (status := request(index)) != ok:
            raise SystemExit(f"warm-up request answered {status}, expected {ok}")
    statuses: collections.Counter[int] = collections.Counter()

    def measured(index: int) -> None:
        statuses[request(WARMUP + index)] += 1

    collections.deque(map(measured, range(args.requests)), maxlen=0)  # counted: see the module's docstring
    if set(statuses) != {ok}:
        raise SystemExit(f"measured requests answered {dict(statuses)}, expected {ok}")


def _api_poster(client: Any) -> Any:
    from bench_foundation import intake_payload
    from django.contrib.auth import get_user_model

    from closeloop.core.services import api_token_create

    _token, key = api_token_create(user=get_user_model().objects.get(username="integration"), name="instructions")
    headers = {"Authorization": f"Bearer {key}"}
    rng, base = random.Random(1), _fresh_base()

    def post(index: int) -> int:
        payload = intake_payload(rng, base + index)
        return client.post("/api/v1/complaints", payload, "application/json", headers=headers).status_code

    return post


def _form_poster(client: Any) -> Any:
    from bench_foundation import NAMES, TYPES

    base = _fresh_base()

    def post(index: int) -> int:
        fields = {
            "channel": "hotline",
            "customer_kind": "end_user",
            "customer_name": NAMES[index % len(NAMES)],
            "phone": f"196{(base + index) % 10**8:08d}",
            "type": TYPES[index % len(TYPES)],
            "priority": "3",
            "description": "基准测试：吸顶灯通电后闪烁，用了三天。",
            "attachment_kind": "photo",
        }
        status = client.post("/desk/new/", fields).status_code
        client.cookies.pop("messages", None)  # read and cleared by the page the browser is redirected to
        return status

    return post


def _fresh_base() -> int:
    """Phone numbers and references no earlier run of this database used: every intake a new customer, as
    in compare.py's creations."""
    from closeloop.complaints.models import Complaint

    return (Complaint.objects.count() + 1) * 10


if __name__ == "__main__":
    main()
