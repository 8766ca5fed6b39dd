"""`Idempotency-Key` on every POST of the API: a retry gets the first answer back instead of a second effect.

A POST under /api/v1/ that carries the header first claims the (user, key) row in its own transaction
(a unique constraint), then runs; its answer is stored on the row for IDEMPOTENCY_TTL_HOURS. A request
with a claimed key:
- same method, path and body, answer stored → that answer again, with `Idempotent-Replayed: true`;
- another method, path or body → 422 (`idempotency_key_reused`), nothing runs;
- the first request still running → 409 with `Retry-After: 1` (`idempotency_key_in_use`): the
  client retries in a second and then gets the stored answer. Answering at once instead of waiting
  holds no worker thread and no database connection while another request works.

Answers that say nothing final about the request are not kept and the key is released, so that a
retry runs again: 5xx (the services committed nothing), 401 (no or a bad credential), 409 and 429
(try later). A claim whose request died with its process (status still empty) is taken over after
STALE_CLAIM: a request cannot run that long.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from closeloop.core.models import ApiToken, IdempotencyKey
from closeloop.core.services import api_token_hash
from closeloop.core.types import User

HEADER = "Idempotency-Key"
API_PREFIX = "/api/v1/"
MAX_KEY_LENGTH = 255
STALE_CLAIM = datetime.timedelta(minutes=5)
# Answers that are not the request's outcome: the key is released and a retry runs again.
NOT_KEPT = frozenset({401, 408, 409, 429})


def _caller(request: HttpRequest) -> User | None:
    """Who the API will take the caller for: the bearer token's user, else the session's (ninja checks
    the credential again; this only names whose key it is)."""
    authorization = request.headers.get("Authorization", "")
    if authorization[:7].lower() == "bearer ":
        token = (
            ApiToken.objects.select_related("user")
            .filter(key_hash=api_token_hash(authorization[7:].strip()), revoked_at__isnull=True)
            .first()
        )
        if token is None or not token.is_usable(timezone.now()) or not token.user.is_active:
            return None
        return token.user
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def request_fingerprint(request: HttpRequest) -> str:
    """SHA-256 of the method, path and body. A multipart body is hashed by its fields and files, not its
    bytes: the boundary differs between two sends of the same form."""
    digest = hashlib.sha256(f"{request.method} {request.get_full_path()}\n".encode())
    if request.content_type == "multipart/form-data":
        for name in sorted(request.POST):
            for value in request.POST.getlist(name):
                digest.update(f"field {name}={value}\n".encode())
        for name in sorted(request.FILES):
            for upload in request.FILES.getlist(name):
                digest.update(f"file {name}={upload.name}:{upload.size}\n".encode())
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
    else:
        digest.update(request.body)
    return digest.hexdigest()


def _error(status: int, code: str, message: str) -> HttpResponse:
    body = {"detail": [{"loc": ["header", HEADER], "msg": message, "type": code}]}
    return JsonResponse(body, status=status)


def _claim(*, user: User, key: str, request: HttpRequest, fingerprint: str) -> IdempotencyKey | HttpResponse:
    """The claimed row, or the answer for a key someone already holds."""
    now = timezone.now()
    row = IdempotencyKey(
        user=user,
        key=key,
        method=request.method or "",
        path=request.path[:255],
        request_hash=fingerprint,
        created_at=now,
        expires_at=now + datetime.timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS),
    )
    try:
        with transaction.atomic():
            row.save(force_insert=True)
        return row
    except IntegrityError:
        pass
    held = IdempotencyKey.objects.filter(user=user, key=key).first()
    if held is None:  # purged or released between the insert and this read: the caller may retry
        return _in_use()
    if held.request_hash != fingerprint:
        return _error(
            422,
            "idempotency_key_reused",
            _("This Idempotency-Key was used for another request; use a new key for a new request."),
        )
    if held.status is not None:
        response = HttpResponse(bytes(held.body), status=held.status, content_type=held.content_type or None)
        response["Idempotent-Replayed"] = "true"
        return response
    # Still running, or its process died: take a claim older than any request over.
    taken = IdempotencyKey.objects.filter(pk=held.pk, status__isnull=True, created_at__lt=now - STALE_CLAIM).update(
        created_at=now
    )
    return held if taken else _in_use()


def _in_use() -> HttpResponse:
    response = _error(
        409,
        "idempotency_key_in_use",
        _("A request with this Idempotency-Key is still running; retry in a moment to get its answer."),
    )
    response["Retry-After"] = "1"
    return response


class IdempotencyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get(HEADER, "").strip()
        if not key or request.method != "POST" or not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        if len(key) > MAX_KEY_LENGTH:
            return _error(
                422, "idempotency_key_invalid", _("An Idempotency-Key has at most %(max)d characters.") % {"max": 255}
            )
        user = _caller(request)
        if user is None:  # the API answers 401; nothing to remember
            return self.get_response(request)
        claimed = _claim(user=user, key=key, request=request, fingerprint=request_fingerprint(request))
        if isinstance(claimed, HttpResponse):
            return claimed
        try:
            response = self.get_response(request)
        except BaseException:
            IdempotencyKey.objects.filter(pk=claimed.pk, status__isnull=True).delete()
            raise
        if response.status_code >= 500 or response.status_code in NOT_KEPT or response.streaming:
            IdempotencyKey.objects.filter(pk=claimed.pk, status__isnull=True).delete()
            return response
        IdempotencyKey.objects.filter(pk=claimed.pk).update(
            status=response.status_code,
            content_type=response.get("Content-Type", "")[:100],
            body=response.content,
        )
        return response


def idempotency_keys_purge(*, now: datetime.datetime | None = None) -> int:
    """Delete the keys whose time is up (the periodic task); deleting twice deletes nothing more."""
    deleted, _counts = IdempotencyKey.objects.filter(expires_at__lt=now or timezone.now()).delete()
    return deleted


def document_integration_headers(document: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document tells what this middleware and the token limit add to every operation:
    the optional Idempotency-Key header and its 409 on each POST, and the 429 of the per-token limit."""
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
    field_errors = {"application/json": {"schema": {"$ref": "#/components/schemas/ValidationErrorOut"}}}
    for methods in document.get("paths", {}).values():
        for method, operation in methods.items():
            responses = operation.setdefault("responses", {})
            if 429 not in responses and "429" not in responses:
                responses[429] = {
                    "description": "Too many requests for this token this minute (Retry-After, X-RateLimit-*)",
                    "content": error,
                }
            if method != "post":
                continue
            operation.setdefault("parameters", []).append(
                {
                    "in": "header",
                    "name": HEADER,
                    "required": False,
                    "description": (
                        "Send a retry with the same key and body to get the first answer again instead of a "
                        "second effect (kept IDEMPOTENCY_TTL_HOURS); another body with the key is a 422."
                    ),
                    "schema": {"type": "string", "maxLength": MAX_KEY_LENGTH},
                }
            )
            if 409 not in responses and "409" not in responses:
                responses[409] = {
                    "description": "A request with this Idempotency-Key is still running; retry (Retry-After)",
                    "content": field_errors,
                }
    return document
