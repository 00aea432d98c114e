"""gunicorn settings of the web process: the Procfile's `web` runs with this file, and so does
`ekatra bench api` (which sets its own port, worker count and access-log file on top).

- gthread workers, 4 threads each: a worker keeps each client's connection open between
  requests (HTTP keep-alive) and serves several at once. A sync worker (`threads = 1`) closes
  every connection after one request.
- WEB_CONCURRENCY worker processes (default 2), on PORT (default 5000).
- One access-log line per request, to stdout.
- The partner contract's `jwt_token` and `access_token` headers: gunicorn's parser keeps
  underscore header names (`header_map = "dangerous"`) only for `pre_request` to rename those
  two to a reserved name and drop every other one, before the WSGI environ is built (see
  ekatra/partners/headers.py). The two settings go together: never the first alone.
- GET /metrics adds up every worker process: each writes its samples to files in
  PROMETHEUS_MULTIPROC_DIR (set here, before a worker imports the app and prometheus_client;
  a fresh temporary folder unless the operator names one). `on_starting` empties the folder,
  so a restart does not resume old counts; `child_exit` marks a dead worker's files.
"""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="ekatra-metrics-"))

from ekatra.partners.headers import gunicorn_pre_request  # noqa: E402

bind = f"0.0.0.0:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = 4
accesslog = "-"
header_map = "dangerous"
pre_request = gunicorn_pre_request


def on_starting(server):
    folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
