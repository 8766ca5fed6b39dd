"""django-helpdesk's half of the comparison: runs with var/bench-helpdesk/venv/bin/python, never with ours.

    python helpdesk_side.py --project DIR seed --tickets 100000 --username staff --password PW [--seed 1]
    python helpdesk_side.py --project DIR probe --username staff --paths-json '[...]' [--create-form-json '{...}']

`seed` migrates the generated project's SQLite database and bulk-creates tickets through helpdesk's own
models: six queues (the complaint types CloseLoop uses), eight staff users (the measuring one included),
tickets received over the last 365 days with realistic statuses (older ones mostly closed), priorities,
owners (some unassigned), due dates, submitters from a customer pool, and 1–4 follow-ups per ticket with
the TicketChange rows of their status changes — what helpdesk itself would have written, so its list,
dashboard and reports have the usual work to do. The texts are CloseLoop's demo texts (Chinese), read
from closeloop/demo/data/ so both databases hold rows of the same size.

`probe` logs the staff user in with Django's test client and, for each path, counts the SQL statements
of one request (after one warm-up) and times it. Both commands print one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "closeloop" / "demo" / "data"

QUEUES = [  # (title, slug, weight) — CloseLoop's complaint types and their weights in its generator
    ("Quality", "quality", 40),
    ("Service", "service", 11),
    ("Logistics", "logistics", 12),
    ("Delivery", "delivery", 10),
    ("Price", "price", 6),
    ("Installation", "installation", 15),
]
PRIORITY_WEIGHTS = {1: 4, 2: 14, 3: 62, 4: 14, 5: 6}
OTHER_STAFF = 7
UNASSIGNED_SHARE = 0.12
REPORTED_BY_STAFF_SHARE = 0.002  # tickets whose submitter is the measuring user (its dashboard lists them)
DUE_DATE_SHARE = 0.3


def setup(project: Path) -> None:
    sys.path.insert(0, str(project))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchsite.settings")
    import django

    django.setup()


def _status_for(rng: random.Random, age_days: float) -> int:
    """1 open, 2 reopened, 3 resolved, 4 closed, 5 duplicate: recent tickets are still being worked on."""
    if age_days < 7:
        weights = {1: 60, 2: 4, 3: 16, 4: 17, 5: 3}
    elif age_days < 30:
        weights = {1: 25, 2: 5, 3: 15, 4: 51, 5: 4}
    else:
        weights = {1: 3, 2: 1, 3: 4, 4: 87, 5: 5}
    return rng.choices(list(weights), list(weights.values()))[0]


def seed(args: argparse.Namespace) -> dict[str, Any]:
    setup(args.project)
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone
    from helpdesk.models import FollowUp, Queue, Ticket, TicketChange

    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    user_model = get_user_model()
    staff, _created = user_model.objects.get_or_create(
        username=args.username, defaults={"email": f"{args.username}@helpdesk.example", "is_staff": True}
    )
    staff.is_staff = True
    staff.set_password(args.password)
    staff.save()
    owners = [staff]
    for index in range(1, OTHER_STAFF + 1):
        user, created = user_model.objects.get_or_create(
            username=f"agent{index}",
            defaults={"email": f"agent{index}@helpdesk.example", "is_staff": True, "first_name": f"Agent {index}"},
        )
        if created:
            user.set_unusable_password()
            user.save()
        owners.append(user)
    queues = []
    for title, slug, _weight in QUEUES:
        queue, _created = Queue.objects.get_or_create(
            slug=slug, defaults={"title": title, "email_address": f"{slug}@helpdesk.example"}
        )
        queues.append(queue)
    queue_weights = [w for _t, _s, w in QUEUES]

    existing = Ticket.objects.count()
    missing = max(args.tickets - existing, 0)
    texts = json.loads((DATA / "texts.json").read_text(encoding="utf-8"))
    products = [
        name
        for line in json.loads((DATA / "products.json").read_text(encoding="utf-8"))["lines"]
        for name, _en in line["products"]
    ]
    descriptions = [d for family in texts["descriptions"].values() for ds in family.values() for d in ds]
    resolutions = texts["resolutions"]
    demands = texts["demands"]

    rng = random.Random(args.seed)
    now = timezone.now()
    # auto_now / auto_now_add would stamp every bulk-created row with "now"; the history needs real dates.
    created_field, modified_field = Ticket._meta.get_field("created"), Ticket._meta.get_field("modified")
    created_field.auto_now_add = False
    modified_field.auto_now = False
    counts = {"tickets": 0, "followups": 0, "ticket_changes": 0}
    batch = args.batch
    for start in range(0, missing, batch):
        size = min(batch, missing - start)
        tickets, histories = [], []
        for _i in range(size):
            age = rng.random() ** 1.15 * 365  # a slowly rising trend: more recent tickets
            created = now - datetime.timedelta(days=age, seconds=rng.randrange(3600))
            status = _status_for(rng, age)
            owner = None if rng.random() < UNASSIGNED_SHARE and status in (1, 2) else rng.choice(owners)
            product = rng.choice(products)
            description = rng.choice(descriptions).format(product=product, days=rng.randint(1, 90))
            submitter = (
                staff.email if rng.random() < REPORTED_BY_STAFF_SHARE else f"c{rng.randrange(85_000)}@example.cn"
            )
            # Follow-ups: opened, 0–2 comments, and the closing one for finished tickets.
            history = [("Ticket Opened", created, None, "")]
            moment = created
            for _c in range(rng.choices([0, 1, 2], [35, 45, 20])[0]):
                moment = min(now, moment + datetime.timedelta(hours=rng.uniform(0.5, 72)))
                history.append(("Comment", moment, None, rng.choice(demands)))
            if status in (3, 4, 5):
                moment = min(now, moment + datetime.timedelta(hours=rng.uniform(1, 240)))
                label = {3: "Resolved", 4: "Closed", 5: "Closed (duplicate)"}[status]
                history.append((label, moment, status, rng.choice(resolutions)))
            elif status == 2:
                moment = min(now, moment + datetime.timedelta(hours=rng.uniform(1, 120)))
                history.append(("Reopened", moment, 2, "客户再次来电，问题未解决。"))
            tickets.append(
                Ticket(
                    title=f"{product}：{description[:30]}",
                    queue=rng.choices(queues, queue_weights)[0],
                    created=created,
                    modified=moment,
                    submitter_email=submitter,
                    assigned_to=owner,
                    status=status,
                    description=description,
                    resolution=history[-1][3] if status in (3, 4) else "",
                    priority=rng.choices(list(PRIORITY_WEIGHTS), list(PRIORITY_WEIGHTS.values()))[0],
                    due_date=created + datetime.timedelta(days=rng.choice([1, 3, 7, 15]))
                    if rng.random() < DUE_DATE_SHARE
                    else None,
                )
            )
            histories.append((owner, history))
        with transaction.atomic():
            Ticket.objects.bulk_create(tickets, batch_size=500)
            followups, changes_for = [], []
            for ticket, (owner, history) in zip(tickets, histories, strict=True):
                for title, date, new_status, comment in history:
                    followups.append(
                        FollowUp(
                            ticket_id=ticket.id,
                            title=title,
                            date=date,
                            comment=comment or ticket.description,
                            public=True,
                            user=owner or staff,
                            new_status=new_status,
                        )
                    )
                    changes_for.append(new_status)
            FollowUp.objects.bulk_create(followups, batch_size=500)
            old = {3: "Open", 4: "Open", 5: "Open", 2: "Resolved"}
            names = {2: "Reopened", 3: "Resolved", 4: "Closed", 5: "Duplicate"}
            changes = [
                TicketChange(followup_id=f.id, field="Status", old_value=old[s], new_value=names[s])
                for f, s in zip(followups, changes_for, strict=True)
                if s
            ]
            TicketChange.objects.bulk_create(changes, batch_size=500)
        counts["tickets"] += len(tickets)
        counts["followups"] += len(followups)
        counts["ticket_changes"] += len(changes)
        if (start // batch) % 4 == 0:
            print(f"  helpdesk: {start + size:,} tickets in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    created_field.auto_now_add = True
    modified_field.auto_now = True
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    seconds = time.perf_counter() - started
    return {
        "seeded": counts,
        "seconds": round(seconds, 1),
        "tickets_in_database": Ticket.objects.count(),
        "followups_in_database": FollowUp.objects.count(),
        "queue_ids": [queue.id for queue in queues],
    }


def probe(args: argparse.Namespace) -> dict[str, Any]:
    """SQL statements and in-process time of one request per path, after a warm-up request."""
    setup(args.project)
    from importlib import metadata

    import django
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from helpdesk.models import Ticket

    client = Client()
    client.force_login(get_user_model().objects.get(username=args.username))
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
    if args.create_form_json:
        form = json.loads(args.create_form_json)
        client.post("/helpdesk/tickets/submit/", form)
        with CaptureQueriesContext(connection) as queries:
            response = client.post("/helpdesk/tickets/submit/", form)
        results["create"] = {
            "path": "/helpdesk/tickets/submit/",
            "status": response.status_code,
            "queries": len(queries.captured_queries),
        }
    with connection.cursor() as cursor:
        cursor.execute("SELECT sqlite_version()")
        sqlite_version = cursor.fetchone()[0]
    return {
        "requests": results,
        "tickets_in_database": Ticket.objects.count(),
        "versions": {
            "django": django.get_version(),
            "django_helpdesk": metadata.version("django-helpdesk"),
            "python": sys.version.split()[0],
            "sqlite": sqlite_version,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project", type=Path, required=True, help="the generated project's directory")
    sub = parser.add_subparsers(dest="command", required=True)
    seeding = sub.add_parser("seed")
    seeding.add_argument("--tickets", type=int, required=True)
    seeding.add_argument("--username", required=True)
    seeding.add_argument("--password", required=True)
    seeding.add_argument("--seed", type=int, default=1)
    seeding.add_argument("--batch", type=int, default=5000)
    probing = sub.add_parser("probe")
    probing.add_argument("--username", required=True)
    probing.add_argument("--paths-json", required=True, help='{"label": "/path", ...}')
    probing.add_argument("--create-form-json", default="", help="form fields of one staff ticket creation")
    args = parser.parse_args()
    result = seed(args) if args.command == "seed" else probe(args)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
