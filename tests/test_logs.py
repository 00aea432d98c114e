"""Log lines: JSON in production with the request's id (echoed in X-Request-ID) or the worker's
job name; plain text in development."""

from __future__ import annotations

import io
import json
import logging

import pytest

from ekatra import clock, logs
from ekatra.worker import Worker
from scheduler.__main__ import _run_job
from scheduler.jobs import Job


@pytest.fixture
def json_lines(app):
    """Production's JSON handler writing to a buffer; the app's own handler back afterwards."""
    stream = io.StringIO()
    handler = logs.configure_logging(True, stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logging.getLogger().removeHandler(handler)
    logs.configure_logging(app.config["EKATRA_ENV"] == "production")


def test_a_sane_request_id_is_echoed_and_in_every_log_line_of_the_request(app, json_lines):
    with app.test_request_context("/healthz", headers={"X-Request-ID": "lb-4f2a.9"}):
        app.preprocess_request()
        logging.getLogger("ekatra.test").info("checked %d things", 3)
    (line,) = [line for line in json_lines() if line["logger"] == "ekatra.test"]
    assert line["request_id"] == "lb-4f2a.9" and line["message"] == "checked 3 things"
    assert line["level"] == "INFO" and line["time"].endswith("+00:00")
    assert app.test_client().get("/healthz", headers={"X-Request-ID": "lb-4f2a.9"}) \
        .headers["X-Request-ID"] == "lb-4f2a.9"


@pytest.mark.parametrize("given", ["", "two words", "x" * 129, "evil\\u000a{json}"])
def test_a_missing_or_odd_request_id_is_replaced_by_a_new_one(client, given):
    response = client.get("/healthz", headers={"X-Request-ID": given} if given else {})
    echoed = response.headers["X-Request-ID"]
    assert echoed != given and len(echoed) == 32 and echoed.isalnum()
    assert client.get("/healthz").headers["X-Request-ID"] != echoed  # one per request


def test_a_worker_jobs_log_lines_name_the_job(app, json_lines):
    def plan(worker, now):
        logging.getLogger("ekatra.worker").info("planned %d learner-days", 2)

    _run_job(app, Job("plan", 5, plan), Worker("host:1", "host", 1, clock.now()))
    logging.getLogger("ekatra.worker").info("between jobs")
    lines = [line for line in json_lines() if line["logger"] == "ekatra.worker"]
    assert [(line["message"], line.get("job")) for line in lines] == [
        ("planned 2 learner-days", "plan"), ("between jobs", None)]


def test_development_logs_plain_text():
    record = logging.LogRecord("ekatra.test", logging.INFO, __file__, 1, "hello", None, None)
    assert logs.formatter(False).format(record).endswith("INFO ekatra.test: hello")
