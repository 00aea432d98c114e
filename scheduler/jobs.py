"""The worker's job table: what runs, how often, and which service it calls.

Reading this table tells an operator everything the worker does.

| job       | every | service |
|-----------|-------|---------|
| plan      | 5 s   | deliveries.planner.plan_due_days: due days become outbox rows; WhatsApp |
|           |       | days held for a closed window get their opener template |
| dispatch  | 1 s   | outbox.dispatch.dispatch_until_idle: send what is due, under the rate limit; |
|           |       | addresses answered with 21610 are opted out (deliveries.optouts) |
| recover   | 30 s  | outbox.recovery.recover_until_idle: reconcile sends of a dead worker |
| heartbeat | 10 s  | health.record_heartbeat: shown by GET /healthz |
| webhooks  | 1 s   | webhooks.delivery.send_until_idle: signed events to partners' and authors' |
|           |       | endpoints, retried on the published schedule; expired Idempotency-Keys dropped |

Claims are leased for OUTBOX_LEASE_SECONDS (60 s by default); `jobs_for(config)` gives the
table with the recover interval of RECOVER_INTERVAL_SECONDS.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from ekatra import clock
from ekatra.deliveries import optouts, planner
from ekatra.health import services as health
from ekatra.outbox import dispatch, recovery
from ekatra.outbox.sending import SendPool
from ekatra.outbox.whatsapp import WhatsAppSettings

log = logging.getLogger("ekatra.worker")


@dataclass
class Worker:
    """One worker process: who it is, how it sends, and whether it was asked to stop."""

    worker_id: str
    hostname: str
    pid: int
    started_at: datetime
    sender: object = None
    send_concurrency: int = 32
    send_rate_per_second: float = 50.0
    lease_seconds: float = dispatch.LEASE_SECONDS
    whatsapp: WhatsAppSettings = field(default_factory=WhatsAppSettings)  # the window, templates
    stopping: threading.Event = field(default_factory=threading.Event)
    _send_pool: SendPool | None = field(default=None, repr=False)

    @classmethod
    def for_this_process(cls, started_at: datetime, **settings) -> Worker:
        hostname = socket.gethostname()
        pid = os.getpid()
        return cls(f"{hostname}:{pid}", hostname, pid, started_at, **settings)

    def should_stop(self) -> bool:
        return self.stopping.is_set()

    def send_pool(self) -> SendPool:
        """The sender threads (`send_concurrency` of them), started by the first dispatch run and
        kept for the next ones until `close()`. Only the dispatch job uses them (one run at a time)."""
        if self._send_pool is None:
            self._send_pool = SendPool(self.send_concurrency)
        return self._send_pool

    def close(self) -> None:
        """End the sender threads, once no dispatch run is going any more (after `stopping`)."""
        if self._send_pool is not None:
            self._send_pool.close()


@dataclass(frozen=True)
class Job:
    name: str
    interval_seconds: float
    run: Callable[[Worker, datetime], None]


def plan(worker: Worker, now: datetime) -> None:
    stats = planner.plan_due_days(now, worker.whatsapp)
    if stats.planned_learner_days or stats.enrolled or stats.removed or stats.completed or stats.openers:
        log.info("planned %d learner-days (%d messages); enrolled %d, removed %d, completed %d; "
                 "%d WhatsApp openers", stats.planned_learner_days, stats.messages, stats.enrolled,
                 stats.removed, stats.completed, stats.openers)


def send(worker: Worker, now: datetime) -> None:
    if worker.should_stop():
        return
    stats = dispatch.dispatch_until_idle(worker.sender, clock.now, should_stop=worker.should_stop,
                                         concurrency=worker.send_concurrency,
                                         rate_per_second=worker.send_rate_per_second,
                                         lease_seconds=worker.lease_seconds, pool=worker.send_pool())
    if stats.opted_out:  # Twilio's 21610: the learner unsubscribed (e.g. STOP sent to Twilio itself)
        added = optouts.record_provider_opt_outs(stats.opted_out, clock.now())
        log.info("provider reported %d unsubscribed address(es); %d new opt-out(s)",
                 len(stats.opted_out), added)


def recover(worker: Worker, now: datetime) -> None:
    recovery.recover_until_idle(worker.sender, now, should_stop=worker.should_stop)  # logs what it found


def heartbeat(worker: Worker, now: datetime) -> None:
    health.record_heartbeat(worker_id=worker.worker_id, hostname=worker.hostname, pid=worker.pid,
                            started_at=worker.started_at, now=now)


def send_webhooks(worker: Worker, now: datetime) -> None:
    from flask import current_app

    from ekatra.idempotency.services import delete_expired
    from ekatra.webhooks import delivery

    stats = delivery.send_until_idle(current_app.extensions["ekatra.webhook_sender"], clock.now,
                                     policy=delivery.Policy.from_config(current_app.config),
                                     should_stop=worker.should_stop)
    if stats.sent or stats.failed:
        log.info("webhooks: %d delivered, %d failed (retried on the schedule)", stats.sent, stats.failed)
    delete_expired(now)


JOBS: tuple[Job, ...] = (
    Job("plan", 5, plan),
    Job("dispatch", 1, send),
    Job("recover", 30, recover),
    Job("heartbeat", 10, heartbeat),
    Job("webhooks", 1, send_webhooks),
)


def jobs_for(config) -> tuple[Job, ...]:
    """The job table with the intervals this configuration asks for."""
    intervals = {"recover": float(config.get("RECOVER_INTERVAL_SECONDS", 30))}
    return tuple(dataclasses.replace(job, interval_seconds=intervals.get(job.name, job.interval_seconds))
                 for job in JOBS)
