"""The sandbox in a process of its own, for `ekatra bench dispatch`.

    python -m ekatra.bench.sandbox_process --latency-ms 100 --report FILE

Prints its URL on the first line of stdout, serves until SIGTERM, then writes to FILE how
many sends it accepted, the most that arrived in any one-second window, and its CPU time.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import resource
import signal
import sys
import threading
import time

from ekatra.bench.report import max_in_window
from ekatra.sandbox.server import Sandbox

# The sandbox keeps every message it accepted, and a full garbage collection walks them all while
# holding the GIL: late in a long run, requests would stall for a growing pause each time, which
# Twilio's API does not do. What has accumulated is frozen every second (`gc.freeze`), so the
# collector only ever walks what arrived since.
FREEZE_INTERVAL_SECONDS = 1.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--report", required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    # When the sandbox accepted each send: after its simulated latency, which every send waits
    # alike, so the counts per one-second window are those of the arrivals.
    arrivals: list[float] = []
    sandbox = Sandbox(latency_ms=args.latency_ms, callbacks=False, inbound_url=None,
                      on_message=lambda _message: arrivals.append(time.monotonic())).start()
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    print(sandbox.url, flush=True)
    while not stopping.wait(FREEZE_INTERVAL_SECONDS):
        gc.freeze()
    sandbox.stop()
    arrivals = list(arrivals)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    report = {"accepted": len(arrivals), "max_in_one_second": max_in_window(arrivals),
              "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2)}
    with open(args.report, "w") as file:
        json.dump(report, file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
