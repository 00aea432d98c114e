"""WhatsApp through the real worker process and the sandbox: the opener, a tap, then the day."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from ekatra.sandbox import Sandbox
from tests.conftest import test_environ
from tests.deliveries.factories import ACCRA, course_and_group, create_delivery
from tests.inbound.test_live_callbacks import live_app  # noqa: F401 (a fixture)
from tests.worker.test_worker_process import ROOT

KOFI = "whatsapp:" + ACCRA["number"]


def test_a_whatsapp_learner_gets_the_opener_taps_it_and_gets_the_day(app, author, database_url,
                                                                      live_app):  # noqa: F811
    if not database_url.startswith("sqlite"):
        pytest.skip("one process test is enough; several workers are tested in tests/whatsapp")
    course_id, group_id = course_and_group(author, students=(ACCRA,))
    create_delivery(author, group_id, course_id, schedule_at="2020-01-01T00:00:00Z")  # long due
    with Sandbox(inbound_url=f"{live_app}/twilio/inbound", whatsapp_window_seconds=86400,
                 callback_delay_ms=0) as sandbox:
        env = {**os.environ, **test_environ(database_url, TWILIO_API_BASE_URL=sandbox.url,
                                            PUBLIC_BASE_URL=live_app)}
        worker = subprocess.Popen([sys.executable, "-m", "scheduler"], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            assert sandbox.wait_for(1, timeout=30)
            (opener,) = sandbox.messages(KOFI)
            assert opener["body"] == "Hi Kofi, day 1 of Money basics is ready. Reply to start."
            assert opener["content_variables"] == {"1": "Kofi", "2": "Money basics", "3": "1"}

            assert sandbox.tap(KOFI, "Start")["app_status"] == 200

            assert sandbox.wait_until(lambda: len(sandbox.messages(KOFI)) >= 3, timeout=30)
            day = sandbox.messages(KOFI)[1:]
            assert [m["body"].splitlines()[0] for m in day] == ["Day one text.", "Q1. Is a budget a plan?"]
            assert [m["error_code"] for m in day] == [None, None], "inside the window: delivered"
        finally:
            worker.send_signal(signal.SIGTERM)
            output, _ = worker.communicate(timeout=25)
    assert worker.returncode == 0, output
    assert len(sandbox.messages(KOFI)) == 3, "one opener, and the day once"
