"""The worker as its own process: it sends what is due and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ekatra.sandbox import Sandbox
from tests.conftest import test_environ
from tests.deliveries.factories import KOLKATA, NEW_YORK, course_and_group, create_delivery

ROOT = Path(__file__).resolve().parents[2]


def test_worker_delivers_due_days_and_exits_zero_on_sigterm(app, author, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("one process test is enough; PostgreSQL multi-worker claims are tested in outbox")
    course_id, group_id = course_and_group(author, students=(KOLKATA, NEW_YORK))
    create_delivery(author, group_id, course_id, schedule_at="2020-01-01T00:00:00Z")  # long due
    with Sandbox(callbacks=False, latency_ms=50) as sandbox:
        env = {**os.environ, **test_environ(database_url, TWILIO_API_BASE_URL=sandbox.url)}
        worker = subprocess.Popen([sys.executable, "-m", "scheduler"], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            # Day 1 is overdue for both learners: text and first question each.
            assert sandbox.wait_for(4, timeout=30), worker.stdout and ""
            worker.send_signal(signal.SIGTERM)
            started = time.monotonic()
            output, _ = worker.communicate(timeout=25)
            assert time.monotonic() - started < 20
        finally:
            if worker.poll() is None:
                worker.kill()
    assert worker.returncode == 0, output
    assert "received SIGTERM; stopping" in output and "stopped" in output
    assert sandbox.count() == 4  # the next day is not due yet, and nothing went twice
