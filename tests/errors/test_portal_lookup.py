"""The status lookup's rules (closeloop/portal/lookup.py), proved with injected clocks: nobody walks
the 10,000 last-4 pairs of a number, from one address or from thousands, and no wrong guess locks the
real customer out."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from closeloop.complaints.models import Complaint
from closeloop.portal.lookup import Outcome, address_window, number_window, status_lookup

pytestmark = pytest.mark.django_db

PHONE = "13812345678"
RIGHT = PHONE[-4:]
PAIRS = [f"{i:04d}" for i in range(10_000)]
DAY = 24 * 60 * 60
T0 = 2_000_000_000 - 2_000_000_000 % DAY + 60.0  # just after the start of a day's window (UTC)


@pytest.fixture(autouse=True)
def _rules(settings: Any) -> None:
    settings.PORTAL_LOOKUP_MAX_ATTEMPTS = 5
    settings.PORTAL_LOOKUP_WINDOW_SECONDS = 15 * 60
    settings.PORTAL_LOOKUP_NUMBER_MAX_WRONG = 10
    settings.PORTAL_LOOKUP_NUMBER_WINDOW_SECONDS = DAY


@pytest.fixture
def fast_cache(settings: Any) -> None:
    """Ten thousand lookups: the counters in process memory (the rules are the same in every cache)."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": uuid.uuid4().hex}
    }


@pytest.fixture
def complaint(make_complaint: Callable[..., Complaint]) -> Complaint:
    return make_complaint(phone=PHONE)


def _attack(number: str, order: list[str], *, per_address: int, start: float) -> list[tuple[str, Outcome]]:
    """Every pair in `order`, `per_address` from each address (under the address limit), 10 ms apart."""
    results = []
    for i, pair in enumerate(order):
        address = f"10.{i // per_address // 65536 % 256}.{i // per_address // 256 % 256}.{i // per_address % 256}"
        outcome = status_lookup(address=address, number=number, phone_last4=pair, now=start + i * 0.01).outcome
        results.append((pair, outcome))
    return results


def _compared(results: list[tuple[str, Outcome]]) -> list[str]:
    return [pair for pair, outcome in results if outcome in (Outcome.FOUND, Outcome.NOT_FOUND)]


@pytest.mark.usefixtures("fast_cache")
def test_thousands_of_addresses_walking_all_10000_pairs_get_at_most_the_numbers_budget_compared(
    complaint: Complaint,
) -> None:
    # The attacker's worst luck: the right pair comes last. 2,500 addresses, 4 tries each.
    order = [p for p in random.Random(7).sample(PAIRS, len(PAIRS)) if p != RIGHT] + [RIGHT]

    results = _attack(complaint.number, order, per_address=4, start=T0)

    compared = _compared(results)
    assert len(compared) == 10
    assert all(outcome is not Outcome.FOUND for _pair, outcome in results)
    assert {outcome for _pair, outcome in results[10:]} == {Outcome.WHOLE_PHONE}
    assert results[-1] == (RIGHT, Outcome.WHOLE_PHONE)  # the right digits, once the budget is spent, tell nothing


@pytest.mark.usefixtures("fast_cache")
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_whatever_the_order_only_the_budget_is_compared_so_the_chance_is_10_in_10000(
    complaint: Complaint, seed: int
) -> None:
    order = random.Random(seed).sample(PAIRS, len(PAIRS))

    results = _attack(complaint.number, order, per_address=4, start=T0)

    compared = _compared(results)
    found = [pair for pair, outcome in results if outcome is Outcome.FOUND]
    assert len(compared) <= 10
    assert found == ([RIGHT] if RIGHT in compared else [])


@pytest.mark.usefixtures("fast_cache")
def test_over_days_the_walk_takes_a_thousand_days(complaint: Complaint) -> None:
    wrong = [p for p in PAIRS if p != RIGHT]
    compared_per_day = []
    for day in range(3):
        results = _attack(complaint.number, wrong[day * 300 : (day + 1) * 300], per_address=4, start=T0 + day * DAY)
        compared_per_day.append(len(_compared(results)))

    assert compared_per_day == [10, 10, 10]  # 10,000 pairs / 10 a day: 1,000 days, 500 on average


def test_one_address_gets_five_wrong_answers_then_nothing_until_its_window_ends(complaint: Complaint) -> None:
    wrong = [
        status_lookup(address="203.0.113.5", number=complaint.number, phone_last4=f"000{i}", now=T0) for i in range(5)
    ]
    blocked = status_lookup(address="203.0.113.5", number=complaint.number, phone_last4=RIGHT, now=T0 + 1)
    next_window = status_lookup(address="203.0.113.5", number=complaint.number, phone_last4=RIGHT, now=T0 + 15 * 60)

    assert [r.outcome for r in wrong] == [Outcome.NOT_FOUND] * 5
    assert blocked.outcome is Outcome.BLOCKED
    assert next_window.outcome is Outcome.FOUND


def test_a_blocked_address_counts_nowhere(complaint: Complaint) -> None:
    for i in range(5):
        status_lookup(address="203.0.113.5", number=complaint.number, phone_last4=f"000{i}", now=T0)
    for i in range(100):  # refused, and not counted: neither against the address nor against the number
        assert (
            status_lookup(address="203.0.113.5", number=complaint.number, phone_last4=f"{i:04d}", now=T0 + 1).outcome
            is Outcome.BLOCKED
        )

    assert address_window().count("203.0.113.5", now=T0 + 2) == 5
    assert number_window().count(complaint.number, now=T0 + 2) == 5
    assert (
        status_lookup(address="198.51.100.7", number=complaint.number, phone_last4=RIGHT, now=T0 + 3).outcome
        is Outcome.FOUND
    )


def test_right_answers_do_not_count(complaint: Complaint) -> None:
    outcomes = {
        status_lookup(address="203.0.113.5", number=complaint.number, phone_last4=RIGHT, now=T0 + i).outcome
        for i in range(50)
    }

    assert outcomes == {Outcome.FOUND}
    assert address_window().count("203.0.113.5", now=T0 + 60) == 0
    assert number_window().count(complaint.number, now=T0 + 60) == 0


@pytest.mark.usefixtures("fast_cache")
def test_the_real_customer_gets_in_during_an_attack_with_the_whole_phone_number(complaint: Complaint) -> None:
    _attack(complaint.number, PAIRS[:2000], per_address=5, start=T0)

    with_digits = status_lookup(address="192.0.2.44", number=complaint.number, phone_last4=RIGHT, now=T0 + 30)
    with_phone = status_lookup(address="192.0.2.44", number=complaint.number, phone=PHONE, now=T0 + 31)

    assert with_digits.outcome is Outcome.WHOLE_PHONE
    assert with_phone.outcome is Outcome.FOUND and with_phone.complaint == complaint


def test_the_whole_phone_request_says_nothing_about_whether_the_number_exists(complaint: Complaint) -> None:
    unknown = "TS20990101-9999"
    for i in range(10):
        status_lookup(address=f"10.1.0.{i}", number=complaint.number, phone_last4=f"900{i}", now=T0)
        status_lookup(address=f"10.2.0.{i}", number=unknown, phone_last4=f"900{i}", now=T0)

    existing = status_lookup(address="10.3.0.1", number=complaint.number, phone_last4="1111", now=T0 + 1)
    absent = status_lookup(address="10.3.0.2", number=unknown, phone_last4="1111", now=T0 + 1)

    assert existing.outcome is absent.outcome is Outcome.WHOLE_PHONE


def test_a_wrong_whole_phone_number_counts_against_the_address_only(complaint: Complaint) -> None:
    results = [
        status_lookup(address="203.0.113.9", number=complaint.number, phone=f"139{i:08d}", now=T0) for i in range(6)
    ]

    assert [r.outcome for r in results] == [Outcome.NOT_FOUND] * 5 + [Outcome.BLOCKED]
    assert number_window().count(complaint.number, now=T0) == 0


def test_six_wrong_tries_from_elsewhere_do_not_block_the_customer(client: Any, complaint: Complaint) -> None:
    """The finding: six wrong tries against a number from any address blocked its customer for 15 minutes."""
    from django.urls import reverse

    url = reverse("portal:status")
    for i in range(6):
        client.post(url, {"number": complaint.number, "phone_last4": f"000{i}"}, REMOTE_ADDR=f"198.51.100.{i}")

    response = client.post(url, {"number": complaint.number, "phone_last4": RIGHT}, REMOTE_ADDR="192.0.2.10")

    assert response.status_code == 302
    assert response["Location"] == reverse("portal:status_detail", args=[complaint.number])
