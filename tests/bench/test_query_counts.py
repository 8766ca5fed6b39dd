"""The benchmark's pages cost the same number of SQL statements at 1,000 complaints as at 3,000.

Realistic data from the generator (every state, tasks, follow-ups, events), the very pages and users
`make bench` measures (bench/bench_suite.py `suite_pages`); the suite records the same counts at 100,000
(SQLite) and 1,000,000 (PostgreSQL) in bench/results/suite-*.json. (Those run outside a test transaction,
so their counts include the BEGIN/COMMIT of the access-log write that a test's savepoint hides.)"""

from __future__ import annotations

import datetime
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from closeloop.complaints.models import Complaint
from closeloop.demo.generator import seed_complaints
from tests.bench import bench_script

BENCH = Path(__file__).resolve().parents[2] / "bench"


suite = bench_script("bench_suite.py", "bench_suite_for_tests")


def _statements(pages: dict[str, tuple[str, list[str]]]) -> dict[str, list[int]]:
    """Statements per path of each page (after a warm-up request per user)."""
    clients: dict[str, Client] = {}
    counts: dict[str, list[int]] = {}
    for name, (username, paths) in pages.items():
        if username not in clients:
            clients[username] = Client()
            clients[username].force_login(get_user_model().objects.get(username=username))
            clients[username].get("/desk/")
        client = clients[username]
        counts[name] = []
        for path in paths:
            with CaptureQueriesContext(connection) as queries:
                response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            counts[name].append(len(queries.captured_queries))
    return counts


@pytest.mark.django_db
def test_list_pages_cost_the_same_statements_at_every_size(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.KPI_CACHE_SECONDS = 0  # every request computes its aggregates
    call_command("demo", stdout=StringIO())
    seed_complaints(count=max(0, 1000 - Complaint.objects.count()), seed=11)  # the demo imports a year of history
    first = datetime.date.today().replace(day=1) - datetime.timedelta(days=1)
    month_q = f"month={first.year}-{first.month:02d}"
    # The same complaints' pages at both sizes: one of each state.
    numbers = list(
        Complaint.objects.order_by("status", "-id").distinct("status").values_list("number", flat=True)
        if connection.vendor == "postgresql"
        else {c.status: c.number for c in Complaint.objects.order_by("id").only("status", "number")}.values()
    )
    pages = suite.suite_pages(numbers, month_q)
    small = _statements(pages)
    seed_complaints(count=2000, seed=12)
    assert Complaint.objects.count() >= 3000
    large = _statements(pages)
    assert large == small
    for name, counts in small.items():
        assert counts and min(counts) > 0, name
