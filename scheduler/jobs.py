"""The worker's job table: what runs, how often, and which service it calls.

Reading this table tells an operator everything the worker does.

| job       | every | service |
|-----------|-------|---------|
| plan      | 5 s   | deliveries.planner.plan_due_days: due days become outbox rows; WhatsApp |
|           |       | days held for a closed window get their opener template |
| dispatch  | 1 s   | ekatra.worker.Worker.dispatch (outbox.dispatch.dispatch_until_idle): send what is |
|           |       | due, under the rate limit; addresses answered with 21610 are opted out |
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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ekatra import clock
from ekatra.config import DEFAULT_RECOVER_INTERVAL_SECONDS
from ekatra.deliveries import planner
from ekatra.health import services as health
from ekatra.metrics import LEASE_RECOVERIES, WEBHOOKS
from ekatra.outbox import recovery
from ekatra.worker import DISPATCH_INTERVAL_SECONDS, Worker

log = logging.getLogger("ekatra.worker")


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
    worker.dispatch()  # reads the clock itself: a run lasts up to its budget


def recover(worker: Worker, now: datetime) -> None:
    stats = recovery.recover_until_idle(worker.sender, now, should_stop=worker.should_stop,  # logs it
                                        test_sender=worker.test_sender)
    for result in ("found_sent", "requeued", "unresolved"):
        if count := getattr(stats, result):
            LEASE_RECOVERIES.labels(result).inc(count)


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
    WEBHOOKS.labels("sent").inc(stats.sent)
    WEBHOOKS.labels("failed").inc(stats.failed)
    if stats.sent or stats.failed:
        log.info("webhooks: %d delivered, %d failed (retried on the schedule)", stats.sent, stats.failed)
    delete_expired(now)


JOBS: tuple[Job, ...] = (
    Job("plan", 5, plan),
    Job("dispatch", DISPATCH_INTERVAL_SECONDS, send),
    Job("recover", DEFAULT_RECOVER_INTERVAL_SECONDS, recover),
    Job("heartbeat", 10, heartbeat),
    Job("webhooks", 1, send_webhooks),
)


def jobs_for(config) -> tuple[Job, ...]:
    """The job table with the intervals this configuration asks for."""
    intervals = {"recover": float(config.get("RECOVER_INTERVAL_SECONDS", DEFAULT_RECOVER_INTERVAL_SECONDS))}
    return tuple(dataclasses.replace(job, interval_seconds=intervals.get(job.name, job.interval_seconds))
                 for job in JOBS)
