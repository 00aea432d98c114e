"""Prometheus metrics: the objects the web and worker processes update, and their text.

gunicorn's worker processes each write their samples to files in PROMETHEUS_MULTIPROC_DIR
(gunicorn.conf.py sets it before the app imports prometheus_client) and a scrape adds the files
up. Without that setting (development server, tests) the samples live in this process only."""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROC_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
HTTP_LATENCY_BUCKETS_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

HTTP_REQUESTS = Counter(
    "ekatra_http_requests", "HTTP requests answered, by route template, method and status",
    ["route", "method", "status"])
HTTP_LATENCY = Histogram(
    "ekatra_http_request_duration_seconds", "Time from the request's arrival to its response's status",
    ["route", "method"], buckets=HTTP_LATENCY_BUCKETS_SECONDS)


def exposition() -> tuple[bytes, str]:
    """The Prometheus text of every sample: all gunicorn workers' in multiprocess mode."""
    if os.environ.get(MULTIPROC_DIR_VARIABLE):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
