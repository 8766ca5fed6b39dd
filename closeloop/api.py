"""The REST API, `/api/v1`. Each domain adds its router here.

Errors are turned into responses here and nowhere else:
- DomainError (and ValidationFailed, TransitionNotAllowed) → 422 shaped like ninja's own validation
  errors, one entry per field message: {"detail": [{"loc": ["body", field], "msg": ..., "type": ...,
  "code": ...}]}; a transition refused for the record's state has the type `transition_not_allowed`;
  `code` is the stable machine code (`complaint.not_open`, core/api_contract.error_code);
- PermissionDeniedError (a role refusal, transitions included) / django's PermissionDenied → 403
  {"detail": message} (+ `code` for PermissionDeniedError). PermissionDeniedError is a DomainError
  too: ninja picks the handler of the nearest class in the exception's MRO, so it gets the 403 whatever the order below;
- RateLimited → 429 {"detail": message} with Retry-After (seconds);
- a missing or invisible record (ObjectDoesNotExist) → 404: out of scope is indistinguishable from absent;
- ninja's own validation errors keep their shape, with the name of the body parameter dropped from
  `loc` (["body", "payload", "phone"] → ["body", "phone"]) so that every 422 names fields alike;
- no or a bad credential → 401 with `WWW-Authenticate: Bearer`.
Services write inside one transaction and raise before committing, so an error leaves nothing half-written.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError

from closeloop.accounts.api_auth import API_AUTH
from closeloop.complaints.api import catalogue_router
from closeloop.complaints.api import router as complaints_router
from closeloop.core.api_contract import (
    error_code,
    finish_document,
    operation_id_of,
    refuse_unknown_query_parameters,
    resource_of,
)
from closeloop.core.errors import DomainError, PermissionDeniedError, RateLimited, ValidationFailed
from closeloop.core.idempotency import document_integration_headers
from closeloop.defects.api import router as defects_router
from closeloop.followup.api import closing as followup_closing
from closeloop.followup.api import followups as followup_followups
from closeloop.followup.api import repeats as followup_repeats
from closeloop.handling.api import disputes as handling_disputes
from closeloop.handling.api import feedback as handling_feedback
from closeloop.handling.api import postponements as handling_postponements
from closeloop.handling.api import roster as handling_roster
from closeloop.handling.api import solutions as handling_solutions
from closeloop.handling.api import tasks as handling_tasks
from closeloop.imports.api import router as imports_router
from closeloop.improvement.api import router as improvement_router
from closeloop.insight.api import router as insight_router
from closeloop.integrations.api import router as integrations_router
from closeloop.knowledge.api import router as knowledge_router
from closeloop.macros.api import router as macros_router
from closeloop.notifications.api import router as notifications_router
from closeloop.serviceorders.api import router as serviceorders_router
from closeloop.sla.api import router as sla_router
from closeloop.triage.api import router as triage_router


class CloseLoopAPI(NinjaAPI):
    """Ninja with the contract of closeloop/core/api_contract.py: resource-style operationIds
    (`complaints_get`, `tasks_reply`) and the document's finishing touches."""

    def get_openapi_operation_id(self, operation: Any) -> str:
        return operation_id_of(operation)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._documents: dict[str, dict[str, Any]] = {}
        self._documents_lock = threading.Lock()

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None) -> Any:
        """The document, built once per process and prefix: ninja rebuilds it on every call (about 180
        operations, 4–10 s on a loaded machine), yet it changes only with the code, i.e. on a restart.
        It is the same in every language (no description is translated). Each caller gets its own
        copy, so no caller can change what the next one is served."""
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        document = self._documents.get(path_prefix)
        if document is None:
            with self._documents_lock:  # two first requests at once build it once
                document = self._documents.get(path_prefix)
                if document is None:
                    document = self._build_openapi_document(path_prefix)
                    self._documents[path_prefix] = document
        return copy.deepcopy(document)

    def _build_openapi_document(self, path_prefix: str) -> dict[str, Any]:
        # A plain dict: ninja's OpenAPISchema holds the API itself, which a deep copy would drag along.
        built = dict(super().get_openapi_schema(path_prefix=path_prefix))
        return document_integration_headers(finish_document(built))


api = CloseLoopAPI(
    title="CloseLoop API",
    version="1",
    description=(
        "Complaint handling (客诉闭环) for integrating systems. Authenticate with "
        "`Authorization: Bearer <key>` (keys from `closeloop token create`) or, in the browser, the "
        "session cookie plus the CSRF token."
    ),
    urls_namespace="api",
    auth=API_AUTH,
)
api.add_router("", complaints_router)
api.add_router("", catalogue_router)
api.add_router("", sla_router)
for _router in (
    handling_tasks.router,
    handling_roster.router,
    handling_solutions.router,
    handling_postponements.router,
    handling_disputes.router,
    handling_feedback.router,
    followup_followups.router,
    followup_closing.router,
    followup_repeats.router,
    insight_router,
    improvement_router,
    defects_router,
    notifications_router,
    integrations_router,
    knowledge_router,
    macros_router,
    imports_router,
    triage_router,
    serviceorders_router,
):
    api.add_router("", _router)
# First of the view decorators: it reads the operation from the bound `run` it is given.
api.add_decorator(refuse_unknown_query_parameters, mode="view")


# Endpoints name their JSON body parameter `payload`; clients should not have to know that.
BODY_PARAMETER = "payload"


def _code(request: HttpRequest, exc: DomainError, field: str | None) -> str:
    return error_code(resource=resource_of(request.path), kind=exc.code, field=field, reason=exc.reason)


def _field_errors(request: HttpRequest, exc: DomainError) -> list[dict[str, object]]:
    if isinstance(exc, ValidationFailed):
        return [
            {"loc": ["body", field], "msg": str(message), "type": exc.code, "code": _code(request, exc, field)}
            for field, messages in exc.errors.items()
            for message in messages
        ]
    loc = ["body", exc.field] if exc.field else ["body"]
    return [{"loc": loc, "msg": str(exc.message), "type": exc.code, "code": _code(request, exc, exc.field)}]


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return api.create_response(request, {"detail": _field_errors(request, exc)}, status=422)


@api.exception_handler(PermissionDeniedError)
def permission_denied_error(request: HttpRequest, exc: PermissionDeniedError) -> HttpResponse:
    body = {"detail": str(exc.message), "code": _code(request, exc, None)}
    return api.create_response(request, body, status=403)


@api.exception_handler(RateLimited)
def rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    body = {"detail": str(exc.message), "code": _code(request, exc, None)}
    response = api.create_response(request, body, status=429)
    response["Retry-After"] = str(max(exc.retry_after, 1))
    return response


@api.exception_handler(PermissionDenied)
def permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc) or _("You may not do this.")}, status=403)


@api.exception_handler(ObjectDoesNotExist)
def not_found(request: HttpRequest, exc: ObjectDoesNotExist) -> HttpResponse:
    return api.create_response(request, {"detail": _("Not found.")}, status=404)


@api.exception_handler(NinjaValidationError)
def request_invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = []
    for error in exc.errors:
        loc = list(error.get("loc", ()))
        if loc[:2] == ["body", BODY_PARAMETER]:
            loc = ["body", *loc[2:]]
        errors.append({**error, "loc": loc})
    return api.create_response(request, {"detail": errors}, status=422)


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = api.create_response(request, {"detail": str(exc)}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="closeloop"'
    return response
