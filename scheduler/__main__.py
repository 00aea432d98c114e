"""The worker process: `python -m scheduler` (Procfile `worker`), also `ekatra worker`.

An APScheduler BlockingScheduler runs the jobs of scheduler/jobs.py, each inside the app
context. On SIGTERM or SIGINT it stops claiming, lets the sends in flight finish, releases
what it claimed but did not send, and exits 0 — within 20 seconds.
"""

from __future__ import annotations

import logging
import signal
import sys

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy.exc import OperationalError

from ekatra import clock, create_app, logs
from ekatra.health import services as health
from ekatra.metrics import JOB_DURATION, JOB_LAST_SUCCESS, serve_worker_metrics
from ekatra.worker import OutboxCollector, Worker, freeze_startup_objects, make_worker
from scheduler.jobs import jobs_for

log = logging.getLogger("ekatra.worker")


def _run_job(app, job, worker: Worker) -> None:
    token = logs.job.set(job.name)  # every line this run logs names its job
    with app.app_context():
        from ekatra.extensions import db

        try:
            with JOB_DURATION.labels(job.name).time():
                job.run(worker, clock.now())
            JOB_LAST_SUCCESS.labels(job.name).set_to_current_time()
        except OperationalError as error:
            # The database restarting or out of reach: one line per tick, not a traceback; what a
            # tick claimed and could not write back is reconciled once its lease passes.
            log.warning("job %s failed: database unavailable (%s); the next tick tries again",
                        job.name, str(error.orig or error).splitlines()[0])
            db.session.rollback()
        except Exception:
            # Any other failed tick is logged in full; the next tick tries again.
            log.exception("job %s failed", job.name)
            db.session.rollback()
        finally:
            db.session.remove()
            logs.job.reset(token)


def build_scheduler(app, worker: Worker, scheduler_class: type[BaseScheduler] = BlockingScheduler):
    # APScheduler logs every run at INFO, and warns each second that a long dispatch run is
    # still going (max_instances=1 is deliberate); the jobs log what they did themselves.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    scheduler = scheduler_class(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1,
                                                               "misfire_grace_time": 30})
    for job in jobs_for(app.config):
        scheduler.add_job(_run_job, "interval", seconds=job.interval_seconds, args=(app, job, worker),
                          id=job.name, name=job.name, next_run_time=clock.now())
    return scheduler


def start_in_background(app) -> tuple[BackgroundScheduler, Worker]:
    """The same jobs on a background thread (for `ekatra demo` and `ekatra serve`)."""
    worker = make_worker(app.config)
    scheduler = build_scheduler(app, worker, BackgroundScheduler)
    scheduler.start()
    return scheduler, worker


def stop(scheduler: BaseScheduler, worker: Worker) -> None:
    """Stop claiming; wait for running jobs (they finish or release what they hold); then end
    the worker's sender threads."""
    worker.stopping.set()
    if scheduler.running:
        scheduler.shutdown(wait=True)
    worker.close()


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

    worker = make_worker(app.config)
    scheduler = build_scheduler(app, worker)
    if app.config["WORKER_METRICS_PORT"]:
        serve_worker_metrics(app.config, app.config["WORKER_METRICS_PORT"],
                             app.config["WORKER_METRICS_ADDRESS"], OutboxCollector(app))
        log.info("worker metrics on http://%s:%d/metrics", app.config["WORKER_METRICS_ADDRESS"],
                 app.config["WORKER_METRICS_PORT"])
    freeze_startup_objects()

    def on_signal(signum, _frame):
        name = signal.Signals(signum).name
        if worker.stopping.is_set():
            log.info("worker %s received %s again; already stopping", worker.worker_id, name)
            return
        log.info("worker %s received %s; stopping", worker.worker_id, name)
        # Runs on the main thread; jobs run in the pool, so waiting for them here is safe.
        stop(scheduler, worker)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log.info("worker %s started with jobs: %s", worker.worker_id,
             ", ".join(f"{job.name} every {job.interval_seconds:g}s" for job in jobs_for(app.config)))
    scheduler.start()
    worker.close()
    log.info("worker %s stopped", worker.worker_id)
    return 0


if __name__ == "__main__":
    sys.exit(main())
