"""The cohorts contract's errors: each carries a code (VALIDATION_ERROR, STATE_ERROR, NOT_FOUND,
AUTHENTICATION_ERROR, AUTHORIZATION_ERROR) and details, turned into
`{"message", "errors"?, "error": {"code", "message", "details"?}}` by the cohorts blueprint."""

from __future__ import annotations

from ekatra.errors import DomainError, NotFound


class CohortError(DomainError):
    """An error in the contract's shape: a code, a status, and optional details."""

    code = "VALIDATION_ERROR"

    def __init__(
        self,
        message: str,
        errors: dict | None = None,
        *,
        status: int | None = None,
        code: str | None = None,
        details: dict | None = None,
    ):
        super().__init__(message, errors)
        self.status = status or self.status
        self.code = code or self.code
        self.details = details


class ValidationFailed(CohortError):
    status, code = 422, "VALIDATION_ERROR"


class StateError(CohortError):
    status, code = 409, "STATE_ERROR"


class Missing(CohortError, NotFound):
    status, code = 404, "NOT_FOUND"


class LinkRefused(CohortError):
    status, code = 401, "AUTHENTICATION_ERROR"


class AccessDenied(CohortError):
    status, code = 403, "AUTHORIZATION_ERROR"
