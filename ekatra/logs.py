"""Log lines: one JSON object per line in production (time, level, logger, message, and the
request's `request_id` or the worker job's `job`), plain text in development.

Nothing at INFO names a secret, a token or a message body: the JSON keeps only the fields a
record has, and the callers log ids and counts."""

from __future__ import annotations

import logging
import re
import sys
import uuid
from contextvars import ContextVar

from flask import Flask, request
from pythonjsonlogger.json import JsonFormatter

PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REQUEST_ID_HEADER = "X-Request-ID"
# A client's id is kept only if it is a short token: it goes into every log line of the request.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
OURS = "ekatra.log_handler"

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
job: ContextVar[str | None] = ContextVar("job", default=None)


class _Context(logging.Filter):
    """Adds the current request's id and the current job's name to each record that has them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if (current := request_id.get()) is not None:
            record.request_id = current
        if (current := job.get()) is not None:
            record.job = current
        return True


def formatter(is_production: bool) -> logging.Formatter:
    if is_production:
        return JsonFormatter("{levelname}{name}{message}", style="{", timestamp="time",
                             rename_fields={"levelname": "level", "name": "logger"})
    return logging.Formatter(PLAIN_FORMAT)


def configure_logging(is_production: bool, stream=None) -> logging.Handler:
    """One handler on the root logger (replaced, not added again, by the next app built)."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, OURS, False)]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    setattr(handler, OURS, True)
    handler.setFormatter(formatter(is_production))
    handler.addFilter(_Context())
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    return handler


def register_request_ids(app: Flask) -> None:
    """Each request's id: the client's X-Request-ID if it is a sane token, else a new one;
    echoed in the response and in every log line written while the request is served."""

    @app.before_request
    def take_request_id():
        given = request.headers.get(REQUEST_ID_HEADER, "")
        request.environ[REQUEST_ID_HEADER] = given if SANE_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        request_id.set(request.environ[REQUEST_ID_HEADER])

    @app.after_request
    def echo_request_id(response):
        if REQUEST_ID_HEADER in request.environ:
            response.headers[REQUEST_ID_HEADER] = request.environ[REQUEST_ID_HEADER]
        return response

    @app.teardown_request
    def forget_request_id(_error=None):
        request_id.set(None)  # the thread serves another request next
