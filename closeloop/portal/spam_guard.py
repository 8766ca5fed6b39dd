"""Keeps bots off the public complaint form without any outside service.

Three checks, all invisible to people:
- a honeypot: a text field hidden from people (CSS, off-screen, not focusable) that naive bots fill;
- a signed render time: the form carries the time it was rendered, signed with SECRET_KEY. A
  submission sooner than PORTAL_FORM_MIN_SECONDS after rendering was not typed by a person; one
  with a missing or altered token did not come from our form; an old one is refused;
- single use: a token that passed is recorded in the cache (shared by every web process, the
  database or Redis) until it would expire anyway, and refused if it comes again, so a harvested
  token cannot be replayed to send many complaints.
The per-IP rate limit on submissions lives in the view, with the other throttles.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.cache import cache

from closeloop.core.outage import Outage, OutageError

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
    REPLAYED = "replayed"


def min_seconds() -> float:
    return float(settings.PORTAL_FORM_MIN_SECONDS)


def max_age_seconds() -> float:
    return float(settings.PORTAL_FORM_MAX_AGE_SECONDS)


def form_token_issue(*, now: float | None = None) -> str:
    issued = time.time() if now is None else now
    # The nonce makes two forms rendered in the same millisecond two tokens, each usable once.
    return signing.TimestampSigner(salt=_SALT).sign_object({"t": round(issued, 3), "n": secrets.token_urlsafe(9)})


def _used_key(token: str) -> str:
    return f"portal:form-token:{hashlib.sha256(token.encode()).hexdigest()[:40]}"


def _claim(token: str, *, issued: float, now: float) -> bool:
    """Record the token as used; False when it already was. Kept until the token would have expired."""
    key = _used_key(token)
    timeout = max(math.ceil(issued + max_age_seconds() - now) + 1, 1)
    if cache.add(key, "", timeout=timeout):
        return True
    if cache.get(key) is not None:
        return False
    # Neither added nor there: the database cache could not write. Refusing is safer than sending a
    # complaint whose token can be replayed; the answer is a 503 with the form kept.
    raise OutageError(Outage.UNAVAILABLE, "the used form token could not be recorded")


def form_token_record(token: str, *, number: str) -> None:
    """Remember which complaint a used token registered, so that the same browser sending the form
    twice (a double click, the back button) is shown its receipt rather than a refusal."""
    cache.set(_used_key(token), number, timeout=math.ceil(max_age_seconds()) + 1)


def form_token_number(token: str) -> str:
    """The complaint a used token registered, or ""."""
    return str(cache.get(_used_key(token)) or "")


def submission_check(data: Mapping[str, Any], *, now: float | None = None) -> Verdict:
    """Whether a POSTed complaint form looks like it was filled in by a person on our form. An OK
    verdict uses the token up."""
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
    if not _claim(token, issued=issued, now=now):
        return Verdict.REPLAYED
    return Verdict.OK
