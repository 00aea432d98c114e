"""GET /metrics: HTTP requests by route template, method and status, with their latency; the
bearer token that guards them; the sum over gunicorn's worker processes."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import test_environ
from tests.servers import gunicorn

COURSE_ROUTE = "/api/course/<int:id>"


def scraped(text: str) -> dict[tuple, float]:
    """Every sample of a scrape, keyed by name and sorted labels."""
    return {(sample.name, *sorted(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def requests_counted(samples: dict, route: str, method: str, status: str) -> float:
    key = ("ekatra_http_requests_total", ("method", method), ("route", route), ("status", status))
    return samples.get(key, 0.0)


def test_requests_are_counted_by_route_template_not_by_path(client):
    before = scraped(client.get("/metrics").get_data(as_text=True))
    for course_id in (7, 8, 9):
        assert client.get(f"/api/course/{course_id}").status_code == 401
    client.get("/no/such/page/12345")
    after = client.get("/metrics")
    assert after.status_code == 200 and after.content_type.startswith("text/plain")
    samples = scraped(after.get_data(as_text=True))
    assert requests_counted(samples, COURSE_ROUTE, "GET", "401") - \
        requests_counted(before, COURSE_ROUTE, "GET", "401") == 3
    assert requests_counted(samples, "unmatched", "GET", "404") - \
        requests_counted(before, "unmatched", "GET", "404") == 1
    assert not any("/api/course/7" in str(key) or "12345" in str(key) for key in samples)
    latency = ("ekatra_http_request_duration_seconds_count", ("method", "GET"), ("route", COURSE_ROUTE))
    assert samples[latency] - before.get(latency, 0.0) == 3


def test_metrics_need_the_bearer_token_when_one_is_set(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "scrape-token-for-tests")
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401 and "METRICS_TOKEN" in wrong.get_json()["message"]
    right = client.get("/metrics", headers={"Authorization": "Bearer scrape-token-for-tests"})
    assert right.status_code == 200 and b"ekatra_http_requests_total" in right.data


def test_production_without_a_token_serves_no_metrics(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "EKATRA_ENV", "production")
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "")
    response = client.get("/metrics")
    assert response.status_code == 403 and "METRICS_TOKEN" in response.get_json()["message"]


@pytest.fixture
def gunicorn_with_two_workers(tmp_path):
    from flask_migrate import upgrade

    from ekatra import create_app
    from ekatra.extensions import db

    url = f"sqlite:///{tmp_path / 'ekatra.db'}"
    app = create_app(config={"TESTING": True}, environ=test_environ(url))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999.db").write_bytes(b"left by a previous run")
    environ = {**test_environ(url), "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    with gunicorn(tmp_path, environ, workers=2) as server:
        yield server.base, metrics_dir


def _get(url: str) -> requests.Response:
    # A new connection each time: keep-alive would tie every request to one worker process.
    return requests.get(url, timeout=10, headers={"Connection": "close"},
                        proxies={"http": None, "https": None})


def _pids_with_samples(metrics_dir: Path) -> set[str]:
    return {path.stem.rsplit("_", 1)[1] for path in metrics_dir.glob("counter_*.db")}


def test_metrics_add_up_the_requests_of_every_gunicorn_worker(gunicorn_with_two_workers):
    base, metrics_dir = gunicorn_with_two_workers
    assert not (metrics_dir / "counter_999999.db").exists()  # a fresh start counts from zero
    sent = 0
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _batch in range(20):  # until both worker processes have served some (bounded)
            statuses = list(pool.map(lambda n: _get(f"{base}/api/course/{n}").status_code, range(16)))
            assert set(statuses) == {401}
            sent += len(statuses)
            if len(_pids_with_samples(metrics_dir)) >= 2:
                break
    assert len(_pids_with_samples(metrics_dir)) >= 2, "one worker process served every request"

    samples = scraped(_get(f"{base}/metrics").text)
    assert requests_counted(samples, COURSE_ROUTE, "GET", "401") == sent
    latency = ("ekatra_http_request_duration_seconds_count", ("method", "GET"), ("route", COURSE_ROUTE))
    assert samples[latency] == sent
