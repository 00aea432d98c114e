"""The Appsembler API's error bodies: Django REST framework's and the contract's own shapes.

`ApiError` carries its exact body (`{"user_message": …}`, `{"success": false, "reason": …}`);
`drf_body` turns Ekatra's domain errors into what a DRF client expects (`{"detail": …}`, or
field errors `{field: [messages]}`).
"""

from __future__ import annotations

from ekatra.errors import DomainError, Invalid, NotFound, RateLimited, Unauthorized

NOT_FOUND = {"detail": "Not found."}
NO_CREDENTIALS = {"detail": "Authentication credentials were not provided."}
INVALID_TOKEN = {"detail": "Invalid Token."}


class ApiError(DomainError):
    """An error whose body is the contract's, as is."""

    def __init__(self, status: int, body: dict):
        super().__init__(str(body))
        self.status, self.body = status, body


def throttled(seconds: int) -> dict:
    return {"detail": f"Request was throttled. Expected available in {max(1, seconds)} seconds."}


def drf_body(error: DomainError) -> dict:
    if isinstance(error, ApiError):
        return error.body
    if isinstance(error, NotFound):
        return NOT_FOUND
    if isinstance(error, RateLimited):
        return throttled(error.retry_after_seconds or 60)
    if isinstance(error, Unauthorized):
        return {"detail": error.message}
    if isinstance(error, Invalid) and error.errors:
        return error.errors
    return {"detail": error.message}
