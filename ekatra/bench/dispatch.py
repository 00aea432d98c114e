"""`ekatra bench dispatch`: how fast worker processes drain the outbox through the sandbox.

Three kinds of process: this one (fills the outbox, starts the others, measures), the
sandbox (`ekatra.bench.sandbox_process`, with the provider latency) and W workers
(`ekatra.bench.drain`, each the worker's real dispatch job with the real TwilioSender).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import click
from sqlalchemy import select

from ekatra import clock
from ekatra.bench.database import bench_app, bench_environ, is_sqlite, temporary_database
from ekatra.bench.report import percentile, show
from ekatra.config import SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN, SANDBOX_SMS_FROM
from ekatra.extensions import db
from ekatra.outbox import services as outbox
from ekatra.outbox.models import SENT, Message

UNLIMITED_RATE = 1_000_000.0  # "no --rate": a limit that never binds
PARKED_DAYS = 1  # messages wait a day ahead until every worker is ready
START_TIMEOUT_SECONDS = 60
BASE_TIMEOUT_SECONDS = 300.0  # the workers' default time limit: this, plus …
SLOWEST_EXPECTED_RATE = 100.0  # … the time the messages take at this rate (or --rate if lower)


def _start(module: str, args: list[str], env: dict[str, str], *, stdin=None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", module, *args], stdout=subprocess.PIPE, stdin=stdin,
                            text=True, env={**os.environ, **env})


def _go(drain: subprocess.Popen) -> None:
    """Let a ready worker start its dispatch ticks (it waits for this line)."""
    drain.stdin.write("go\n")
    drain.stdin.close()


def _first_line(process: subprocess.Popen, what: str) -> str:
    line = process.stdout.readline().strip()
    if not line:
        raise click.ClickException(f"the {what} did not start (exit code {process.wait()})")
    return line


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _release_parked(parked_at, now) -> None:
    """Bring the parked messages forward: the first one, parked at `parked_at`, is due `now`."""
    outbox.shift_due_times(now - parked_at)
    db.session.commit()


def _baseline(sandbox_url: str, sample: int) -> float:
    """The naive way: one SDK call after another, one learner at a time. Messages per second."""
    from ekatra.outbox.twilio import twilio_client

    client = twilio_client(SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN, sandbox_url)
    started = time.perf_counter()
    for index in range(sample):
        client.messages.create(to=f"+1666{index:07d}", from_=SANDBOX_SMS_FROM, body=f"Baseline {index}")
    return sample / (time.perf_counter() - started)


def default_timeout(messages: int, rate: float | None, due_over: float) -> float:
    """Long enough to drain `messages` at a slow pace: the workers give up only when stuck."""
    pace = min(rate or SLOWEST_EXPECTED_RATE, SLOWEST_EXPECTED_RATE)
    return BASE_TIMEOUT_SECONDS + due_over + messages / pace


def _cpu_figures(figures: dict, worker_reports: list[dict], sandbox_report: dict, sent: int) -> None:
    """CPU time per message: the workers' after they were ready, the sandbox's over its life."""
    if not sent:
        return
    drain_cpu = sum(report["drain_cpu_seconds"] for report in worker_reports)
    figures["worker_cpu_ms_per_message"] = round(1000 * drain_cpu / sent, 3)
    figures["sandbox_cpu_ms_per_request"] = round(1000 * sandbox_report["cpu_seconds"]
                                                  / max(sandbox_report["accepted"], 1), 3)


def run_dispatch(*, messages: int, latency_ms: float, concurrency: int, rate: float | None, workers: int,
                 database: str | None, due_over: float, baseline: int, timeout: float | None) -> dict:
    from ekatra.bench.seed import seed_outbox

    if is_sqlite(database or "sqlite") and workers > 1:
        raise click.UsageError("SQLite has one writer, so one worker: --workers 1, or use --database "
                               "postgresql://…")
    timeout = timeout or default_timeout(messages, rate, due_over)
    with temporary_database(database) as url, tempfile.TemporaryDirectory(prefix="ekatra-bench-") as folder:
        app = bench_app(url)
        with app.app_context():
            parked_at = clock.now() + timedelta(days=PARKED_DAYS)
            seed_outbox(messages, parked_at, due_over)
        sandbox = _start("ekatra.bench.sandbox_process",
                         ["--latency-ms", str(latency_ms), "--report", f"{folder}/sandbox.json"], {})
        drains: list[subprocess.Popen] = []
        try:
            sandbox_url = _first_line(sandbox, "sandbox")
            env = bench_environ(url, TWILIO_API_BASE_URL=sandbox_url, SEND_CONCURRENCY=str(concurrency),
                                SEND_RATE_PER_SECOND=str(rate or UNLIMITED_RATE))
            drains = [_start("ekatra.bench.drain", ["--report", f"{folder}/worker-{number}.json",
                                                     "--timeout", str(timeout), "--wait-for-go"], env,
                             stdin=subprocess.PIPE)
                      for number in range(workers)]
            for drain in drains:
                _first_line(drain, "worker")
            with app.app_context():
                started_at = clock.now()
                _release_parked(parked_at, started_at)
            for drain in drains:  # the first tick comes after the release, not up to a second later
                _go(drain)
            for drain in drains:
                drain.wait(timeout + START_TIMEOUT_SECONDS)
            baseline_rate = _baseline(sandbox_url, baseline) if baseline else None
        finally:
            for drain in drains:
                _stop(drain)
            _stop(sandbox)
        with app.app_context():
            rows = db.session.execute(
                select(Message.due_at, Message.sent_at).where(Message.status == SENT)).all()
            db.session.remove()
            db.engine.dispose()
        worker_reports = [json.loads(path.read_text()) for path in sorted(Path(folder).glob("worker-*.json"))]
        sandbox_report = json.loads(Path(folder, "sandbox.json").read_text())
    lateness = [(sent_at - due_at).total_seconds() for due_at, sent_at in rows]
    last_sent = max((sent_at for _, sent_at in rows), default=started_at)
    seconds = max((last_sent - started_at).total_seconds(), 1e-9)
    figures = {
        "database": "sqlite" if is_sqlite(url) else "postgresql",
        "messages": messages, "sent": len(rows), "latency_ms": latency_ms, "concurrency": concurrency,
        "rate_limit": rate, "workers": workers, "due_over_seconds": due_over,
        "drain_seconds": round(seconds, 2), "messages_per_second": round(len(rows) / seconds, 1),
        "lateness_p50_seconds": round(percentile(lateness, 0.50) or 0, 3),
        "lateness_p99_seconds": round(percentile(lateness, 0.99) or 0, 3),
        "sandbox_max_in_one_second": sandbox_report["max_in_one_second"],
        "sandbox_cpu_seconds": sandbox_report["cpu_seconds"],
    }
    for number, report in enumerate(worker_reports, 1):
        figures[f"worker_{number}_peak_rss_mb"] = report["peak_rss_mb"]
        figures[f"worker_{number}_cpu_seconds"] = report["cpu_seconds"]
    _cpu_figures(figures, worker_reports, sandbox_report, len(rows))
    if baseline_rate is not None:
        figures["baseline_messages_per_second"] = round(baseline_rate, 2)
        figures["baseline_sample"] = baseline
        figures["speedup_over_baseline"] = round(figures["messages_per_second"] / baseline_rate, 1)
    figures["workers_detail"] = worker_reports
    return figures


@click.command("dispatch")
@click.option("--messages", default=20_000, show_default=True, type=click.IntRange(min=1))
@click.option("--latency-ms", default=100.0, show_default=True, type=click.FloatRange(min=0),
              help="How long the sandbox takes to answer each send.")
@click.option("--concurrency", default=128, show_default=True, type=click.IntRange(min=1),
              help="SEND_CONCURRENCY of each worker (sends in flight at once: at 100 ms a send, "
                   "128 allow up to 1,280 a second).")
@click.option("--rate", default=None, type=click.FloatRange(min=0, min_open=True),
              help="SEND_RATE_PER_SECOND of each worker (default: no limit).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1))
@click.option("--due-over", default=0.0, show_default=True, type=click.FloatRange(min=0),
              help="Spread the messages' due times over this many seconds (0: all due at once).")
@click.option("--database", default=None, help="postgresql://… server (a temporary database is made "
              "on it); default: a temporary SQLite file (one worker only).")
@click.option("--baseline", is_flag=True, help="Also time the naive way (one SDK call after another).")
@click.option("--baseline-sample", default=200, show_default=True, type=click.IntRange(min=1))
@click.option("--timeout", default=None, type=click.FloatRange(min=1),
              help="Seconds before the workers give up (default: 300 + the messages at 100 a second, or "
                   "at --rate if lower).")
@click.option("--json", "json_file", default=None, help="Also write the figures to this file.")
def dispatch_command(messages, latency_ms, concurrency, rate, workers, due_over, database, baseline,
                     baseline_sample, timeout, json_file):
    """Drain N due messages through the sandbox with W worker processes."""
    figures = run_dispatch(messages=messages, latency_ms=latency_ms, concurrency=concurrency, rate=rate,
                           workers=workers, database=database, due_over=due_over,
                           baseline=baseline_sample if baseline else 0, timeout=timeout)
    show(f"bench dispatch: {messages:,} messages, {latency_ms:g} ms provider latency, {workers} worker(s) "
         f"({figures['database']})", figures, json_file)
