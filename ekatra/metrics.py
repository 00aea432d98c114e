"""Prometheus metrics: the objects the web and worker processes update, and their text.

gunicorn's worker processes each write their samples to files in PROMETHEUS_MULTIPROC_DIR
(gunicorn.conf.py sets it before the app imports prometheus_client) and a scrape adds the files
up. Without that setting (development server, tests) the samples live in this process only."""

from __future__ import annotations

import hmac
import json
import os
import threading
from collections import Counter as Tally
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    make_wsgi_app,
    multiprocess,
)
from prometheus_client.exposition import ThreadingWSGIServer

from ekatra.errors import DomainError, Forbidden, Unauthorized, error_body

MULTIPROC_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
HTTP_LATENCY_BUCKETS_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

HTTP_REQUESTS = Counter(
    "ekatra_http_requests", "HTTP requests answered, by route template, method and status",
    ["route", "method", "status"])
HTTP_LATENCY = Histogram(
    "ekatra_http_request_duration_seconds", "Time from the request's arrival to its response's status",
    ["route", "method"], buckets=HTTP_LATENCY_BUCKETS_SECONDS)

# The worker process (`python -m scheduler`, served on WORKER_METRICS_PORT) ---------------------

SEND_LATENCY_BUCKETS_SECONDS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30)
DURATION_BUCKETS_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

OUTBOX_MESSAGES = Counter(
    "ekatra_outbox_messages",
    "Send results written back: outcome sent, retried, failed, held (WhatsApp window closed) or "
    "released (not handed over), by channel and provider error code ('' when none)",
    ["outcome", "channel", "error_code"])
SEND_LATENCY = Histogram(
    "ekatra_outbox_send_duration_seconds", "One request to the provider, answered or failed",
    ["channel"], buckets=SEND_LATENCY_BUCKETS_SECONDS)
CLAIM_DURATION = Histogram(
    "ekatra_outbox_claim_duration_seconds", "One claim of due messages (one transaction)",
    buckets=DURATION_BUCKETS_SECONDS)
JOB_DURATION = Histogram(
    "ekatra_job_duration_seconds", "One run of a scheduler job (plan: the planning of due days)",
    ["job_name"], buckets=DURATION_BUCKETS_SECONDS)  # not `job`: Prometheus's own target label
JOB_LAST_SUCCESS = Gauge(
    "ekatra_job_last_success_timestamp_seconds", "When a scheduler job last ended without an error",
    ["job_name"], multiprocess_mode="max")
LEASE_RECOVERIES = Counter(
    "ekatra_outbox_lease_recoveries",
    "Expired leases reconciled: found_sent (the provider had it), requeued, unresolved", ["result"])
WEBHOOKS = Counter("ekatra_webhooks", "Webhook attempts: sent or failed", ["outcome"])
RATE_LIMIT_WAITS = Counter("ekatra_outbox_rate_limit_waits",
                           "Sends that waited for the send-rate limit")
RATE_LIMIT_WAIT_SECONDS = Counter("ekatra_outbox_rate_limit_wait_seconds",
                                  "Time sends spent waiting for the send-rate limit")


def count_outcomes(tally: Tally) -> None:
    """Add one written-back batch's results, tallied by (outcome, channel, error code)."""
    for (outcome, channel, error_code), count in tally.items():
        OUTBOX_MESSAGES.labels(outcome, channel, "" if error_code is None else str(error_code)).inc(count)


def serve_worker_metrics(config, port: int, address: str, *collectors) -> None:
    """This worker's metrics, with the given collectors' (the outbox's depth), on
    http://address:port/metrics, behind the same METRICS_TOKEN rule as the web's /metrics (a
    thread of this process)."""
    for collector in collectors:
        REGISTRY.register(collector)
    token, production = config["METRICS_TOKEN"], config["EKATRA_ENV"] == "production"
    exposition_app = make_wsgi_app(REGISTRY)

    def guarded(environ, start_response):
        try:
            authorize_scrape(environ.get("HTTP_AUTHORIZATION"), token=token, is_production=production)
        except DomainError as refusal:
            reason = "Unauthorized" if refusal.status == 401 else "Forbidden"
            start_response(f"{refusal.status} {reason}", [("Content-Type", "application/json"),
                                                          ("WWW-Authenticate", "Bearer")])
            return [json.dumps(error_body(refusal.message)).encode()]
        return exposition_app(environ, start_response)

    server = make_server(address, port, guarded, ThreadingWSGIServer, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="worker-metrics", daemon=True).start()


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # scrapes are not worth a log line each
        pass


def authorize_scrape(authorization: str | None, *, token: str, is_production: bool) -> None:
    """A scrape needs `Authorization: Bearer METRICS_TOKEN` when the token is set; production
    without a token serves no metrics at all; development without one serves them openly."""
    if not token:
        if is_production:
            raise Forbidden("Metrics are off: set METRICS_TOKEN and scrape with it as a bearer token.")
        return
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise Unauthorized("Scraping /metrics needs `Authorization: Bearer <METRICS_TOKEN>`.")


def exposition() -> tuple[bytes, str]:
    """The Prometheus text of every sample: all gunicorn workers' in multiprocess mode."""
    if os.environ.get(MULTIPROC_DIR_VARIABLE):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
