"""Each `ekatra bench` command runs end to end on tiny sizes and reports its figures.

Timings are printed, never asserted (DESIGN §9).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

EKATRA = str(Path(sys.executable).parent / "ekatra")


def _bench(tmp_path, *args: str) -> tuple[str, dict]:
    report = tmp_path / "figures.json"
    result = subprocess.run([EKATRA, "bench", *args, "--json", str(report)],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout, json.loads(report.read_text())


def test_bench_plan_plans_every_learner(tmp_path):
    output, figures = _bench(tmp_path, "plan", "--learners", "200", "--timezones", "3")
    assert "learners_per_second" in output
    assert figures["planned_learner_days"] == 200
    assert figures["messages_written"] == 400
    assert figures["peak_rss_mb"] > 0


def test_bench_import_creates_and_updates_every_row(tmp_path):
    output, figures = _bench(tmp_path, "import", "--rows", "50")
    assert "json_create_seconds" in output
    assert (figures["json_created"], figures["json_updated"]) == (50, 50)
    assert (figures["csv_created"], figures["xlsx_created"]) == (50, 50)


def test_bench_claim_claims_batches_out_of_the_backlog(tmp_path):
    output, figures = _bench(tmp_path, "claim", "--backlog", "300", "--batch", "100", "--claims", "2")
    assert "median_claim_seconds" in output
    assert figures["claimed"] == 200
    assert figures["first_claim_seconds"] > 0


def test_bench_dispatch_drains_the_outbox(tmp_path):
    output, figures = _bench(tmp_path, "dispatch", "--messages", "50", "--latency-ms", "0", "--baseline",
                             "--baseline-sample", "5")
    assert "messages_per_second" in output
    assert figures["sent"] == 50
    assert figures["sandbox_max_in_one_second"] >= 1
    assert figures["worker_1_peak_rss_mb"] > 0
    assert figures["speedup_over_baseline"] > 0


def test_bench_dispatch_refuses_several_workers_on_sqlite(tmp_path):
    result = subprocess.run([EKATRA, "bench", "dispatch", "--messages", "5",
                             "--workers", "2"], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode != 0
    assert "one worker" in result.stderr


def test_bench_api_serves_the_read_routes(tmp_path):
    output, figures = _bench(tmp_path, "api", "--seconds", "1", "--max-requests", "200")
    assert "requests_per_second" in output
    assert figures["requests"] > 0
    assert figures["errors"] == 0


def test_bench_reads_answers_the_read_routes_in_process(tmp_path):
    output, figures = _bench(tmp_path, "reads", "--requests", "30", "--rounds", "2")
    assert "cpu_ms_per_request_fastest" in output
    assert figures["requests_per_round"] == 30 and figures["rounds"] == 2
    assert 0 < figures["cpu_ms_per_request_fastest"] <= figures["cpu_ms_per_request_median"]


def test_callgrind_totals_are_read_from_every_part_of_its_output(tmp_path):
    from ekatra.bench.reads import callgrind_total

    (tmp_path / "reads.callgrind").write_text("events: Ir\nsummary: 0\nfn=main\n1 5\ntotals: 1200\n")
    (tmp_path / "reads.callgrind.2").write_text("events: Ir\nsummary: 0\ntotals: 34\n")
    assert callgrind_total(tmp_path / "reads.callgrind") == 1234


def test_a_read_not_answered_with_a_200_stops_the_in_process_bench():
    import click
    import pytest

    from ekatra.bench.reads import _answer_all

    def refusing_app(_environ, start_response):
        start_response("401 UNAUTHORIZED", [("Content-Type", "application/json")])
        return [b"{}"]

    with pytest.raises(click.ClickException, match="/api/course/1 answered 401"):
        _answer_all(refusing_app, [{"PATH_INFO": "/api/course/1"}], 1)
