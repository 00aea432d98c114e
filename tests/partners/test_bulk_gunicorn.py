"""The bulk import and the export through a real gunicorn with the shipped settings: a CSV
upload over 1 MB (the bulk route's own limit), chunked too, and the streamed CSV export."""

from __future__ import annotations

import csv
import io

import requests

from ekatra import clock, create_app
from ekatra.extensions import db
from ekatra.partners import services
from tests.conftest import test_environ
from tests.servers import gunicorn

ROWS = 9_999  # and one bad row: the most a file may hold


def _partner_keys(url: str) -> dict[str, str]:
    from flask_migrate import upgrade

    app = create_app(config={"TESTING": True}, environ=test_environ(url))
    with app.app_context():
        upgrade()
        keys = services.create_partner(name="Acme LMS", now=clock.now())
        db.engine.dispose()
    return {"ST-ACCESS-KEY": keys.access_key, "ST-SECRET-KEY": keys.secret_key}


def _roster() -> bytes:
    lines = ["external_id,name,email,phone,channel,timezone,notes"]
    lines += [f"EMP-{i:05d},Learner {i} with a long enough name,learner.{i:05d}@example.org,"
              f"+9198{i:08d},whatsapp,Asia/Kolkata,imported from the HR system" for i in range(ROWS)]
    lines[1] = lines[1].replace("Learner 0 with", "=1+2 with")  # a name that looks like a formula
    lines.append("EMP-BAD,=cmd|' /C calc'!A0,bad@example.org,+1,sms,UTC,")
    return ("\r\n".join(lines) + "\r\n").encode()


def test_a_large_csv_upload_and_the_csv_export_through_gunicorn(tmp_path):
    url = f"sqlite:///{tmp_path / 'ekatra.db'}"
    headers = _partner_keys(url)
    roster = _roster()
    assert len(roster) > 1024 * 1024  # over the 1 MB every other route allows
    with gunicorn(tmp_path, test_environ(url)) as server, requests.Session() as http:
        http.trust_env = False
        http.headers.update(headers)
        base = f"{server.base}/api/partner"
        upload = http.post(f"{base}/students/bulk", files={"file": ("roster.csv", roster, "text/csv")},
                           timeout=120)
        assert upload.status_code == 200, upload.text[:500]
        body = upload.json()
        assert (body["created"], body["updated"], body["failed"]) == (ROWS, 0, 1)
        assert body["results"][-1]["row"] == ROWS + 2 and set(body["results"][-1]["errors"]) == {"phone"}

        chunked = http.post(f"{base}/students/bulk", data=iter([roster[:500_000], roster[500_000:]]),
                            headers={"Content-Type": "text/csv"}, timeout=120)
        assert chunked.status_code == 200, chunked.text[:500]
        assert chunked.json()["updated"] == ROWS

        with http.get(f"{base}/export/students?format=csv", stream=True, timeout=120) as export:
            assert export.status_code == 200 and export.headers["Content-Type"].startswith("text/csv")
            assert "Content-Length" not in export.headers  # sent as it is produced
            content = b"".join(export.iter_content(64 * 1024)).decode("utf-8-sig")
        rows = list(csv.DictReader(io.StringIO(content)))
        assert len(rows) == ROWS and rows[0]["external_id"] == "EMP-00000"
        assert rows[-1]["email"] == f"learner.{ROWS - 1:05d}@example.org"
        assert rows[0]["name"] == "'=1+2 with a long enough name"
        assert not any(row["name"].startswith(("=", "+", "-", "@")) for row in rows)
