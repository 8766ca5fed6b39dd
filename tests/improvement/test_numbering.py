"""Action numbers stay unique and consecutive when many are created at the same moment (PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from closeloop.improvement.models import ImprovementAction, MonthlySequence
from tests.conftest import aware

NOW = aware(2026, 11, 23, 10, 0)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_creations_get_consecutive_numbers(make_action: Callable[..., ImprovementAction]) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (run with DATABASE_URL=postgres://…)")

    def create(_index: int) -> str:
        try:
            return make_action(now=NOW).number
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        numbers = list(pool.map(create, range(40)))
    assert sorted(numbers) == [f"GJ202611-{seq:03d}" for seq in range(1, 41)]
    assert MonthlySequence.objects.get(month="202611").last == 40
