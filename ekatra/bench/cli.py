"""`ekatra bench`: the benchmark commands (plan, dispatch, api, reads, claim, import)."""

from __future__ import annotations

import click

from ekatra.bench.api import api_command
from ekatra.bench.claim import claim_command
from ekatra.bench.dispatch import dispatch_command
from ekatra.bench.importing import import_command
from ekatra.bench.plan import plan_command
from ekatra.bench.reads import reads_command


@click.group("bench")
def bench_group():
    """Benchmarks: print figures (and JSON with --json). Loopback only; each run is bounded."""


bench_group.add_command(plan_command)
bench_group.add_command(dispatch_command)
bench_group.add_command(api_command)
bench_group.add_command(reads_command)
bench_group.add_command(claim_command)
bench_group.add_command(import_command)
