"""Domain errors. Services raise them; the UI turns them into field messages and the API into 422s."""

from __future__ import annotations

from django.utils.functional import Promise


class DomainError(Exception):
    """A rule of the domain refused the action. Nothing was written.

    `code` is the kind of refusal (the API's `type`: invalid, required, transition_not_allowed…);
    `reason`, where the raise site gives one, names the rule for machines (`not_open`), and the API
    answers it as `code` (`complaint.not_open`, see `closeloop.core.api_contract.error_code`)."""

    def __init__(
        self, message: str | Promise, *, field: str | None = None, code: str = "invalid", reason: str | None = None
    ) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field
        self.code = code
        self.reason = reason

    def as_dict(self) -> dict[str, object]:
        return {"field": self.field, "message": str(self.message), "code": self.code}


class ValidationFailed(DomainError):
    """Several field errors at once, e.g. from intake validation."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        first_field, messages = next(iter(errors.items()))
        super().__init__(messages[0], field=first_field, code="invalid")
        self.errors = errors


class TransitionNotAllowed(DomainError):
    def __init__(self, message: str | Promise, *, reason: str | None = None) -> None:
        super().__init__(message, field="action", code="transition_not_allowed", reason=reason)


class PermissionDeniedError(DomainError):
    def __init__(self, message: str | Promise, *, reason: str | None = None) -> None:
        super().__init__(message, field=None, code="permission_denied", reason=reason)


class RateLimited(DomainError):
    """Too many attempts of something limited per user; the API answers 429 with Retry-After."""

    def __init__(
        self, message: str | Promise, *, field: str | None = None, retry_after: int = 0, reason: str | None = None
    ) -> None:
        super().__init__(message, field=field, code="rate_limited", reason=reason)
        self.retry_after = retry_after
