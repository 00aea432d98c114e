"""What the benchmarks measure: a worker's own peak memory, not the one its parent had."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ekatra.bench.dispatch import default_timeout
from ekatra.bench.report import max_in_window

CHILD = ("import json; from ekatra.bench.report import own_peak_rss_mb, peak_rss_mb; "
         "print(json.dumps([own_peak_rss_mb(), peak_rss_mb()]))")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="VmHWM is Linux's")
def test_a_child_reports_its_own_peak_not_the_parents():
    ballast = bytearray(128 * 1024 * 1024)  # the parent's memory, resident at the fork
    ballast[::4096] = b"x" * len(ballast[::4096])

    own, inherited = json.loads(subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                                               check=True).stdout)

    assert inherited >= 128, "ru_maxrss carries the parent's peak over fork and exec"
    assert own < inherited - 64, "VmHWM starts afresh at exec"
    del ballast


def test_windows_count_events_less_than_a_window_apart():
    assert max_in_window([0.0, 0.5, 0.999, 1.0, 1.5]) == 3
    assert max_in_window([]) == 0


def test_the_default_time_limit_leaves_room_for_a_slow_drain():
    assert default_timeout(200_000, None, 0) >= 2000, "200,000 messages at 100 a second"
    assert default_timeout(6_000, 10, 60) >= 600 + 60, "a low --rate takes longer"
