"""The load driver of `ekatra bench api`, run as a process of its own.

    python -m ekatra.bench.load --url http://127.0.0.1:PORT --plan FILE --seconds S --connections C

FILE holds `{"requests": [[path, token], …]}`. C threads each keep one HTTP/1.1 connection
alive and send GETs round-robin over the list until S seconds pass (or --max-requests);
prints one JSON line: requests, errors, seconds, latencies' p50 and p99.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import threading
import time
from urllib.parse import urlsplit

from ekatra.bench.report import percentile


def _drive(host: str, port: int, requests: list, offset: int, deadline: float, budget: list[int],
           latencies: list[float], errors: list[str], lock: threading.Lock) -> None:
    connection = http.client.HTTPConnection(host, port, timeout=10)
    index = offset
    while time.monotonic() < deadline:
        with lock:
            if budget[0] <= 0:
                break
            budget[0] -= 1
        path, token = requests[index % len(requests)]
        index += 1
        started = time.perf_counter()
        try:
            connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                errors.append(f"{response.status} {path}")
            if response.getheader("Connection", "").lower() == "close":
                connection.close()
        except (OSError, http.client.HTTPException) as error:
            errors.append(f"{type(error).__name__} {path}")
            connection.close()
            continue
        latencies.append(time.perf_counter() - started)
    connection.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--plan", required=True)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--max-requests", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    target = urlsplit(args.url)
    if target.hostname not in ("127.0.0.1", "localhost", "::1"):
        parser.error("the load driver only talks to loopback")
    with open(args.plan) as file:
        requests = json.load(file)["requests"]
    latencies: list[float] = []
    errors: list[str] = []
    budget, lock = [args.max_requests], threading.Lock()
    started = time.monotonic()
    deadline = started + args.seconds
    threads = [threading.Thread(target=_drive, args=(target.hostname, target.port, requests, number * 7,
                                                     deadline, budget, latencies, errors, lock))
               for number in range(args.connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - started
    print(json.dumps({"requests": len(latencies), "errors": len(errors), "error_sample": errors[:5],
                      "seconds": round(seconds, 3),
                      "p50_ms": round((percentile(latencies, 0.50) or 0) * 1000, 2),
                      "p99_ms": round((percentile(latencies, 0.99) or 0) * 1000, 2)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
