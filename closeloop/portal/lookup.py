"""The status lookup's rules: who gets to see a complaint, and why nobody can walk through the 10,000
last-4-digit pairs of a complaint number — while a wrong guess never locks the real customer out.

1. An address (PORTAL_LOOKUP_MAX_ATTEMPTS wrong answers per PORTAL_LOOKUP_WINDOW_SECONDS) is refused
   once it has used them up, whatever it sends, until its window ends. Attempts from a blocked
   address are not counted anywhere (not against the address, not against the number), and right
   answers are not counted either: only wrong ones use the allowance.
2. A complaint number has PORTAL_LOOKUP_NUMBER_MAX_WRONG wrong last-4 answers per
   PORTAL_LOOKUP_NUMBER_WINDOW_SECONDS (a day), from all addresses together. Once they are used up,
   last-4 digits are no longer compared for that number — right or wrong, the answer is the same
   request for the whole phone number — so however many addresses an attacker has, at most that many
   of the 10,000 pairs are ever tested per number and window (10 a day: 1,000 days for all of them).
3. The whole phone number the complaint was registered with is always compared (rule 1 still applies
   to the address): the customer knows it, an attacker must guess among hundreds of millions. This is
   how the real customer gets in while their number is under attack — nothing to wait for, no CAPTCHA.
Every answer is the same for an unknown number, wrong digits and a complainant without a phone, so
a caller cannot tell which it was; the request for the whole number depends only on the counters of
the number as typed, whether it exists or not.

Counts are taken before the comparison and given back after it when they must not count (a right
answer, or an attempt that was not compared), so concurrent requests cannot slip past a limit; on
Redis the counters are atomic, on the database cache a handful of simultaneous requests may be
counted once (see docs/decisions.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings

from closeloop.complaints.models import Complaint
from closeloop.core.throttle import Window
from closeloop.portal.selectors import complaint_for_lookup, complaint_for_whole_phone, complaint_number_normalize


class Outcome(StrEnum):
    FOUND = "found"
    NOT_FOUND = "not_found"
    BLOCKED = "blocked"  # rule 1: this address has used up its wrong answers
    WHOLE_PHONE = "whole_phone"  # rule 2: this number's last-4 answers are used up


@dataclass(frozen=True)
class LookupResult:
    outcome: Outcome
    complaint: Complaint | None = None


def address_window() -> Window:
    return Window("lookup-address", settings.PORTAL_LOOKUP_MAX_ATTEMPTS, settings.PORTAL_LOOKUP_WINDOW_SECONDS)


def number_window() -> Window:
    return Window(
        "lookup-number", settings.PORTAL_LOOKUP_NUMBER_MAX_WRONG, settings.PORTAL_LOOKUP_NUMBER_WINDOW_SECONDS
    )


def status_lookup(
    *, address: str, number: str, phone_last4: str = "", phone: str = "", now: float | None = None
) -> LookupResult:
    """One lookup by `address`: with the whole `phone` number when given, else with `phone_last4`."""
    number = complaint_number_normalize(number)
    attempt = address_window().reserve(address, now=now)
    if attempt is None:
        return LookupResult(Outcome.BLOCKED)
    if phone:
        complaint = complaint_for_whole_phone(number=number, phone=phone)
    else:
        guess = number_window().reserve(number, now=now)
        if guess is None:
            attempt.release()  # nothing was compared
            return LookupResult(Outcome.WHOLE_PHONE)
        complaint = complaint_for_lookup(number=number, phone_last4=phone_last4)
        if complaint is not None:
            guess.release()
    if complaint is None:
        return LookupResult(Outcome.NOT_FOUND)
    attempt.release()
    return LookupResult(Outcome.FOUND, complaint)
