"""`ekatra bench api`'s parts: the load driver, the CPU accounting, the production settings.

Figures are computed and printed, never asserted against a speed (DESIGN §9).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ekatra.bench import api, load


class _Ok(BaseHTTPRequestHandler):
    """Answers every GET with 200 and keeps the connection open (HTTP/1.1)."""

    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802 (http.server's name)
        body = b'{"ok": true}'
        self.send_response(200 if self.headers["Authorization"] == "Bearer t" else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    with ThreadingHTTPServer(("127.0.0.1", 0), _Ok) as running:
        thread = threading.Thread(target=running.serve_forever, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{running.server_address[1]}"
        running.shutdown()


def test_the_load_driver_reuses_one_connection_per_thread_and_stops_at_its_budget(server, tmp_path,
                                                                                 capsys):
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"requests": [["/a", "t"], ["/b", "t"]]}))
    assert load.main(["--url", server, "--plan", str(plan), "--seconds", "30", "--connections", "3",
                      "--max-requests", "60"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (result["requests"], result["errors"], result["connections_opened"]) == (60, 0, 3)
    assert result["cpu_seconds"] >= 0 and result["p99_ms"] >= result["p50_ms"] > 0


def test_an_open_loop_sends_at_the_rate_asked_whatever_the_connections(server, tmp_path, capsys):
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"requests": [["/a", "t"]]}))
    load.main(["--url", server, "--plan", str(plan), "--seconds", "0.5", "--connections", "4",
               "--rate", "200"])
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert 95 <= result["requests"] <= 100 and result["errors"] == 0  # 200/s for 0.5 s
    assert result["seconds"] >= 0.49


def test_the_load_driver_counts_refused_requests_as_errors(server, tmp_path, capsys):
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"requests": [["/a", "wrong"]]}))
    load.main(["--url", server, "--plan", str(plan), "--seconds", "30", "--connections", "1",
               "--max-requests", "5"])
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["errors"] == 5 and result["error_sample"][0] == "401 /a"


def test_cpu_figures_are_per_request_and_leave_the_others_share():
    before, after = (10.0, 100.0), (11.0, 104.0)  # workers 1 s; the machine 4 s busy
    figures = api.cpu_figures(before, after, 0.5, {"requests": 1000, "seconds": 2.0})
    assert figures == {"server_cpu_ms_per_request": 1.0, "driver_cpu_ms_per_request": 0.5,
                       "other_processes_cpu_cores": 1.25}
    assert api.cpu_figures(None, None, 0.5, {"requests": 1000, "seconds": 2.0})[
        "server_cpu_ms_per_request"] is None


def test_the_bench_runs_gunicorn_with_the_procfiles_settings_file(tmp_path):
    procfile = (api.PROJECT_ROOT / "Procfile").read_text()
    web = next(line for line in procfile.splitlines() if line.startswith("web:"))
    assert f"--config {api.GUNICORN_SETTINGS.name}" in web
    command = api._gunicorn_command(8000, 2, 4, str(tmp_path))
    assert command[command.index("--config") + 1] == str(api.GUNICORN_SETTINGS)
    settings: dict = {}
    exec(compile(Path(api.GUNICORN_SETTINGS).read_text(), "gunicorn.conf.py", "exec"), settings)
    assert (settings["worker_class"], settings["threads"], settings["accesslog"]) == ("gthread", 4, "-")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="CPU accounting reads Linux's /proc")
def test_cpu_accounting_finds_a_process_children_and_their_cpu_time():
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        assert child.pid in api._children(os.getpid())
        workers_cpu, machine_busy = api._cpu_snapshot([os.getpid()])
        assert workers_cpu > 0 and machine_busy >= workers_cpu
    finally:
        child.kill()
        child.wait()
