"""`ekatra bench reads`: the reads of `bench api`, answered by the app in one process.

The same seeded data and the same requests (GET /api/course/<id>, /api/group/<id>,
/api/retrieve-deliveries with the authors' tokens), passed straight to the WSGI app that
gunicorn would call (`create_app()`, with its middleware, rate limiter and metrics), one after
another in one thread: no gunicorn, no HTTP, no other thread. It reports the CPU time the app
itself spends per request (the fastest and the median of several rounds), the part of
`bench api`'s server figure that the application's code decides.

With --instructions the rounds run under valgrind's callgrind (Linux, `valgrind` installed) and
the figure is the number of machine instructions executed per request, counted from the first
request of the measured round to its last. It does not move with the speed of a shared machine,
which changes CPU times by a factor of two or more from one sitting, or one minute, to the next:
two commits measured this way can be compared on a noisy machine to within a fraction of a per
cent. Seeding runs natively; only the measuring child runs under valgrind (about 50× slower).
"""

from __future__ import annotations

import gc
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click

from ekatra.bench.api import BENCH_RATE_LIMIT, describe_data, seed_api_data
from ekatra.bench.database import bench_app, temporary_database
from ekatra.bench.report import machine_reference_ms, show

WARM_UP_REQUESTS = 200


def _environs(plan: list[list[str]]) -> list[dict]:
    from werkzeug.test import EnvironBuilder

    environs = []
    for path, token in plan:
        builder = EnvironBuilder(path=path, headers={"Authorization": f"Bearer {token}"})
        try:
            environs.append(builder.get_environ())
        finally:
            builder.close()
    return environs


def _answer_all(app, environs: list[dict], requests: int) -> None:
    """Pass `requests` of the requests to the app, in turn; every answer must be a 200."""
    statuses: list[str] = []

    def start_response(status, _headers, _exc_info=None):
        statuses.append(status)

    for index in range(requests):
        environ = environs[index % len(environs)]
        body = app(dict(environ), start_response)
        try:
            for _chunk in body:
                pass
        finally:
            if hasattr(body, "close"):
                body.close()
        status = statuses.pop()
        if not status.startswith("200"):
            raise click.ClickException(f"{environ['PATH_INFO']} answered {status}")


def _callgrind(pid: int, switch: str) -> None:
    subprocess.run(["callgrind_control", "--instr=" + switch, str(pid)], check=True,
                   capture_output=True, timeout=60)


def measure(url: str, plan: list[list[str]], *, requests: int, rounds: int,
            count_instructions: bool) -> list[float]:
    """CPU milliseconds per request of each round (the app bound to `url`). With
    `count_instructions` (under callgrind, started with --instr-atstart=no) the last round's
    requests are the only instructions counted."""
    app = bench_app(url, RATE_LIMIT_PER_AUTHOR=BENCH_RATE_LIMIT)
    environs = _environs(plan)
    _answer_all(app, environs, WARM_UP_REQUESTS)
    per_round = []
    for number in range(rounds):
        gc.collect()
        counting = count_instructions and number == rounds - 1
        if counting:
            _callgrind(os.getpid(), "on")
        started = time.process_time()
        _answer_all(app, environs, requests)
        per_round.append(1000 * (time.process_time() - started) / requests)
        if counting:
            _callgrind(os.getpid(), "off")
    return per_round


def callgrind_total(out_file: Path) -> int:
    """The instructions a callgrind output file counted: its `totals:` line (callgrind writes
    `summary: 0` at the top of a run whose instrumentation starts switched off). Files of
    several parts (one per dump) add up."""
    total, found = 0, False
    for part in sorted(out_file.parent.glob(out_file.name + "*")):
        for line in part.read_text(errors="replace").splitlines():
            match = re.fullmatch(r"totals:\s+(\d+)", line.strip())
            if match:
                total += int(match.group(1))
                found = True
    if not found:
        raise click.ClickException(f"callgrind wrote no totals to {out_file}")
    return total


def _count_instructions(url: str, plan_file: Path, requests: int, folder: str) -> tuple[int, list[float]]:
    """Run one measured round in a child process under callgrind: (instructions, its CPU ms)."""
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        raise click.ClickException("--instructions needs valgrind (e.g. apt-get install valgrind)")
    out_file = Path(folder, "reads.callgrind")
    child = subprocess.run(
        ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out_file}",
         sys.executable, "-m", "ekatra.bench.reads", url, str(plan_file), str(requests)],
        capture_output=True, text=True, timeout=3600)
    if child.returncode != 0:
        raise click.ClickException(f"the measuring child failed: {child.stderr[-2000:]}")
    return callgrind_total(out_file), json.loads(child.stdout.strip().splitlines()[-1])


def run_reads(*, database: str | None, requests: int, rounds: int, instructions: bool) -> dict:
    reference = machine_reference_ms()
    with temporary_database(database) as url, tempfile.TemporaryDirectory(prefix="ekatra-bench-") as folder:
        plan, messages = seed_api_data(url)
        figures: dict = {"database": "postgresql" if url.startswith("postgresql") else "sqlite",
                         "data": f"{describe_data()}, {messages:,} outbox messages",
                         "requests_per_round": requests}
        if instructions:
            plan_file = Path(folder, "requests.json")
            plan_file.write_text(json.dumps(plan))
            total, per_round = _count_instructions(url, plan_file, requests, folder)
            figures |= {"rounds": 1, "instructions_per_request": round(total / requests),
                        "cpu_ms_per_request_under_valgrind": round(per_round[-1], 2)}
        else:
            per_round = measure(url, plan, requests=requests, rounds=rounds, count_instructions=False)
            figures |= {"rounds": rounds, "cpu_ms_per_request_fastest": round(min(per_round), 3),
                        "cpu_ms_per_request_median": round(statistics.median(per_round), 3)}
    return figures | {"machine_reference_ms": reference}


@click.command("reads")
@click.option("--requests", default=3000, show_default=True, type=click.IntRange(min=1),
              help="Requests per round.")
@click.option("--rounds", default=5, show_default=True, type=click.IntRange(min=1))
@click.option("--database", default=None, help="postgresql://… server (a temporary database is made "
              "on it); default: a temporary SQLite file.")
@click.option("--instructions", is_flag=True,
              help="Count the machine instructions per request under valgrind's callgrind (one round; "
                   "use a few hundred requests).")
@click.option("--json", "json_file", default=None, help="Also write the figures to this file.")
def reads_command(requests, rounds, database, instructions, json_file):
    """Answer the authors' reads in this process, without a server: the app's own cost per request."""
    figures = run_reads(database=database, requests=requests, rounds=rounds, instructions=instructions)
    how = "instructions counted by callgrind" if instructions else f"{rounds} rounds"
    show(f"bench reads: {requests} requests a round, in process, {how} ({figures['database']})",
         figures, json_file)


def _child(url: str, plan_file: str, requests: str) -> None:
    plan = json.loads(Path(plan_file).read_text())
    per_round = measure(url, plan, requests=int(requests), rounds=1, count_instructions=True)
    print(json.dumps(per_round))


if __name__ == "__main__":
    _child(*sys.argv[1:4])
