"""Domain errors raised by services, and the one place that turns any error into JSON.

Every error the API gives is `{"message": "...", "errors": {field: [...]}}` (errors optional).
"""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A failure a client can act on. Subclasses fix the HTTP status."""

    status = 400

    def __init__(self, message: str, errors: dict | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors


class Invalid(DomainError):
    status = 400


class Unauthorized(DomainError):
    status = 401


class Forbidden(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class InvalidState(Conflict):
    """The object exists but is in a state where this action makes no sense."""


class TooLarge(DomainError):
    status = 413


class UnsupportedMediaType(DomainError):
    status = 415


class RateLimited(DomainError):
    """Too many attempts; `retry_after_seconds` (when known) becomes the Retry-After header."""

    status = 429

    def __init__(self, message: str, errors: dict | None = None, *,
                 retry_after_seconds: int | None = None):
        super().__init__(message, errors)
        self.retry_after_seconds = retry_after_seconds


class Unavailable(DomainError):
    status = 503


def error_body(message: str, errors: dict | None = None) -> dict:
    body: dict = {"message": message}
    if errors:
        body["errors"] = errors
    return body


def _flatten_locations(messages: dict) -> dict:
    """webargs keys errors by location ({"json": {...}}); clients want the fields themselves."""
    if len(messages) == 1:
        (location, fields), = messages.items()
        if location in ("json", "query", "form", "files", "path", "view_args") and isinstance(fields, dict):
            return fields
    return messages


def _describe(errors: dict, prefix: str = "") -> list[str]:
    """A readable summary of nested marshmallow errors: 'students.1.number: Not a valid …'."""
    lines: list[str] = []
    for key, value in errors.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            lines.extend(_describe(value, path + "."))
        elif isinstance(value, list):
            texts = [str(v) for v in value if not isinstance(v, dict)]
            lines.append(f"{path}: {' '.join(texts)}")
            for v in value:
                if isinstance(v, dict):
                    lines.extend(_describe(v, path + "."))
        else:
            lines.append(f"{path}: {value}")
    return lines


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def handle_domain_error(error: DomainError):
        response = jsonify(error_body(error.message, error.errors))
        response.status_code = error.status
        if getattr(error, "retry_after_seconds", None):
            response.headers["Retry-After"] = str(error.retry_after_seconds)
        return response

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        data = getattr(error, "data", None) or {}
        messages = data.get("messages")
        errors = _flatten_locations(messages) if isinstance(messages, dict) else None
        if errors:
            status = 400 if error.code == 422 else error.code
            message = "Invalid input: " + "; ".join(_describe(errors))
            return jsonify(error_body(message, errors)), status
        message = data.get("message") or error.description or error.name
        response = jsonify(error_body(message))
        response.status_code = error.code or 500
        if error.code == 405 and hasattr(error, "valid_methods") and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        from sqlalchemy.exc import DBAPIError, OperationalError

        if isinstance(error, OperationalError) or (
            isinstance(error, DBAPIError) and error.connection_invalidated
        ):
            log.warning("database unavailable: %s", error.__class__.__name__)
            return jsonify(error_body("The database is unavailable; try again shortly.")), 503
        log.exception("unhandled error")
        return jsonify(error_body("Internal server error")), 500
