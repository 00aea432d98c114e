"""The web process as production runs it, for tests: `gunicorn app:app --config gunicorn.conf.py`
in its own process on a free loopback port, with a clean environment (nothing leaks in from the
outer one but PATH and HOME), answering /healthz before the test goes on.

    with gunicorn(tmp_path, test_environ(url)) as server:
        requests.get(f"{server.base}/api/...")

Prepare the database (migrate, seed) before starting it, and dispose of the app's engine so that
SQLite is not held open by the test process.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.waiting import eventually

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_SECONDS = 30


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Server:
    base: str
    port: int
    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextlib.contextmanager
def gunicorn(
    folder: Path, environ: dict[str, str], *, workers: int = 1, port: int | None = None,
    extra_args: tuple[str, ...] = (),
) -> Iterator[Server]:
    """Run gunicorn with the shipped settings file until the block ends (then SIGTERM, and wait)."""
    port = port or free_port()
    log = folder / "gunicorn.log"
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", ""),
           **environ, "WEB_CONCURRENCY": str(workers)}
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "app:app", "--config", str(ROOT / "gunicorn.conf.py"),
             "--bind", f"127.0.0.1:{port}", "--chdir", str(ROOT),
             "--access-logfile", str(folder / "access.log"), *extra_args],
            cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    server = Server(f"http://127.0.0.1:{port}", port, process, log)
    try:
        _wait_until_answering(server)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_until_answering(server: Server) -> None:
    def answering() -> bool:
        assert server.process.poll() is None, server.output()
        try:
            response = requests.get(f"{server.base}/healthz", timeout=1,
                                    proxies={"http": None, "https": None})
        except requests.RequestException:
            return False
        return response.status_code < 500

    assert eventually(answering, START_TIMEOUT_SECONDS), \
        f"gunicorn did not answer within {START_TIMEOUT_SECONDS} s\n{server.output()}"
