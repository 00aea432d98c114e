"""The worker's job table: what runs, how often, and which service it calls.

Reading this table tells an operator everything the worker does.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ekatra.health import services as health


@dataclass(frozen=True)
class Job:
    name: str
    interval_seconds: float
    run: Callable[[WorkerIdentity, datetime], None]


@dataclass(frozen=True)
class WorkerIdentity:
    worker_id: str
    hostname: str
    pid: int
    started_at: datetime

    @classmethod
    def for_this_process(cls, started_at: datetime) -> WorkerIdentity:
        hostname = socket.gethostname()
        pid = os.getpid()
        return cls(f"{hostname}:{pid}", hostname, pid, started_at)


def heartbeat(worker: WorkerIdentity, now: datetime) -> None:
    health.record_heartbeat(worker_id=worker.worker_id, hostname=worker.hostname, pid=worker.pid,
                            started_at=worker.started_at, now=now)


JOBS: tuple[Job, ...] = (
    Job("heartbeat", 10, heartbeat),
)
