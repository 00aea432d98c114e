"""The worker's job table: what runs, how often, and which service it calls.

Reading this table tells an operator everything the worker does.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ekatra.deliveries import planner
from ekatra.health import services as health

log = logging.getLogger("ekatra.worker")


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


def plan(worker: WorkerIdentity, now: datetime) -> None:
    stats = planner.plan_due_days(now)
    if stats.planned_learner_days or stats.enrolled or stats.removed or stats.completed:
        log.info("planned %d learner-days (%d messages); enrolled %d, removed %d, completed %d",
                 stats.planned_learner_days, stats.messages, stats.enrolled, stats.removed,
                 stats.completed)


JOBS: tuple[Job, ...] = (
    Job("plan", 5, plan),
    Job("heartbeat", 10, heartbeat),
)
