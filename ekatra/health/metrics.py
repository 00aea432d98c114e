"""HTTP request metrics of the web process: counted by route template (Flask's url rule, never
the raw path, so ids do not become label values), method and status, with their latency."""

from __future__ import annotations

from time import perf_counter

from flask import Flask, request

from ekatra.metrics import HTTP_LATENCY, HTTP_REQUESTS

ROUTE = "ekatra.route"
UNMATCHED_ROUTE = "unmatched"  # 404s and bodies refused before Flask saw the request
# Werkzeug accepts any method token; anything else is one label value, not one per token.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestMetrics:
    """WSGI middleware outside everything else, so a response made by another middleware (413)
    or by an error handler is counted too."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        started = perf_counter()
        statuses: list[str] = []

        def capture_status(status, headers, exc_info=None):
            statuses.append(status)
            return start_response(status, headers, exc_info)

        try:
            return self.wsgi_app(environ, capture_status)
        finally:
            method = environ.get("REQUEST_METHOD", "")
            method = method if method in KNOWN_METHODS else "other"
            route = environ.get(ROUTE, UNMATCHED_ROUTE)
            status = statuses[-1][:3] if statuses else "500"
            HTTP_REQUESTS.labels(route, method, status).inc()
            HTTP_LATENCY.labels(route, method).observe(perf_counter() - started)


def register_request_metrics(app: Flask) -> None:
    @app.teardown_request
    def remember_route(_error=None):
        # Teardown runs for every request Flask handled, whichever hook answered it.
        if request.url_rule is not None:
            request.environ[ROUTE] = request.url_rule.rule

    app.wsgi_app = RequestMetrics(app.wsgi_app)
