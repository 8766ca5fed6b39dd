"""Keeps bots off the public complaint form without any outside service.

Two checks, both invisible to people:
- a honeypot: a text field hidden from people (CSS, off-screen, not focusable) that naive bots fill;
- a signed render time: the form carries the time it was rendered, signed with SECRET_KEY. A
  submission sooner than PORTAL_FORM_MIN_SECONDS after rendering was not typed by a person; one
  with a missing or altered token did not come from our form; an old one is refused so that a
  harvested token cannot be replayed for ever.
The per-IP rate limit on submissions lives in the view, with the other throttles.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.core import signing

HONEYPOT_FIELD = "website"
TOKEN_FIELD = "form_token"
_SALT = "closeloop.portal.complaint-form"


class Verdict(StrEnum):
    OK = "ok"
    HONEYPOT = "honeypot"
    MISSING_TOKEN = "missing_token"
    TAMPERED = "tampered"
    TOO_FAST = "too_fast"
    EXPIRED = "expired"


def min_seconds() -> float:
    return float(settings.PORTAL_FORM_MIN_SECONDS)


def max_age_seconds() -> float:
    return float(settings.PORTAL_FORM_MAX_AGE_SECONDS)


def form_token_issue(*, now: float | None = None) -> str:
    issued = time.time() if now is None else now
    return signing.TimestampSigner(salt=_SALT).sign_object({"t": round(issued, 3)})


def submission_check(data: Mapping[str, Any], *, now: float | None = None) -> Verdict:
    """Whether a POSTed complaint form looks like it was filled in by a person on our form."""
    now = time.time() if now is None else now
    if str(data.get(HONEYPOT_FIELD) or "").strip():
        return Verdict.HONEYPOT
    token = str(data.get(TOKEN_FIELD) or "")
    if not token:
        return Verdict.MISSING_TOKEN
    try:
        payload = signing.TimestampSigner(salt=_SALT).unsign_object(token)
        issued = float(payload["t"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return Verdict.TAMPERED
    age = now - issued
    if age < min_seconds():
        return Verdict.TOO_FAST
    if age > max_age_seconds():
        return Verdict.EXPIRED
    return Verdict.OK
