"""The load driver of `ekatra bench api`, run as a process of its own.

    python -m ekatra.bench.load --url http://127.0.0.1:PORT --plan FILE --seconds S --connections C
                                [--rate R] [--max-requests N]

FILE holds `{"requests": [[path, token], …]}`. C threads each keep one HTTP/1.1 connection
alive and send GETs round-robin over the list until S seconds pass (or N requests):

- closed loop (no --rate): each connection sends its next request as soon as the previous
  answer arrived; the server's pace sets the rate. Latency: from sending to the whole answer.
- open loop (--rate R): requests are due R a second on a fixed schedule, each taken by the
  next free connection. Latency counts from when the request was due, so time spent waiting
  for a free connection (the server falling behind) is counted, not hidden.

Prints one JSON line: requests, errors, seconds, latencies' p50 and p99, the TCP connections
opened (one per thread while the server keeps them alive), and the CPU seconds this process
used meanwhile (its share of the machine, when it shares the server's cores).
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ekatra.bench.report import percentile


@dataclass
class Run:
    """What the driving threads share: the schedule, the budget and the results."""

    requests: list
    deadline: float  # time.perf_counter() value
    budget: int
    rate: float = 0.0  # requests due a second; 0: closed loop
    start: float = field(default_factory=time.perf_counter)
    claimed: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    opened: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def claim(self) -> float | None:
        """When the next request is due (now, in a closed loop); None once the budget or the
        time is spent."""
        with self.lock:
            due = self.start + self.claimed / self.rate if self.rate else time.perf_counter()
            if self.budget <= 0 or due >= self.deadline:
                return None
            self.budget -= 1
            self.claimed += 1
            return due


def _drive(run: Run, host: str, port: int, offset: int) -> None:
    """One connection's loop; appends how many TCP connections it opened to `run.opened`."""
    connection = http.client.HTTPConnection(host, port, timeout=10)
    index, connects = offset, 0
    while (due := run.claim()) is not None:
        if (wait := due - time.perf_counter()) > 0:
            time.sleep(wait)
        path, token = run.requests[index % len(run.requests)]
        index += 1
        if connection.sock is None:  # the first request, or the server closed the connection
            connects += 1
        started = due if run.rate else time.perf_counter()
        try:
            connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                run.errors.append(f"{response.status} {path}")
            if response.getheader("Connection", "").lower() == "close":
                connection.close()
        except (OSError, http.client.HTTPException) as error:
            run.errors.append(f"{type(error).__name__} {path}")
            connection.close()
            continue
        run.latencies.append(time.perf_counter() - started)
    connection.close()
    run.opened.append(connects)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--plan", required=True)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rate", type=float, default=0.0, help="requests due a second (open loop)")
    parser.add_argument("--max-requests", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    target = urlsplit(args.url)
    if target.hostname not in ("127.0.0.1", "localhost", "::1"):
        parser.error("the load driver only talks to loopback")
    with open(args.plan) as file:
        requests = json.load(file)["requests"]
    cpu_started = time.process_time()
    run = Run(requests, time.perf_counter() + args.seconds, args.max_requests, args.rate)
    threads = [threading.Thread(target=_drive, args=(run, target.hostname, target.port, number * 7))
               for number in range(args.connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - run.start
    print(json.dumps({"requests": len(run.latencies), "errors": len(run.errors),
                      "error_sample": run.errors[:5], "seconds": round(seconds, 3),
                      "cpu_seconds": round(time.process_time() - cpu_started, 3),
                      "connections_opened": sum(run.opened),
                      "p50_ms": round((percentile(run.latencies, 0.50) or 0) * 1000, 2),
                      "p99_ms": round((percentile(run.latencies, 0.99) or 0) * 1000, 2)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
