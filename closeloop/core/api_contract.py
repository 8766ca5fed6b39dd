"""What the API promises a generated client, in one place: the operationIds, refusing query parameters
an operation does not declare, and the last touches on the OpenAPI document.

`closeloop.api.CloseLoopAPI` calls these; docs/api.md explains them to integrators.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.utils.translation import gettext as _
from ninja.errors import ValidationError as NinjaValidationError

if typing.TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponseBase
    from ninja.operation import Operation

# --- operationIds --------------------------------------------------------------------------------

# PUT and PATCH both change what is there; DELETE removes it.
_VERB_ON_RECORD = {"GET": "get", "PUT": "update", "PATCH": "update", "DELETE": "delete", "POST": "post"}


def _returns_many(operation: Operation) -> bool:
    """A 200 that is a list, or a page (an object with `items`)."""
    model = operation.response_models.get(200)
    if model is None:
        return False
    annotation = model.model_fields["response"].annotation
    if typing.get_origin(annotation) is list:
        return True
    fields = getattr(annotation, "model_fields", {})
    return "items" in fields


def operation_id(method: str, path: str, *, returns_many: bool, creates: bool) -> str:
    """`<resource>_<verb>` from the path: the literal segments name the resource (`/tasks/{id}/reply`
    → `tasks_reply`), the method and the answer the verb:

    - GET of a list or page → `_list`, of one thing → `_get`;
    - POST answering 201 → `_create`; any other POST is the action its last segment names;
    - PUT / PATCH → `_update`, DELETE → `_delete`.

    A route may still give `operation_id=` itself where this reads badly."""
    segments = [s for s in path.strip("/").split("/") if s]
    literal = [re.sub(r"[^a-z0-9]+", "_", s.lower()).strip("_") for s in segments if not s.startswith("{")]
    on_record = bool(segments) and segments[-1].startswith("{")
    resource = "_".join(literal)
    if method == "GET":
        verb = "get" if on_record or not returns_many else "list"
    elif method == "POST":
        if creates:
            verb = "create"
        elif on_record:
            verb = "post"
        else:
            return resource
    else:
        verb = _VERB_ON_RECORD[method]
    return f"{resource}_{verb}"


def operation_id_of(operation: Operation) -> str:
    (method,) = operation.methods
    return operation_id(
        method,
        operation.path,
        returns_many=_returns_many(operation),
        creates=201 in operation.response_models,
    )


# --- unknown query parameters --------------------------------------------------------------------


def declared_query_parameters(operation: Operation) -> frozenset[str]:
    names: set[str] = set()
    for model in operation.models:
        if model.__ninja_param_source__ != "query":
            continue
        flatten = getattr(model, "__ninja_flatten_map__", None)
        if flatten:
            names.update(flatten)
        else:
            names.update(field.alias or name for name, field in model.model_fields.items())
    return frozenset(names)


def unknown_parameter_errors(names: Iterable[str], declared: frozenset[str]) -> list[dict[str, Any]]:
    return [
        {
            "loc": ["query", name],
            "msg": _("This operation has no query parameter “%(name)s”.") % {"name": name},
            "type": "unknown_parameter",
            "ctx": {"allowed": sorted(declared)},
        }
        for name in dict.fromkeys(names)
        if name not in declared
    ]


def refuse_unknown_query_parameters(run: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """A view decorator (`api.add_decorator(..., mode="view")`): a query parameter the operation does not
    declare answers 422 naming it, before anything else runs — `updated_since=` on an API that has no
    such filter must not look like an empty sync. `run` is the operation's bound `run`; the declared
    names are read once, when the URLs are built."""
    operation = getattr(run, "__self__", None)
    if operation is None or not hasattr(operation, "models"):
        raise TypeError("refuse_unknown_query_parameters must be the API's first view decorator")
    declared = declared_query_parameters(operation)

    @wraps(run)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        errors = unknown_parameter_errors(request.GET.keys(), declared)
        if errors:
            return operation.api.on_exception(request, NinjaValidationError(errors))
        return run(request, *args, **kwargs)

    return checked


# --- the document ---------------------------------------------------------------------------------

BINARY = {"type": "string", "format": "binary"}


def _inline_single_allof(schema: Any) -> None:
    """Form fields typed with an enum come out as `allOf: [{enum…}]` with a default beside it; generators
    read that as an object. The enum itself, with the default, is what the field is."""
    if isinstance(schema, dict):
        all_of = schema.get("allOf")
        if isinstance(all_of, list) and len(all_of) == 1 and "$ref" not in all_of[0]:
            inner = schema.pop("allOf")[0]
            for key, value in inner.items():
                schema.setdefault(key, value)
        for value in schema.values():
            _inline_single_allof(value)
    elif isinstance(schema, list):
        for value in schema:
            _inline_single_allof(value)


def finish_document(document: dict[str, Any]) -> dict[str, Any]:
    """Touches ninja cannot be asked for: a file response without a schema is binary; multipart enums
    inline."""
    for methods in document.get("paths", {}).values():
        for operation in methods.values():
            for response in operation.get("responses", {}).values():
                for media_type, media in response.get("content", {}).items():
                    if "json" not in media_type and "schema" not in media:
                        media["schema"] = dict(BINARY)
            body = operation.get("requestBody", {}).get("content", {})
            for media_type, media in body.items():
                if media_type == "multipart/form-data":
                    _inline_single_allof(media.get("schema"))
    return document


# --- machine codes of business errors ----------------------------------------------------------------

# The kinds of refusal that say enough by themselves; "invalid" alone does not, the field is added.
_SELF_EXPLAINING = {"transition_not_allowed", "permission_denied", "rate_limited"}


def _singular(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def resource_of(path: str, prefix: str = "/api/v1/") -> str:
    """The resource a request addresses, singular: /api/v1/complaints/TS…/dispatch → complaint,
    /api/v1/feedback-forms/3 → feedback_form, /api/v1/defects/alerts/2/dismiss → defect_alert."""
    segments = path.removeprefix(prefix).strip("/").split("/")
    words = []
    for segment in segments[:2]:
        # A record's id or number ends the resource's name.
        if not segment or any(ch.isdigit() for ch in segment):
            break
        words.append("_".join(_singular(part) for part in segment.split("-")))
        if segment != "defects":  # the only resource named by two segments (defects/alerts…)
            break
    return "_".join(words) or "api"


def error_code(*, resource: str, kind: str, field: str | None, reason: str | None) -> str:
    """`<resource>.<reason>`: the raise site's reason when it gives one (`complaint.not_open`), else the
    kind of refusal (`task.transition_not_allowed`), with the field for a bare invalid or required value
    (`complaint.invalid_phone`, `solution.required_reason`). A dotted reason is taken as it is."""
    if reason and "." in reason:
        return reason
    if reason:
        return f"{resource}.{reason}"
    if kind in _SELF_EXPLAINING or not field:
        return f"{resource}.{kind}"
    return f"{resource}.{kind}_{field}"
