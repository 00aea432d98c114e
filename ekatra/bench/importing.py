"""`ekatra bench import`: how long `POST /api/partner/students/bulk` takes for N learners, as a
JSON list (all new, then all again as updates), as a CSV upload and as an XLSX upload.

Each request goes through the whole app in process (Flask's test client: authentication,
Idempotency-Key, parsing, the checks, the writes, the per-row report), with no network.
"""

from __future__ import annotations

import io
import json
import time

import click

from ekatra.bench.database import bench_app, temporary_database
from ekatra.bench.report import peak_rss_mb, show

COLUMNS = ("external_id", "name", "email", "phone", "channel", "timezone")


def _rows(count: int, prefix: str, name: str = "Learner") -> list[dict]:
    return [{"external_id": f"{prefix}-{i:06d}", "name": f"{name} {i}", "email": f"{prefix}.{i}@example.org",
             "phone": f"+9198{i:08d}", "channel": "whatsapp" if i % 3 == 0 else "sms",
             "timezone": ("Asia/Kolkata", "Africa/Accra", "America/New_York")[i % 3]} for i in range(count)]


def _csv(rows: list[dict]) -> bytes:
    lines = [",".join(COLUMNS)] + [",".join(row[column] for column in COLUMNS) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode()


def _xlsx(rows: list[dict]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Learners")
    sheet.append(list(COLUMNS))
    for row in rows:
        sheet.append([row[column] for column in COLUMNS])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _timed(post, **kwargs) -> tuple[float, dict]:
    started = time.perf_counter()
    response = post("/api/partner/students/bulk", **kwargs)
    seconds = time.perf_counter() - started
    if response.status_code != 200:
        raise click.ClickException(
            f"bulk import answered {response.status_code}: {response.get_data()[:300]!r}")
    return seconds, response.get_json()


def run_import(rows: int, database: str | None) -> dict:
    from ekatra import clock
    from ekatra.extensions import db
    from ekatra.partners.services import create_partner

    figures: dict = {}
    with temporary_database(database) as url:
        app = bench_app(url)
        with app.app_context():
            keys = [create_partner(name=f"Bench partner {n}", now=clock.now()) for n in range(3)]
            headers = [{"ST-ACCESS-KEY": k.access_key, "ST-SECRET-KEY": k.secret_key} for k in keys]
            db.session.remove()
        client = app.test_client()
        listed = _rows(rows, "json")
        body = json.dumps(listed).encode()
        seconds, report = _timed(client.post, data=body, headers={**headers[0], "Idempotency-Key": "bench",
                                                                    "Content-Type": "application/json"})
        figures.update(json_create_seconds=round(seconds, 3), json_created=report["created"],
                       json_body_mb=round(len(body) / 2**20, 2))
        renamed = json.dumps(_rows(rows, "json", name="Renamed")).encode()
        seconds, report = _timed(client.post, data=renamed, headers={**headers[0],
                                                                     "Content-Type": "application/json"})
        figures.update(json_update_seconds=round(seconds, 3), json_updated=report["updated"])
        content = _csv(_rows(rows, "csv"))
        seconds, report = _timed(client.post, data={"file": (io.BytesIO(content), "learners.csv")},
                                 headers=headers[1], content_type="multipart/form-data")
        figures.update(csv_create_seconds=round(seconds, 3), csv_created=report["created"],
                       csv_file_mb=round(len(content) / 2**20, 2))
        content = _xlsx(_rows(rows, "xlsx"))
        seconds, report = _timed(client.post, data={"file": (io.BytesIO(content), "learners.xlsx")},
                                 headers=headers[2], content_type="multipart/form-data")
        figures.update(xlsx_create_seconds=round(seconds, 3), xlsx_created=report["created"],
                       xlsx_file_mb=round(len(content) / 2**20, 2))
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    return {"database": "postgresql" if url.startswith("postgresql") else "sqlite", "rows": rows, **figures,
            "peak_rss_mb": round(peak_rss_mb(), 1)}


@click.command("import")
@click.option("--rows", default=10_000, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--database", default=None, help="postgresql://… server (a temporary database is made "
              "on it); default: a temporary SQLite file.")
@click.option("--json", "json_file", default=None, help="Also write the figures to this file.")
def import_command(rows: int, database: str | None, json_file: str | None):
    """Time the partner bulk import of N learners (JSON create and update, CSV, XLSX)."""
    figures = run_import(rows, database)
    show(f"bench import: {rows:,} learners per request ({figures['database']})", figures, json_file)
