"""One dispatch worker for `ekatra bench dispatch`: the worker's real dispatch job, in a loop.

    python -m ekatra.bench.drain --report FILE   (DATABASE_URL, TWILIO_API_BASE_URL, SEND_* set)

Builds the worker as `python -m scheduler` does (`ekatra.worker.make_worker`: the real
TwilioSender, its concurrency and rate limit), prints `ready` (with --wait-for-go, then waits
for a line on stdin, so that the benchmark can release the messages just before the first
tick), then runs the worker's dispatch job every second, as the scheduler does, until no
message is pending or sending. Writes to FILE its own peak RSS (not its parent's: see
`own_peak_rss_mb`), its CPU time, and the CPU time
spent after `ready` (draining).
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import sys
import time

from sqlalchemy import func, select

from ekatra import create_app
from ekatra.bench.report import own_peak_rss_mb
from ekatra.outbox.models import UNSENT, Message
from ekatra.worker import DISPATCH_INTERVAL_SECONDS, freeze_startup_objects, make_worker


def _unsent() -> int:
    from ekatra.extensions import db

    count = db.session.scalar(select(func.count()).select_from(Message).where(Message.status.in_(UNSENT)))
    db.session.rollback()
    return count


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--report", required=True)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--wait-for-go", action="store_true",
                        help="After `ready`, wait for a line on stdin before the first tick.")
    args = parser.parse_args(argv)
    app = create_app()
    logging.getLogger().setLevel(logging.WARNING)
    worker = make_worker(app.config)
    with app.app_context():
        _unsent()  # connect before saying ready
    freeze_startup_objects()  # as `python -m scheduler` does
    print("ready", flush=True)
    if args.wait_for_go:
        sys.stdin.readline()
    cpu_at_ready = _cpu_seconds()
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        tick = time.monotonic()
        with app.app_context():
            from ekatra.extensions import db

            try:
                worker.dispatch()  # the worker's dispatch job, as the scheduler runs it
                if _unsent() == 0:
                    break
            finally:
                db.session.remove()
        time.sleep(max(0.0, DISPATCH_INTERVAL_SECONDS - (time.monotonic() - tick)))
    worker.close()
    cpu_seconds = _cpu_seconds()
    with open(args.report, "w") as file:
        json.dump({"worker": worker.worker_id, "peak_rss_mb": round(own_peak_rss_mb(), 1),
                   "cpu_seconds": round(cpu_seconds, 2),
                   "drain_cpu_seconds": round(cpu_seconds - cpu_at_ready, 2)}, file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
