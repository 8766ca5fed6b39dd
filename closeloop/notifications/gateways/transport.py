"""The one HTTP client of the gateways: a timeout on every call, certificates verified (the system's CAs
plus EXTRA_CA_CERTS), redirects refused (a signed request is never replayed to another host), and the
standard HTTPS_PROXY / NO_PROXY variables honoured for installations that reach the internet through a
proxy. Errors never repeat the address: webhook addresses hold their key."""

from __future__ import annotations

import functools
import json
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from closeloop.notifications.gateways.errors import DeliveryError

MAX_ANSWER_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise DeliveryError(f"the gateway answered HTTP {self.status} without JSON") from None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 3xx is then returned to us as an HTTPError: an answer, not a new request


@functools.lru_cache(maxsize=4)
def _context(extra_ca_file: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if extra_ca_file:
        context.load_verify_locations(cafile=extra_ca_file)
    return context


def tls_context() -> ssl.SSLContext:
    """The system's CA certificates plus EXTRA_CA_CERTS; hostnames checked."""
    return _context(settings.EXTRA_CA_CERTS)


def http_request(method: str, url: str, *, headers: dict[str, str], body: bytes | None = None) -> Answer:
    """Send one request; any HTTP status is an Answer, a network failure or timeout a DeliveryError."""
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=tls_context()), _NoRedirect())
    request = urllib.request.Request(url, data=body, headers=headers, method=method)  # noqa: S310 - http(s) only (conf)
    try:
        with opener.open(request, timeout=settings.GATEWAY_TIMEOUT_SECONDS) as response:
            return Answer(response.status, response.read(MAX_ANSWER_BYTES))
    except urllib.error.HTTPError as exc:
        with exc:
            return Answer(exc.code, exc.read(MAX_ANSWER_BYTES))
    except (TimeoutError, urllib.error.URLError, OSError) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        raise DeliveryError(f"the gateway could not be reached: {type(reason).__name__}: {reason}") from None


def post_json(url: str, payload: Any, *, headers: dict[str, str] | None = None) -> Answer:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return http_request(
        "POST", url, headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})}, body=body
    )
