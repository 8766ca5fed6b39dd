"""Masking of personal data: for roles without `directory.view_personal_data`, and in log lines."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, unquote, urlencode

if TYPE_CHECKING:  # imported at logging set-up, before the apps are ready
    from closeloop.core.types import AnyUser

PERSONAL_DATA_PERMISSION = "directory.view_personal_data"


def can_see_personal_data(user: AnyUser | None) -> bool:
    return bool(user is not None and user.is_authenticated and user.has_perm(PERSONAL_DATA_PERMISSION))


def mask_phone(phone: str) -> str:
    """`13812345678` → `138****5678`; short numbers keep only their last 4 digits."""
    if not phone:
        return ""
    if len(phone) >= 11:
        return f"{phone[:3]}****{phone[-4:]}"
    if len(phone) > 4:
        return "*" * (len(phone) - 4) + phone[-4:]
    return "*" * len(phone)


def mask_email(email: str) -> str:
    """`zhang.wei@example.com` → `z***@example.com`."""
    if not email:
        return ""
    local, _sep, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def mask_address(address: str) -> str:
    """Keep the first 6 characters (province/city level), hide the street and house number."""
    if not address:
        return ""
    return address[:6] + "****" if len(address) > 6 else "****"


# --- log lines -------------------------------------------------------------------------------------

_EMAIL_IN_TEXT = re.compile(r"[^\s@<>()\[\]{}\"',;:&=?/]+@[^\s@<>()\[\]{}\"',;:&=?/]+")
# An ISO date (kept), or digits possibly grouped by up to three spaces, dashes, dots or brackets, as people
# type a phone number (139 1234 4405, (0571) 8888-6666).
_DIGIT_RUN = re.compile(r"(?<!\d)\d{4}-\d{2}-\d{2}(?!\d)|\d(?:[\s\-.()]{0,3}\d)*")
LOG_DIGITS_KEPT = 4  # runs of up to this many digits (ids, counts, years) stay readable


def _mask_digit_run(match: re.Match[str]) -> str:
    run = match.group(0)
    if sum(c.isdigit() for c in run) <= LOG_DIGITS_KEPT or re.fullmatch(r"\d{4}-\d{2}-\d{2}", run):
        return run
    return re.sub(r"\d", "*", run)


def mask_log_text(text: str) -> str:
    """Text as a log line may hold it: e-mail addresses become `***@***`, every run of 5 or more digits
    (also spaced or dashed: 139 1234 4405) becomes stars — a phone number, but also a complaint number's
    date; ISO dates (2026-11-23) and numbers of up to 4 digits are kept."""
    return _DIGIT_RUN.sub(_mask_digit_run, _EMAIL_IN_TEXT.sub("***@***", text))


def _decoded(value: str) -> str:
    """A value decoded until no escape is left (at most three times): a login redirect's `next=` holds
    the searched URL encoded once more (`a.b%2540example.com`)."""
    for _round in range(3):
        decoded = unquote(value)
        if decoded == value:
            break
        value = decoded
    return value


def mask_query_string(query: str) -> str:
    """A URL's query string with every name and value masked as `mask_log_text` does, re-encoded."""
    if not query:
        return query
    pairs = parse_qsl(query, keep_blank_values=True)
    masked = [(mask_log_text(_decoded(name)), mask_log_text(_decoded(value))) for name, value in pairs]
    return urlencode(masked, safe="*@")


def mask_url(url: str) -> str:
    """A URL (or path) with its query string masked."""
    head, question, query = url.partition("?")
    return f"{head}{question}{mask_query_string(query)}" if question else url
