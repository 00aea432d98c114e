"""Shared by the benchmarks: percentiles, peak memory, printing figures and writing JSON."""

from __future__ import annotations

import json
import math
import resource
import time
from pathlib import Path

import click


def percentile(values: list[float], fraction: float) -> float | None:
    """The nearest-rank percentile (`fraction` 0..1) of `values`; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def peak_rss_mb() -> float:
    """This process's peak resident set size so far (getrusage ru_maxrss, KiB on Linux), in MB.

    Linux carries ru_maxrss over fork and exec: a child process started by a big parent reports
    at least the parent's peak. For a child, use `own_peak_rss_mb`."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def own_peak_rss_mb() -> float:
    """This process image's own peak resident set size, in MB: VmHWM, which starts afresh at
    exec, so a benchmark's child process is not charged with its parent's memory. Where there is
    no /proc (not Linux), ru_maxrss."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return peak_rss_mb()


def max_in_window(times: list[float], window_seconds: float = 1.0) -> int:
    """The most events in any window of `window_seconds` (sliding, not calendar seconds)."""
    ordered = sorted(times)
    best, first = 0, 0
    for last, moment in enumerate(ordered):
        while moment - ordered[first] >= window_seconds:
            first += 1
        best = max(best, last - first + 1)
    return best


def machine_reference_ms(repeats: int = 5) -> float:
    """CPU milliseconds this machine takes for a fixed piece of pure Python (a million steps of
    a loop adding integers), the fastest of `repeats`. Printed beside the API figures: a shared
    machine's speed varies from one sitting to the next, and the figures move with it."""
    fastest = math.inf
    for _ in range(repeats):
        started = time.process_time()
        total = 0
        for step in range(1_000_000):
            total += step
        fastest = min(fastest, time.process_time() - started)
    return round(1000 * fastest, 1)


def show(title: str, figures: dict, json_file: str | None) -> None:
    """Print `figures` one per line under `title`; write them as JSON to `json_file` if given."""
    click.echo(title)
    for name, value in figures.items():
        if isinstance(value, dict | list):
            continue
        shown = f"{value:,.2f}" if isinstance(value, float) else str(value)
        click.echo(f"  {name:<34} {shown}")
    if json_file:
        Path(json_file).write_text(json.dumps(figures, indent=2, default=str) + "\n")
        click.echo(f"  (written to {json_file})")
