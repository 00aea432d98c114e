"""`ekatra bench plan`: how fast the planner turns one due day into outbox rows, and then plans a
reminder for every learner who left the day's question unanswered."""

from __future__ import annotations

import multiprocessing
import time
from datetime import timedelta

import click

from ekatra.bench.database import bench_app, temporary_database
from ekatra.bench.report import peak_rss_mb, show


def _seed(database_url: str, learners: int, timezones: int, now) -> None:
    from sqlalchemy import text

    from ekatra.bench.seed import seed_learners
    from ekatra.extensions import db

    app = bench_app(database_url)
    with app.app_context():
        seed_learners(learners, timezones, now)
        if db.engine.dialect.name == "postgresql":
            # Statistics, as autovacuum gathers them after a bulk load, for the planner's joins.
            db.session.execute(text("ANALYZE"))
            db.session.commit()


def run_plan(learners: int, timezones: int, database: str | None) -> dict:
    from ekatra import clock
    from ekatra.deliveries.planner import plan_due_days
    from ekatra.extensions import db

    now = clock.now()
    with temporary_database(database) as url:
        # Seeded in a child process, so that this process's peak memory is the planner's alone.
        child = multiprocessing.get_context("spawn").Process(
            target=_seed, args=(url, learners, timezones, now))
        child.start()
        child.join()
        if child.exitcode != 0:
            raise click.ClickException("seeding the benchmark database failed")
        app = bench_app(url)
        with app.app_context():
            db.session.execute(db.select(1))  # connect before timing
            db.session.rollback()
            rss_before = peak_rss_mb()
            started = time.perf_counter()
            stats = plan_due_days(now)
            seconds = time.perf_counter() - started
            rss_after = peak_rss_mb()
            reminders = _time_reminders(now)
            db.session.remove()
            db.engine.dispose()
    return {
        "database": "postgresql" if url.startswith("postgresql") else "sqlite",
        "learners": learners, "timezones": timezones,
        "planned_learner_days": stats.planned_learner_days, "messages_written": stats.messages,
        "seconds": round(seconds, 3), "learners_per_second": round(learners / seconds, 1),
        "peak_rss_mb": round(rss_after, 1),
        "peak_rss_growth_mb": round(rss_after - rss_before, 1),
        "memory_method": "resource.getrusage(RUSAGE_SELF).ru_maxrss, before and after plan_due_days",
        "problems": stats.problems,
        **reminders,
    }


REMINDER_AFTER_MINUTES = 120


def _time_reminders(now) -> dict:
    """Day 1 went out two hours ago and nobody answered: time the tick that plans a reminder for
    every learner (no quiet hours, so all of them), then a tick with nothing new to plan."""
    from sqlalchemy import update

    from ekatra.deliveries.models import Delivery
    from ekatra.deliveries.planner import plan_due_days
    from ekatra.extensions import db
    from ekatra.outbox import services as outbox

    sent_at = now - timedelta(minutes=REMINDER_AFTER_MINUTES, seconds=1)
    outbox.mark_unsent_sent(sent_at)
    db.session.execute(update(Delivery).values(reminder_after_minutes=[REMINDER_AFTER_MINUTES],
                                               reminder_quiet_hours=None))
    db.session.commit()
    started = time.perf_counter()
    stats = plan_due_days(now)
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    plan_due_days(now + timedelta(seconds=5))
    again = time.perf_counter() - started
    return {"reminders_written": stats.reminders, "reminders_seconds": round(seconds, 3),
            "reminders_next_tick_seconds": round(again, 3)}


@click.command("plan")
@click.option("--learners", default=100_000, show_default=True, type=click.IntRange(min=1))
@click.option("--timezones", default=24, show_default=True, type=click.IntRange(1, 32))
@click.option("--database", default=None, help="postgresql://… server (a temporary database is made "
              "on it); default: a temporary SQLite file.")
@click.option("--json", "json_file", default=None, help="Also write the figures to this file.")
def plan_command(learners: int, timezones: int, database: str | None, json_file: str | None):
    """Time plan_due_days for one day due to N learners in Z timezones."""
    figures = run_plan(learners, timezones, database)
    show(f"bench plan: day 1 for {learners:,} learners in {timezones} timezones ({figures['database']})",
         figures, json_file)
