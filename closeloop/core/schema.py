"""The base of every schema of the API: ninja's `Schema`, reading a dict as pydantic reads it.

ninja wraps whatever a schema validates in a `DjangoGetter`, so that it can read a model instance's
attributes, call its callables and list its managers. Our views answer with dicts of plain values that
they built (`complaints/api.py` `_summary`, `_detail`, …), and request bodies arrive as dicts: for those,
pydantic's own validation of a dict gives the same result — a missing key takes the field's default, an
alias is read by its alias — without a Python call per field. Measured on an API intake (issue 20): the
wrapping was ~4 % of the request. Anything else (a model instance, a schema with `resolve_*` methods)
is read through the `DjangoGetter` as before.
"""

from __future__ import annotations

from typing import Any

from ninja import Schema as NinjaSchema
from ninja.schema import DjangoGetter
from pydantic import ModelWrapValidatorHandler, ValidationInfo, model_validator


class Schema(NinjaSchema):
    @model_validator(mode="wrap")
    @classmethod
    def _run_root_validator(cls, values: Any, handler: ModelWrapValidatorHandler[Any], info: ValidationInfo) -> Any:
        if type(values) is dict and not cls._ninja_resolvers:
            return handler(values)
        # ninja's own: a model that forbids extra keys (or validates assignment) checks the object itself first
        if cls.model_config.get("extra") == "forbid" or cls.model_config.get("validate_assignment", False):
            handler(values)
        return handler(DjangoGetter(values, cls, info.context))
