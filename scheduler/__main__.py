"""The worker process: `python -m scheduler` (Procfile `worker`), also `ekatra worker`.

An APScheduler BlockingScheduler runs the jobs of scheduler/jobs.py, each inside the app
context. On SIGTERM or SIGINT it stops scheduling, lets running jobs finish and exits 0.
"""

from __future__ import annotations

import logging
import signal
import sys

from apscheduler.schedulers.blocking import BlockingScheduler

from ekatra import clock, create_app
from ekatra.health import services as health
from scheduler.jobs import JOBS, WorkerIdentity

log = logging.getLogger("ekatra.worker")


def _run_job(app, job, worker: WorkerIdentity) -> None:
    with app.app_context():
        from ekatra.extensions import db

        try:
            job.run(worker, clock.now())
        except Exception:
            # A failed tick (the database restarting, say) is logged; the next tick tries again.
            log.exception("job %s failed", job.name)
            db.session.rollback()
        finally:
            db.session.remove()


def build_scheduler(app, worker: WorkerIdentity) -> BlockingScheduler:
    scheduler = BlockingScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
    for job in JOBS:
        scheduler.add_job(_run_job, "interval", seconds=job.interval_seconds, args=(app, job, worker),
                          id=job.name, name=job.name, next_run_time=clock.now())
    return scheduler


def main(app=None) -> int:
    app = app or create_app()
    with app.app_context():
        state = health.check(clock.now())
    if not state.database_ok:
        log.error("worker cannot reach the database (%s)", state.database_error)
        return 1
    if state.migrations_current != state.migrations_head:
        log.error("database schema is at %s, code expects %s: run `flask --app app db upgrade`",
                  state.migrations_current, state.migrations_head)
        return 1

    worker = WorkerIdentity.for_this_process(clock.now())
    scheduler = build_scheduler(app, worker)

    stopping = []

    def stop(signum, _frame):
        name = signal.Signals(signum).name
        if stopping:
            log.info("worker %s received %s again; already stopping", worker.worker_id, name)
            return
        stopping.append(signum)
        log.info("worker %s received %s; stopping", worker.worker_id, name)
        # Runs on the main thread; jobs run in the pool, so waiting for them here is safe.
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("worker %s started with jobs: %s", worker.worker_id,
             ", ".join(f"{job.name} every {job.interval_seconds:g}s" for job in JOBS))
    scheduler.start()
    log.info("worker %s stopped", worker.worker_id)
    return 0


if __name__ == "__main__":
    sys.exit(main())
