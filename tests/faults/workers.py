"""Worker processes (`python -m scheduler`) for fault tests (bounded waits: tests/waiting.py)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import test_environ

ROOT = Path(__file__).resolve().parents[2]

# Short enough for a test to watch a lease pass, long enough for the 2 × timeout margin.
SEND_TIMEOUT_SECONDS = 4
LEASE_SECONDS = 12

_RECOVERY = re.compile(r"outbox lease recovery: expired (\d+), found sent (\d+), requeued (\d+)")
_BATCH = re.compile(r"outbox batch: claimed (\d+), sent (\d+)")


def require_postgresql(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("fault tests run worker processes against PostgreSQL (SQLite has one writer)")


def worker_environ(database_url: str, sandbox, **extra: str) -> dict[str, str]:
    """A worker's environment: the test database, the sandbox, a short lease, frequent recovery."""
    return {**os.environ, **test_environ(
        database_url, TWILIO_API_BASE_URL=sandbox.url, TWILIO_ACCOUNT_SID=sandbox.account_sid,
        TWILIO_AUTH_TOKEN=sandbox.auth_token, SEND_TIMEOUT_SECONDS=str(SEND_TIMEOUT_SECONDS),
        OUTBOX_LEASE_SECONDS=str(LEASE_SECONDS), RECOVER_INTERVAL_SECONDS="1", **extra)}


class WorkerProcess:
    """`python -m scheduler` with its output in a file (a pipe could fill up and stall it)."""

    def __init__(self, environ: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        with open(log_path, "w") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "scheduler"], cwd=ROOT, env=environ,
                                            stdout=log, stderr=subprocess.STDOUT)

    def output(self) -> str:
        return self.log_path.read_text()

    def is_running(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as when a machine dies."""
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self, timeout: float = 25) -> int:
        """SIGTERM and wait for the exit code."""
        if self.is_running():
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def recoveries(self) -> list[tuple[int, int, int]]:
        """(expired, found sent, requeued) of each lease recovery this worker logged."""
        return [tuple(map(int, match.groups())) for match in _RECOVERY.finditer(self.output())]

    def batches(self) -> list[tuple[int, int]]:
        """(claimed, sent) of each outbox batch this worker logged."""
        return [tuple(map(int, match.groups())) for match in _BATCH.finditer(self.output())]


@contextmanager
def worker_process(environ: dict[str, str], log_path: Path):
    worker = WorkerProcess(environ, log_path)
    try:
        yield worker
    finally:
        if worker.is_running():
            worker.kill()
