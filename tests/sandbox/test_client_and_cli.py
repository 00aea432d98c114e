"""Pointing the official SDK at a base URL, and the `ekatra sandbox` command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

from ekatra.config import SANDBOX_SMS_FROM
from ekatra.sandbox import twilio_client
from ekatra.sandbox.client import POOL_SIZE, TWILIO_API_BASE_URL


def test_twilio_client_sends_to_the_sandbox_through_a_large_pool(sandbox):
    client = twilio_client(sandbox.account_sid, sandbox.auth_token, sandbox.url + "/")

    assert client.api.base_url == sandbox.url
    adapter = client.http_client.session.get_adapter(sandbox.url)
    assert adapter._pool_maxsize == POOL_SIZE >= 64
    assert client.http_client.timeout > 0
    assert client.messages.create(to="+919812345678", from_=SANDBOX_SMS_FROM, body="Hi").sid
    assert sandbox.count() == 1


def test_twilio_client_leaves_the_real_api_alone():
    client = twilio_client("AC" + "0" * 32, "token")

    assert client.api.base_url == TWILIO_API_BASE_URL
    assert client.http_client.session.get_adapter("https://api.twilio.com")._pool_maxsize == POOL_SIZE


def test_the_sandbox_command_serves_logs_and_stops_on_sigterm(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-c", "from ekatra.cli import main; main()", "sandbox", "--port", "0"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, encoding="utf-8",
        env={**os.environ, "PYTHONPATH": os.getcwd(), "PYTHONUNBUFFERED": "1"},
    )
    lines: list[str] = []
    ready, logged = threading.Event(), threading.Event()

    def read():
        for line in process.stdout:
            lines.append(line)
            if "Press Ctrl-C" in line:
                ready.set()
            if "नमस्ते" in line:
                logged.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert ready.wait(30), "".join(lines)
        [url] = [line.split("=", 1)[1].strip() for line in lines if "TWILIO_API_BASE_URL=" in line]
        assert any("TWILIO_AUTH_TOKEN=" in line for line in lines)
        client = twilio_client("ACsandbox00000000000000000000000000", "sandbox-auth-token", url)
        client.messages.create(to="+919812345678", from_=SANDBOX_SMS_FROM, body="नमस्ते")
        assert logged.wait(10), "".join(lines)
    finally:
        process.send_signal(signal.SIGTERM)
        returncode = process.wait(10)
        reader.join(5)
    assert returncode == 0, "".join(lines)
    assert "Sandbox stopped after 1 messages." in "".join(lines)
