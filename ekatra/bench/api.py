"""`ekatra bench api`: authors' read routes under load, served by gunicorn as in production.

gunicorn runs `app:app` with the production settings file (`gunicorn.conf.py`, as the
Procfile's `web`; access log to a file) on a loopback port and a seeded database. A separate
process (`ekatra.bench.load`) drives GET /api/course/<id>, GET /api/group/<id> and
GET /api/retrieve-deliveries over keep-alive connections: a closed loop (each connection sends
its next request when the previous answer arrived: the most the server does), or with --rate an
open loop (requests due R a second, latency counted from when each was due).

Besides requests/s and latency, it reports the CPU time spent per request by the gunicorn
workers and by the load driver, and the CPU other processes used meanwhile (PostgreSQL, other
programs): on a small machine these say what limits the figures.
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
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import requests

from ekatra.bench.database import bench_app, bench_environ, temporary_database
from ekatra.bench.report import machine_reference_ms, show

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent  # where app.py is
GUNICORN_SETTINGS = PROJECT_ROOT / "gunicorn.conf.py"
AUTHORS = 4
COURSES_PER_AUTHOR = 3
DAYS_PER_COURSE = 10
GROUPS_PER_AUTHOR = 2
LEARNERS_PER_GROUP = 50
DAYS_SENT = 7  # each delivery is a week in: its learners' first days are in the outbox
# One instant for every learner (schedule_at with an offset); day N falls due N − 1 days later.
DELIVERY_START = datetime(2030, 1, 7, 9, tzinfo=UTC)
PASSWORD = "bench password"
START_TIMEOUT_SECONDS = 30


def _course(number: int) -> dict:
    return {"name": f"Course {number}", "author": "Bench", "description": "A benchmark course",
            "days": [{"text": f"Day {day}: a budget is a plan for your money.",
                      "questions": [{"question": "Is a budget a plan?", "type": "boolean",
                                     "correct-answer": "yes"},
                                    {"question": "Pick one", "type": "choice", "options": ["save", "spend"],
                                     "correct-answer": "A"}]}
                     for day in range(1, DAYS_PER_COURSE + 1)]}


def _group(number: int) -> dict:
    return {"name": f"Group {number}", "description": "",
            "students": [{"name": f"Learner {index}", "number": f"+9198{number:02d}{index:06d}",
                          "channel": "sms", "timezone": "Asia/Kolkata"}
                         for index in range(LEARNERS_PER_GROUP)]}


def describe_data() -> str:
    """What `seed_api_data` creates, in words (printed with the figures)."""
    deliveries = AUTHORS * min(COURSES_PER_AUTHOR, GROUPS_PER_AUTHOR)
    return (f"{AUTHORS} authors; {AUTHORS * COURSES_PER_AUTHOR} courses of {DAYS_PER_COURSE} days × 2 "
            f"questions; {AUTHORS * GROUPS_PER_AUTHOR} groups of {LEARNERS_PER_GROUP} learners; "
            f"{deliveries} deliveries {DAYS_SENT} days in")


def _plan_first_days(app) -> int:
    """Run the worker's planner once a day for DAYS_SENT days of the deliveries; messages written."""
    from ekatra.deliveries.planner import plan_due_days
    from ekatra.extensions import db

    with app.app_context():
        days = (DELIVERY_START + timedelta(days=day) for day in range(DAYS_SENT))
        written = sum(plan_due_days(now).messages for now in days)
        db.session.remove()
    return written


def seed_api_data(url: str) -> tuple[list[list[str]], int]:
    """Authors with courses, groups and deliveries, made through the API (test client), and the
    deliveries' first days planned into the outbox. Returns the read requests to replay
    ([path, access token]) and the number of outbox messages."""
    app = bench_app(url)
    client = app.test_client()
    plan: list[list[str]] = []

    def ok(response):
        if response.status_code != 200:
            raise click.ClickException(f"seeding failed: {response.status_code} {response.get_json()}")
        return response.get_json()

    schedule = {"schedule_at": DELIVERY_START.isoformat()}
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
            ok(client.post(f"/api/delivery/group/{group_id}/{course_id}", json=schedule, headers=headers))
        plan += [[f"/api/course/{course_id}", token] for course_id in courses]
        plan += [[f"/api/group/{group_id}", token] for group_id in groups]
        plan += [["/api/retrieve-deliveries", token]]
    messages = _plan_first_days(app)
    with app.app_context():
        from ekatra.extensions import db

        db.engine.dispose()
    return plan, messages


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


# CPU accounting (Linux /proc; None elsewhere) ------------------------------------------------


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (gunicorn's workers); none without /proc."""
    found: list[int] = []
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else ():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
        except (OSError, ValueError):
            continue
    return found


def _busy_cpu_seconds() -> float:
    """CPU time every core of the machine has spent busy (not idle, not waiting for I/O)."""
    values = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


def _cpu_snapshot(workers: list[int]) -> tuple[float, float] | None:
    """(the workers' CPU seconds, the machine's busy seconds), or None without /proc."""
    try:
        return sum(_cpu_seconds(pid) for pid in workers), _busy_cpu_seconds()
    except (OSError, ValueError):
        return None


def cpu_figures(before, after, driver_cpu: float, result: dict) -> dict:
    """CPU per request of the gunicorn workers and of the load driver, and the cores other
    processes kept busy on average meanwhile (PostgreSQL's server processes among them)."""
    requests_done = max(result["requests"], 1)
    driver = {"driver_cpu_ms_per_request": round(1000 * driver_cpu / requests_done, 3)}
    if before is None or after is None:
        return {"server_cpu_ms_per_request": None, **driver, "other_processes_cpu_cores": None}
    server = after[0] - before[0]
    others = (after[1] - before[1]) - server - driver_cpu
    return {"server_cpu_ms_per_request": round(1000 * server / requests_done, 3), **driver,
            "other_processes_cpu_cores": round(max(others, 0.0) / result["seconds"], 2)}


# The run ----------------------------------------------------------------------------------------


def _gunicorn_command(port: int, web_workers: int, threads: int, folder: str) -> list[str]:
    """gunicorn with the production settings file; the workers, threads and port of this run,
    and the access log written to a file instead of stdout."""
    return [sys.executable, "-m", "gunicorn", "app:app", "--config", str(GUNICORN_SETTINGS),
            "--workers", str(web_workers), "--threads", str(threads), "--bind", f"127.0.0.1:{port}",
            "--access-logfile", str(Path(folder, "access.log")), "--log-level", "warning",
            "--chdir", str(PROJECT_ROOT)]


def _drive(base: str, plan_file: Path, load_options: list[str], seconds: float,
           server: subprocess.Popen) -> tuple[dict, dict]:
    """Run the load driver against the server; its result and the CPU figures of the run."""
    workers = _children(server.pid)
    before = _cpu_snapshot(workers)
    load = subprocess.run([sys.executable, "-m", "ekatra.bench.load", "--url", base, "--plan",
                           str(plan_file), "--seconds", str(seconds), *load_options],
                          capture_output=True, text=True, timeout=seconds + 60, check=True)
    after = _cpu_snapshot(workers)
    result = json.loads(load.stdout.strip().splitlines()[-1])
    return result, cpu_figures(before, after, result["cpu_seconds"], result)


# The rate limit stays on and counts every request, as in production, but far above what the
# bench's four authors ask for: the figures are of reads served, not of 429s.
BENCH_RATE_LIMIT = "100000000/minute"


def run_api(*, seconds: float, connections: int, web_workers: int, threads: int, database: str | None,
            max_requests: int, rate: float = 0.0, rate_limit_storage: str = "memory://") -> dict:
    reference = machine_reference_ms()
    with temporary_database(database) as url, tempfile.TemporaryDirectory(prefix="ekatra-bench-") as folder:
        plan, messages = seed_api_data(url)
        plan_file = Path(folder, "requests.json")
        plan_file.write_text(json.dumps({"requests": plan}))
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(_gunicorn_command(port, web_workers, threads, folder),
                                  env={**os.environ, **bench_environ(
                                      url, RATE_LIMIT_PER_AUTHOR=BENCH_RATE_LIMIT,
                                      RATELIMIT_STORAGE_URI=rate_limit_storage)}, cwd=folder)
        try:
            _wait_until_up(base, server)
            load_options = ["--connections", str(connections), "--max-requests", str(max_requests),
                            "--rate", str(rate)]
            result, cpu = _drive(base, plan_file, load_options, seconds, server)
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    return {"database": "postgresql" if url.startswith("postgresql") else "sqlite",
            "data": f"{describe_data()}, {messages:,} outbox messages",
            "gunicorn": f"--config {GUNICORN_SETTINGS.name} --workers {web_workers} --threads {threads}",
            "rate_limit_storage": rate_limit_storage.split("@")[-1],
            "load": f"open loop, {rate:g} requests/s due" if rate else "closed loop",
            "connections": connections, "connections_opened": result["connections_opened"],
            "requests": result["requests"], "errors": result["errors"], "seconds": result["seconds"],
            "requests_per_second": round(result["requests"] / result["seconds"], 1),
            "latency_p50_ms": result["p50_ms"], "latency_p99_ms": result["p99_ms"], **cpu,
            "machine_reference_ms": reference, "error_sample": result["error_sample"]}


@click.command("api")
@click.option("--seconds", default=20.0, show_default=True, type=click.FloatRange(0.1, 600))
@click.option("--connections", default=8, show_default=True, type=click.IntRange(1, 256),
              help="Concurrent keep-alive connections of the load driver.")
@click.option("--web-workers", default=2, show_default=True, type=click.IntRange(min=1))
@click.option("--threads", default=4, show_default=True, type=click.IntRange(min=1),
              help="gunicorn threads per worker (gunicorn.conf.py's setting).")
@click.option("--rate", default=0.0, show_default=True, type=click.FloatRange(min=0),
              help="Requests due a second (open loop); 0: closed loop, as fast as the server answers.")
@click.option("--max-requests", default=1_000_000, show_default=True, type=click.IntRange(min=1))
@click.option("--database", default=None, help="postgresql://… server (a temporary database is made "
              "on it); default: a temporary SQLite file.")
@click.option("--rate-limit-storage", default="memory://", show_default=True,
              help="Where the rate limiter counts (production: redis://…).")
@click.option("--json", "json_file", default=None, help="Also write the figures to this file.")
def api_command(seconds, connections, web_workers, threads, rate, max_requests, database,
                rate_limit_storage, json_file):
    """Drive the authors' read routes on gunicorn for S seconds."""
    figures = run_api(seconds=seconds, connections=connections, web_workers=web_workers, threads=threads,
                      database=database, max_requests=max_requests, rate=rate,
                      rate_limit_storage=rate_limit_storage)
    show(f"bench api: {seconds:g} s, {figures['load']}, {connections} connections, gunicorn "
         f"{figures['gunicorn']} ({figures['database']})", figures, json_file)
