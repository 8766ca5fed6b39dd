"""Two real Huey consumers on Redis, against PostgreSQL, running the SLA sweep task at the same moment:
each warning and each escalation is recorded exactly once.

Runs in the PostgreSQL + Redis pass of `make test` (REDIS_URL set); elsewhere it is skipped.
"""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from closeloop.complaints.models import Event
from closeloop.core.roles import Role

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db(transaction=True)
def test_two_consumers_sweep_once(make_complaint, make_user, department, tmp_path) -> None:
    if not settings.REDIS_URL or connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL and Redis (the CI pass of make test)")
    from huey import RedisHuey

    from closeloop.complaints.tasks import sla_sweep_task

    make_user(Role.CS_SUPERVISOR)
    make_user(Role.DEPT_MANAGER, departments=[department], manager=True)
    make_user(Role.MANAGEMENT)
    # Urgent: acknowledge due 30 min after receipt, escalated to management 4 h later; 6 h ago both passed.
    received = timezone.now() - datetime.timedelta(hours=6)
    complaints = [make_complaint(priority=1, received_at=received, now=received) for _ in range(40)]

    # A queue of our own, so that nothing else left in Redis runs against this test's database.
    name = f"closeloop-test-{uuid.uuid4().hex[:8]}"
    queue = RedisHuey(name=name, url=settings.REDIS_URL, utc=True)
    task = queue.task()(sla_sweep_task.func)
    db = connection.settings_dict
    env = {
        **os.environ,
        "HUEY_NAME": name,
        "HUEY_WORKERS": "1",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
    }
    consumers = [
        subprocess.Popen(
            [sys.executable, "-m", "closeloop", "run_huey", "--no-periodic"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(tmp_path / f"consumer-{index}.log").open("w"),
        )
        for index in range(2)
    ]
    try:
        time.sleep(3)  # both consumers listening
        for _ in range(6):  # several sweeps at once, shared by the two consumers
            task()
        # The task returns nothing (no result to wait for): wait until every expected event is there.
        expected = 3 * len(complaints)
        deadline = time.monotonic() + 90
        swept = Event.objects.filter(
            complaint__in=complaints, action__startswith="deadline_", after__milestone="acknowledge"
        )
        while swept.count() < expected and time.monotonic() < deadline:
            time.sleep(0.5)
        while queue.pending_count() and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(2)  # let a late duplicate, if the claims were wrong, land before we count
        if swept.count() < expected:
            logs = "\n".join(p.read_text()[-3000:] for p in tmp_path.glob("consumer-*.log"))
            raise AssertionError(f"the sweeps did not finish; the consumers said:\n{logs}")
    finally:
        for consumer in consumers:
            consumer.terminate()
        for consumer in consumers:
            consumer.wait(timeout=30)
        queue.flush()

    for complaint in complaints:
        swept = list(
            Event.objects.filter(
                complaint=complaint, action__startswith="deadline_", after__milestone="acknowledge"
            ).values_list("action", flat=True)
        )
        assert sorted(swept) == ["deadline_breached", "deadline_escalated", "deadline_warned"], complaint.number
