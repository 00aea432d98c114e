"""`ekatra bench api`: authors' read routes under load, served by gunicorn as in production.

gunicorn (`app:app`, the Procfile's worker settings) serves a seeded database on a loopback
port; a separate process (`ekatra.bench.load`) drives GET /api/course/<id>,
GET /api/group/<id> and GET /api/retrieve-deliveries over keep-alive connections.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click
import requests

from ekatra.bench.database import bench_app, bench_environ, temporary_database
from ekatra.bench.report import show

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent  # where app.py is
AUTHORS = 4
COURSES_PER_AUTHOR = 3
GROUPS_PER_AUTHOR = 2
LEARNERS_PER_GROUP = 30
PASSWORD = "bench password"
START_TIMEOUT_SECONDS = 30


def _course(number: int) -> dict:
    return {"name": f"Course {number}", "author": "Bench", "description": "A benchmark course",
            "days": [{"text": f"Day {day}: a budget is a plan for your money.",
                      "questions": [{"question": "Is a budget a plan?", "type": "boolean",
                                     "correct-answer": "yes"},
                                    {"question": "Pick one", "type": "choice", "options": ["save", "spend"],
                                     "correct-answer": "A"}]}
                     for day in range(1, 6)]}


def _group(number: int) -> dict:
    return {"name": f"Group {number}", "description": "",
            "students": [{"name": f"Learner {index}", "number": f"+9198{number:02d}{index:06d}",
                          "channel": "sms", "timezone": "Asia/Kolkata"}
                         for index in range(LEARNERS_PER_GROUP)]}


def seed_api_data(url: str) -> list[list[str]]:
    """Authors with courses, groups and deliveries, made through the API (test client).
    The read requests to replay: [path, access token]."""
    app = bench_app(url)
    client = app.test_client()
    plan: list[list[str]] = []

    def ok(response):
        if response.status_code != 200:
            raise click.ClickException(f"seeding failed: {response.status_code} {response.get_json()}")
        return response.get_json()

    for author in range(AUTHORS):
        email = f"author{author}@example.org"
        ok(client.post("/api/auth/signup", json={"name": f"Author {author}", "email": email,
                                                 "password": PASSWORD}))
        login = client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        token = ok(login)["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        courses = [ok(client.post("/api/course/", json=_course(c), headers=headers))["id"]
                   for c in range(COURSES_PER_AUTHOR)]
        groups = [ok(client.post("/api/group/", json=_group(author * 10 + g), headers=headers))["id"]
                  for g in range(GROUPS_PER_AUTHOR)]
        for course_id, group_id in zip(courses, groups, strict=False):
            ok(client.post(f"/api/delivery/group/{group_id}/{course_id}",
                           json={"schedule_at": "2030-01-01 09:00:00"}, headers=headers))
        plan += [[f"/api/course/{course_id}", token] for course_id in courses]
        plan += [[f"/api/group/{group_id}", token] for group_id in groups]
        plan += [["/api/retrieve-deliveries", token]]
    with app.app_context():
        from ekatra.extensions import db

        db.engine.dispose()
    return plan


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_up(base: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    with requests.Session() as session:
        session.trust_env = False
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise click.ClickException(f"gunicorn exited with {server.returncode}")
            try:
                if session.get(f"{base}/healthz", timeout=1).status_code < 500:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
    raise click.ClickException("gunicorn did not answer within 30 s")


def run_api(*, seconds: float, connections: int, web_workers: int, threads: int, database: str | None,
            max_requests: int) -> dict:
    with temporary_database(database) as url, tempfile.TemporaryDirectory(prefix="ekatra-bench-") as folder:
        plan_file = Path(folder, "requests.json")
        plan_file.write_text(json.dumps({"requests": seed_api_data(url)}))
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "gunicorn", "app:app", "--workers", str(web_workers),
                   "--threads", str(threads), "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
                   "--chdir", str(PROJECT_ROOT)]
        server = subprocess.Popen(command, env={**os.environ, **bench_environ(url)}, cwd=folder)
        try:
            _wait_until_up(base, server)
            load = subprocess.run([sys.executable, "-m", "ekatra.bench.load", "--url", base, "--plan",
                                   str(plan_file), "--seconds", str(seconds),
                                   "--connections", str(connections),
                                   "--max-requests", str(max_requests)],
                                  capture_output=True, text=True, timeout=seconds + 60, check=True)
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    result = json.loads(load.stdout.strip().splitlines()[-1])
    return {"database": "postgresql" if url.startswith("postgresql") else "sqlite",
            "gunicorn": f"--workers {web_workers} --threads {threads}", "connections": connections,
            "requests": result["requests"], "errors": result["errors"], "seconds": result["seconds"],
            "requests_per_second": round(result["requests"] / result["seconds"], 1),
            "latency_p50_ms": result["p50_ms"], "latency_p99_ms": result["p99_ms"],
            "error_sample": result["error_sample"]}


@click.command("api")
@click.option("--seconds", default=20.0, show_default=True, type=click.FloatRange(0.1, 600))
@click.option("--connections", default=8, show_default=True, type=click.IntRange(1, 256),
              help="Concurrent keep-alive connections of the load driver.")
@click.option("--web-workers", default=2, show_default=True, type=click.IntRange(min=1))
@click.option("--threads", default=4, show_default=True, type=click.IntRange(min=1),
              help="gunicorn threads per worker (the Procfile's setting).")
@click.option("--max-requests", default=1_000_000, show_default=True, type=click.IntRange(min=1))
@click.option("--database", default=None, help="postgresql://… server (a temporary database is made "
              "on it); default: a temporary SQLite file.")
@click.option("--json", "json_file", default=None, help="Also write the figures to this file.")
def api_command(seconds, connections, web_workers, threads, max_requests, database, json_file):
    """Drive the authors' read routes on gunicorn for S seconds."""
    figures = run_api(seconds=seconds, connections=connections, web_workers=web_workers, threads=threads,
                      database=database, max_requests=max_requests)
    show(f"bench api: {seconds:g} s, {connections} connections, gunicorn {figures['gunicorn']} "
         f"({figures['database']})", figures, json_file)
