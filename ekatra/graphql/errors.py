"""GraphQL errors as clients see them: a message they can act on and `extensions.code`.

An error this API raised on purpose (a limit, a bad cursor, a domain error) keeps its message;
anything unexpected becomes "Internal error." with code INTERNAL_SERVER_ERROR and is logged
here, so no stack trace, SQL or class name ever reaches a client.
"""

from __future__ import annotations

import logging

import strawberry
from graphql import GraphQLError, GraphQLSyntaxError

from ekatra.errors import DomainError, Forbidden, Invalid, NotFound, RateLimited, Unauthorized

log = logging.getLogger(__name__)

INTERNAL = "INTERNAL_SERVER_ERROR"
_DOMAIN_CODES = ((Unauthorized, "UNAUTHENTICATED"), (Forbidden, "FORBIDDEN"), (NotFound, "NOT_FOUND"),
                 (RateLimited, "RATE_LIMITED"), (Invalid, "BAD_USER_INPUT"))


def domain_code(error: DomainError) -> str:
    return next((code for kind, code in _DOMAIN_CODES if isinstance(error, kind)), "BAD_REQUEST")


def _expected(error: GraphQLError) -> bool:
    original = error.original_error
    return original is None or isinstance(original, GraphQLError | DomainError)


def formatted(error: GraphQLError) -> dict:
    """The JSON of one error, with a code and nothing internal."""
    original = error.original_error
    body: dict = {"message": error.message}
    if error.locations:
        body["locations"] = [{"line": where.line, "column": where.column} for where in error.locations]
    if error.path:
        body["path"] = list(error.path)
    extensions = dict(error.extensions or {})
    if isinstance(original, DomainError):
        body["message"] = original.message
        extensions["code"] = domain_code(original)
    elif not _expected(error):
        body["message"] = "Internal error."
        extensions = {"code": INTERNAL}
    elif isinstance(error, GraphQLSyntaxError):
        too_long = "tokens" in error.message  # the parser stopped at limits.MAX_TOKENS
        extensions.setdefault("code", "QUERY_TOO_LARGE" if too_long else "GRAPHQL_PARSE_FAILED")
    elif error.message.startswith("Variable '$"):
        extensions.setdefault("code", "BAD_USER_INPUT")
    extensions.setdefault("code", "GRAPHQL_VALIDATION_FAILED")
    body["extensions"] = extensions
    return body


def request_error(message: str, code: str) -> dict:
    """The body of a request refused before execution (HTTP 400 or 401)."""
    return {"message": message, "errors": [{"message": message, "extensions": {"code": code}}]}


class Schema(strawberry.Schema):
    """A strawberry schema that logs only the errors clients do not see: the unexpected ones."""

    def process_errors(self, errors, execution_context=None) -> None:
        for error in errors:
            if not _expected(error):
                log.error("GraphQL resolver failed at %s", error.path, exc_info=error.original_error)
