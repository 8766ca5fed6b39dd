"""Access logs without personal data: the desk and the API take phone numbers and e-mail addresses in
query strings (`/desk/?q=13912344405`, `/desk/lookup/customers?email=…`), and an access log keeps every
request line for months. Both servers' request lines are masked as `core.masking.mask_query_string` says:

- gunicorn (`closeloop serve`, the systemd unit in docs/operations.md): `--logger-class
  closeloop.core.accesslog.MaskingGunicornLogger`;
- Django's development server (`closeloop runserver`, the `django.server` logger): `RequestLineFilter`,
  installed by settings.LOGGING;
- Django's own request errors (`django.request`: "Not Found: /path"): `RequestPathFilter`.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from gunicorn.glogging import Logger

from closeloop.core.masking import mask_query_string, mask_url

# gunicorn's atoms that are a query string on their own; any other atom holding a "?" is read as a URL
# (the request line, the referer, RAW_URI…) and its query part is masked.
_QUERY_ATOMS = frozenset({"q", "{query_string}e"})


def mask_request_line(line: str) -> str:
    """`GET /desk/?q=13912344405 HTTP/1.1` → `GET /desk/?q=*********** HTTP/1.1`."""
    parts = line.split(" ")
    return " ".join(mask_url(part) if "?" in part else part for part in parts)


def mask_atom(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if key in _QUERY_ATOMS:
        return mask_query_string(value)
    if "?" in value:
        return mask_request_line(value)
    return value


class MaskingGunicornLogger(Logger):
    """gunicorn's logger with the query strings of its access log masked, whatever the log format."""

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: mask_atom(key, value) for key, value in atoms.items()}


class RequestLineFilter(logging.Filter):
    """For the `django.server` logger: masks the query string of the request line in each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(mask_atom("", arg) for arg in record.args)
        elif isinstance(record.msg, str):
            record.msg = mask_atom("", record.msg)
        return True


# A path segment is whatever the client typed: an id, but also a phone number (13912344405). Complaint
# numbers (TS20261206-0007) keep their 8-digit date, so a 404 on one can still be found in the log.
_LONG_DIGIT_RUN = re.compile(r"\d{9,}")
_EMAIL = re.compile(r"[^\s/@]+@[^\s/@]+")


def mask_path(path: str) -> str:
    """`/api/v1/followups/13912344405` → `/api/v1/followups/***********` (and any query string masked)."""
    masked = _EMAIL.sub("***@***", _LONG_DIGIT_RUN.sub(lambda m: "*" * len(m.group(0)), path))
    return mask_url(masked)


class RequestPathFilter(logging.Filter):
    """For the `django.request` logger, whose records name the request's path."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(mask_path(arg) if isinstance(arg, str) else arg for arg in record.args)
        return True
