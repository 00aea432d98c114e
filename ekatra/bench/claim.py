"""`ekatra bench claim`: how long one claim takes with a large backlog of due messages."""

from __future__ import annotations

import statistics
import time
from datetime import timedelta

import click

from ekatra.bench.database import bench_app, temporary_database
from ekatra.bench.report import show

LEASE_SECONDS = 60.0


def run_claim(backlog: int, batch: int, claims: int, database: str | None) -> dict:
    """Seed `backlog` due messages (one per learner, as the planner writes day 1), then time
    `claims` claims of `batch` each, one after another, as a worker's dispatch makes them."""
    from sqlalchemy import text

    from ekatra import clock
    from ekatra.bench.seed import seed_outbox
    from ekatra.extensions import db
    from ekatra.outbox import claims as outbox_claims

    with temporary_database(database) as url:
        app = bench_app(url)
        with app.app_context():
            now = clock.now()
            seed_outbox(backlog, now - timedelta(hours=1), 0)  # all of it overdue
            if db.engine.dialect.name == "postgresql":
                db.session.execute(text("ANALYZE"))  # as autovacuum would after a bulk load
                db.session.commit()
            seconds, claimed = [], 0
            for _ in range(claims):
                started = time.perf_counter()
                claimed += len(outbox_claims.claim_batch(now, batch, LEASE_SECONDS))
                seconds.append(time.perf_counter() - started)
            db.session.remove()
            db.engine.dispose()
    return {
        "database": "postgresql" if url.startswith("postgresql") else "sqlite",
        "backlog": backlog, "batch": batch, "claims": claims, "claimed": claimed,
        "first_claim_seconds": round(seconds[0], 4),
        "median_claim_seconds": round(statistics.median(seconds), 4),
        "slowest_claim_seconds": round(max(seconds), 4),
    }


@click.command("claim")
@click.option("--backlog", default=200_000, show_default=True, type=click.IntRange(min=1),
              help="Due messages waiting when the claims start.")
@click.option("--batch", default=500, show_default=True, type=click.IntRange(min=1))
@click.option("--claims", default=5, show_default=True, type=click.IntRange(min=1))
@click.option("--database", default=None, help="postgresql://… server (a temporary database is made "
              "on it); default: a temporary SQLite file.")
@click.option("--json", "json_file", default=None, help="Also write the figures to this file.")
def claim_command(backlog: int, batch: int, claims: int, database: str | None, json_file: str | None):
    """Time claims of B due messages with N due messages waiting."""
    figures = run_claim(backlog, batch, claims, database)
    show(f"bench claim: {claims} claims of {batch} with {backlog:,} due messages ({figures['database']})",
         figures, json_file)


if __name__ == "__main__":  # also runs against an older checkout: python ekatra/bench/claim.py --backlog …
    claim_command()
