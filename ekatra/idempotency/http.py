"""The HTTP side of Idempotency-Key: claimed once the caller is authenticated, the response
kept after the view (ekatra/idempotency/services.py has the rules)."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, Response, current_app, request

from ekatra import clock
from ekatra.errors import Invalid
from ekatra.http import AFTER_AUTHENTICATION, current_caller
from ekatra.idempotency import services

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
ROW = "ekatra.idempotency_row"


class Replay(Exception):
    """Raised to answer with the stored response instead of running the view."""

    def __init__(self, stored: services.Stored):
        super().__init__("idempotent replay")
        self.stored = stored


def _claim() -> None:
    key = request.headers.get(HEADER)
    if request.method != "POST" or key is None or not request.path.startswith("/api/"):
        return
    if not key or len(key) > services.MAX_KEY_CHARS or not key.isprintable():
        problem = f"1 to {services.MAX_KEY_CHARS} printable characters."
        raise Invalid(f"Invalid {HEADER}: {problem}", {HEADER: [problem]})
    fingerprint = services.fingerprint(request.method, request.path, request.query_string,
                                       request.get_data(cache=True))
    ttl = timedelta(hours=current_app.config.get("IDEMPOTENCY_KEY_HOURS", 24))
    claimed = services.begin(current_caller(), key, fingerprint, now=clock.now(), ttl=ttl)
    if isinstance(claimed, services.Stored):
        raise Replay(claimed)
    request.environ[ROW] = claimed


def init_idempotency(app: Flask) -> None:
    app.extensions.setdefault(AFTER_AUTHENTICATION, []).append(_claim)

    @app.errorhandler(Replay)
    def replay(error: Replay):
        response = Response(error.stored.body, status=error.stored.status_code,
                            content_type=error.stored.content_type or "application/json")
        response.headers[REPLAYED] = "true"
        return response

    @app.after_request
    def keep_response(response: Response) -> Response:
        row = request.environ.pop(ROW, None)
        if row is not None:
            if response.direct_passthrough or response.is_streamed:
                services.release(row)
            else:
                services.finish(row, status_code=response.status_code, content_type=response.content_type,
                                body=response.get_data())
        return response

    @app.teardown_request
    def release_unfinished(_error):
        row = request.environ.pop(ROW, None)
        if row is not None:  # the response was never made (an error escaped every handler)
            services.release(row)
