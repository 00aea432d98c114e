"""The worker's own metrics: send results by outcome, channel and provider code, the outbox's
depth and oldest due age read at scrape time, and the real worker process serving them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from prometheus_client import REGISTRY, CollectorRegistry

from ekatra import clock
from ekatra.outbox.dispatch import DispatchSettings, dispatch_once
from ekatra.outbox.fakes import FakeSender
from ekatra.outbox.models import HELD, SENDING, WAITING
from ekatra.sandbox import Sandbox
from ekatra.worker import OutboxCollector
from tests.conftest import test_environ
from tests.deliveries.factories import KOLKATA, NEW_YORK, course_and_group, create_delivery
from tests.health.test_metrics import scraped
from tests.outbox.factories import add_message
from tests.waiting import eventually

ROOT = Path(__file__).resolve().parents[2]


def outbox_messages(outcome: str, channel: str, error_code: str = "") -> float:
    return REGISTRY.get_sample_value("ekatra_outbox_messages_total", {
        "outcome": outcome, "channel": channel, "error_code": error_code}) or 0.0


def test_send_results_are_counted_by_outcome_channel_and_provider_code(app):
    now = clock.now()
    before = {key: outbox_messages(*key) for key in
              [("sent", "sms"), ("failed", "sms", "21211"), ("retried", "sms", "20503")]}
    sender = FakeSender(clock=lambda: now)
    sender.fail_next(1, status=503, code=20503, message="Service Unavailable")
    add_message(to="+919812345001", due_at=now)  # the 503: retried later
    add_message(to="+1", due_at=now)  # not a phone number: failed with 21211
    add_message(to="+919812345002", due_at=now)
    add_message(to="+919812345003", due_at=now)

    stats = dispatch_once(sender, lambda: now, DispatchSettings(rate_per_second=100_000, concurrency=1))

    assert (stats.sent, stats.failed, stats.retried) == (2, 1, 1)
    assert outbox_messages("sent", "sms") - before["sent", "sms"] == 2
    assert outbox_messages("failed", "sms", "21211") - before["failed", "sms", "21211"] == 1
    assert outbox_messages("retried", "sms", "20503") - before["retried", "sms", "20503"] == 1


def test_outbox_depth_and_oldest_due_age_are_read_at_scrape_time(app):
    now = clock.now()
    add_message(due_at=now - timedelta(minutes=7))
    add_message(due_at=now - timedelta(minutes=1))
    add_message(due_at=now + timedelta(hours=1))
    add_message(due_at=now - timedelta(minutes=30), status=HELD, hold_reason="paused")
    add_message(due_at=now, status=WAITING)
    add_message(due_at=now - timedelta(minutes=2), status=SENDING, claimed_at=now,
                lease_until=now + timedelta(minutes=1), attempts=1)
    registry = CollectorRegistry()
    registry.register(OutboxCollector(app))

    def unsent(state):
        return registry.get_sample_value("ekatra_outbox_messages_unsent", {"state": state})

    assert [unsent(state) for state in ("due", "later", "held", "waiting", "sending")] == [2, 1, 1, 1, 1]
    oldest = registry.get_sample_value("ekatra_outbox_oldest_due_age_seconds")
    assert 7 * 60 <= oldest < 8 * 60  # the held message is not due: only claimable ones count


def test_an_empty_outbox_has_no_oldest_due_age(app):
    registry = CollectorRegistry()
    registry.register(OutboxCollector(app))
    assert registry.get_sample_value("ekatra_outbox_oldest_due_age_seconds") == 0
    assert registry.get_sample_value("ekatra_outbox_messages_unsent", {"state": "due"}) == 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


TOKEN = "worker-metrics-token"


def _get(url: str, token: str | None = TOKEN) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(url, timeout=5, headers=headers, proxies={"http": None, "https": None})


def _scrape(url: str) -> dict | None:
    try:
        return scraped(_get(url).text)
    except requests.RequestException:
        return None


def test_the_worker_process_serves_its_metrics_after_sending(app, author, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("one process test is enough; the metrics' queries run on both databases above")
    course_id, group_id = course_and_group(author, students=(KOLKATA, NEW_YORK))
    create_delivery(author, group_id, course_id, schedule_at="2020-01-01T00:00:00Z")  # long due
    port = _free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    with Sandbox(callbacks=False, latency_ms=20) as sandbox:
        env = {**os.environ, **test_environ(database_url, TWILIO_API_BASE_URL=sandbox.url,
                                            WORKER_METRICS_PORT=str(port),
                                            WORKER_METRICS_ADDRESS="127.0.0.1",
                                            METRICS_TOKEN=TOKEN)}
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        worker = subprocess.Popen([sys.executable, "-m", "scheduler"], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            assert sandbox.wait_for(4, timeout=30)  # day 1 for both learners: text and question
            sent_key = ("ekatra_outbox_messages_total", ("channel", "sms"), ("error_code", ""),
                        ("outcome", "sent"))
            beat = ("ekatra_job_last_success_timestamp_seconds", ("job_name", "heartbeat"))
            samples: dict = {}

            def four_sent_and_a_heartbeat() -> bool:
                samples.clear()
                samples.update(_scrape(url) or {})
                return samples.get(sent_key, 0) == 4 and beat in samples

            # The write-back (and so the count) follows the sends by a moment.
            assert eventually(four_sent_and_a_heartbeat, 30), \
                f"worker metrics never showed 4 sent: {samples.get(sent_key, 0)}"
            for wrong in (None, "not-the-token"):  # the same token rule as the web's /metrics
                refused = _get(url, wrong)
                assert refused.status_code == 401 and "METRICS_TOKEN" in refused.json()["message"]
                assert "ekatra_outbox" not in refused.text
        finally:
            worker.send_signal(signal.SIGTERM)
            output, _ = worker.communicate(timeout=25)
    assert worker.returncode == 0, output
    assert samples["ekatra_outbox_send_duration_seconds_count", ("channel", "sms")] == 4
    assert samples[("ekatra_outbox_claim_duration_seconds_count",)] >= 1
    assert samples["ekatra_job_duration_seconds_count", ("job_name", "plan")] >= 1
    assert samples["ekatra_outbox_messages_unsent", ("state", "due")] == 0
    assert ("ekatra_webhooks_total", ("outcome", "sent")) in samples
    assert f"worker metrics on http://127.0.0.1:{port}/metrics" in output
