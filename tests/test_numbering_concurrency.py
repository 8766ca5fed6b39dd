"""Complaint numbers stay unique and gap-free when many intakes run at the same moment."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection

from closeloop.complaints.models import Complaint, DailySequence
from closeloop.complaints.services import IntakeData, complaint_register
from tests.conftest import aware

NOW = aware(2026, 11, 23, 10, 0)


def _register_many(actor: User, *, total: int, threads: int) -> tuple[list[str], list[BaseException]]:
    def register(index: int) -> str:
        try:
            data = IntakeData(
                channel="api",
                customer_name=f"并发客户{index}",
                phone=f"139{index:08d}",
                description="并发登记测试",
                type_code="quality",
            )
            return complaint_register(data=data, actor=actor, via="api", now=NOW).number
        finally:
            connection.close()  # each thread has its own connection; give it back

    numbers: list[str] = []
    errors: list[BaseException] = []
    with ThreadPoolExecutor(max_workers=threads) as pool:
        futures = [pool.submit(register, i) for i in range(total)]
        for future in futures:
            try:
                numbers.append(future.result())
            except BaseException as exc:  # collected and asserted on below
                errors.append(exc)
    return numbers, errors


def _assert_consecutive(numbers: list[str], total: int) -> None:
    assert len(numbers) == len(set(numbers)) == total
    assert sorted(numbers) == [f"TS20261123-{seq:04d}" for seq in range(1, total + 1)]
    assert Complaint.objects.count() == total
    assert DailySequence.objects.get(day=NOW.date()).last == total


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_200_concurrent_intakes_on_postgresql_get_200_consecutive_numbers(agent: User) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (run with DATABASE_URL=postgres://…)")
    numbers, errors = _register_many(agent, total=200, threads=32)
    assert errors == []
    _assert_consecutive(numbers, 200)


@pytest.mark.django_db(transaction=True)
def test_concurrent_intakes_on_sqlite_get_consecutive_numbers(agent: User, settings: Any) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite variant")
    name = str(connection.settings_dict["NAME"])
    if name == ":memory:" or "mode=memory" in name:
        # Threads on a shared-cache in-memory database lock tables instead of waiting on
        # busy_timeout; the production setting (a WAL file) is what this test is about.
        pytest.skip("in-memory SQLite test database")
    numbers, errors = _register_many(agent, total=40, threads=8)
    assert errors == []
    _assert_consecutive(numbers, 40)
