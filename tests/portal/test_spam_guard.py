"""The spam guard and the throttle with injected clocks."""

from __future__ import annotations

from typing import Any

import pytest

from closeloop.core.throttle import throttle_hit
from closeloop.portal.spam_guard import Verdict, form_token_issue, submission_check

T0 = 1_800_000_000.0


@pytest.fixture(autouse=True)
def _guard_settings(settings: Any) -> None:
    settings.PORTAL_FORM_MIN_SECONDS = 3
    settings.PORTAL_FORM_MAX_AGE_SECONDS = 7200


@pytest.mark.parametrize(
    ("age", "verdict"),
    [(0, Verdict.TOO_FAST), (2.9, Verdict.TOO_FAST), (3.1, Verdict.OK), (7199, Verdict.OK), (7201, Verdict.EXPIRED)],
)
def test_token_age(age: float, verdict: Verdict) -> None:
    token = form_token_issue(now=T0)

    assert submission_check({"form_token": token}, now=T0 + age) is verdict


def test_honeypot_wins_over_a_good_token() -> None:
    token = form_token_issue(now=T0)

    assert submission_check({"form_token": token, "website": "x"}, now=T0 + 10) is Verdict.HONEYPOT


def test_altered_token_is_refused() -> None:
    token = form_token_issue(now=T0)
    forged = form_token_issue(now=T0 - 100).split(":")[0] + ":" + token.split(":", 1)[1]

    assert submission_check({"form_token": forged}, now=T0 + 10) is Verdict.TAMPERED
    assert submission_check({}, now=T0) is Verdict.MISSING_TOKEN


def test_token_from_another_salt_is_refused() -> None:
    from django.core import signing

    other = signing.TimestampSigner(salt="something-else").sign_object({"t": T0})

    assert submission_check({"form_token": other}, now=T0 + 10) is Verdict.TAMPERED


@pytest.mark.django_db
def test_throttle_counts_within_a_window_and_forgets_after_it() -> None:
    start = 900.0 * 2_000_000  # the start of a 900 s window

    hits = [
        throttle_hit(scope="t", identity="1.2.3.4", max_hits=2, window_seconds=900, now=start + i) for i in range(3)
    ]
    other = throttle_hit(scope="t", identity="5.6.7.8", max_hits=2, window_seconds=900, now=start + 3)
    next_window = throttle_hit(scope="t", identity="1.2.3.4", max_hits=2, window_seconds=900, now=start + 900)

    assert hits == [False, False, True]
    assert other is False
    assert next_window is False


def test_client_ip_behind_a_proxy_takes_the_address_the_proxy_added(settings: Any, rf: Any) -> None:
    from closeloop.core.throttle import client_ip

    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    assert client_ip(request) == "10.0.0.1"

    settings.PORTAL_CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    assert client_ip(request) == "203.0.113.7"
