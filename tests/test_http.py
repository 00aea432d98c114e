"""HTTP conventions every route shares: authentication before parsing, text that can be stored,
bodies without Content-Length, security headers (ekatra/http.py)."""

from __future__ import annotations

import base64
import hashlib
import http.client
import io
import re
import urllib.request

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from ekatra import create_app
from ekatra.auth import services as auth_services
from ekatra.config import MAX_REQUEST_BYTES
from ekatra.http import BAD_TEXT_MESSAGE
from ekatra.sandbox import Sandbox
from tests.conftest import test_environ
from tests.factories import PASSWORD, contract_course
from tests.groups.factories import create_group, students_of
from tests.partners.factories import PartnerClient
from tests.servers import gunicorn

LONE_SURROGATE = "a\udc00"
NUL = "a\x00b"

# Authentication before parsing --------------------------------------------------------------------


def test_an_unauthenticated_bad_body_on_an_author_route_is_401_not_field_errors(client):
    response = client.post("/api/course/", json={"name": 5, "days": "not a list"})
    assert response.status_code == 401
    assert "errors" not in response.get_json()
    bad_token = client.put("/api/delivery/1", json={"action": "EXPLODE"},
                           headers={"Authorization": "Bearer not.a.token"})
    assert bad_token.status_code == 401


def test_an_unauthenticated_bad_body_on_a_partner_route_is_401_not_field_errors(client):
    response = client.post("/api/partner/signup", json={"id": 5},
                           headers={"ST-ACCESS-KEY": "nobody", "ST-SECRET-KEY": "nothing"})
    assert response.status_code == 401
    assert "errors" not in response.get_json()


def test_an_authenticated_bad_body_still_names_its_fields(author, client):
    assert author.post("/api/course/", json={"name": 5}).status_code == 400
    partner = PartnerClient.create(client)
    response = partner.post("/signup", json={"id": 5})
    assert response.status_code == 400 and "full_name" in response.get_json()["errors"]


def test_the_token_is_checked_once_per_request(author, monkeypatch):
    checks = []
    active_session = auth_services.active_session
    monkeypatch.setattr(auth_services, "active_session",
                        lambda *args: checks.append(args) or active_session(*args))
    assert author.post("/api/course/", json=contract_course()).status_code == 200
    assert len(checks) == 1


# Text that can be stored --------------------------------------------------------------------------


def test_a_lone_surrogate_or_nul_in_a_course_is_400_naming_the_field(author):
    course = contract_course()
    course["days"][1]["questions"][0]["question"] = LONE_SURROGATE
    response = author.post("/api/course/", json={**course, "name": NUL})
    assert response.status_code == 400
    errors = response.get_json()["errors"]
    assert errors["name"] == [BAD_TEXT_MESSAGE]
    assert errors["days"]["1"]["questions"]["0"]["question"] == [BAD_TEXT_MESSAGE]
    assert author.get("/api/course/").get_json() == []


def test_bad_text_in_a_group_or_a_signup_is_400(author, client):
    assert author.post("/api/group/", json={"name": LONE_SURROGATE}).status_code == 400
    assert author.post("/api/group/", json={"name": NUL}).status_code == 400
    signup = client.post("/api/auth/signup", json={"name": NUL, "email": "n@example.org",
                                                   "password": PASSWORD})
    assert signup.status_code == 400 and "name" in signup.get_json()["errors"]
    raw = client.post("/api/auth/signup", content_type="application/json",
                      data='{"name": "x", "email": "s@example.org", "password": "p\\ud800ssword"}')
    assert raw.status_code == 400 and "password" in raw.get_json()["errors"]


def test_a_bad_key_is_400_too(client):
    response = client.post("/api/auth/login", json={"email": "a@x.org", "password": "x", "\udc00": 1})
    assert response.status_code == 400 and response.is_json


def test_bad_text_in_query_args_and_path_is_400(author, client):
    group_id = create_group(author, {"name": "G"})
    query = author.get(f"/api/group/{group_id}/export?format=csv%00")
    assert query.status_code == 400 and query.get_json()["errors"] == {"format": [BAD_TEXT_MESSAGE]}
    path = client.post("/api/auth/reset/abc%00def", json={"new-password": PASSWORD,
                                                           "confirm-password": PASSWORD})
    assert path.status_code == 400 and "token" in path.get_json()["errors"]


def test_bad_text_in_a_partner_body_secret_is_401_not_500(client):
    response = client.post("/api/partner/login", json={"id": "a@x.org", "password": "x",
                                                        "access_secret": LONE_SURROGATE},
                           headers={"ST-ACCESS-KEY": "nobody"})
    assert response.status_code == 401


# Bodies without Content-Length --------------------------------------------------------------------


def _chunked(client, path: str, body: bytes, headers: dict, content_type: str):
    """A request as a server that de-chunks the body hands it over: no Content-Length, and
    `wsgi.input_terminated` set (gunicorn, Werkzeug's server)."""
    environ = EnvironBuilder(path=path, method="POST", headers=headers, content_type=content_type,
                             input_stream=io.BytesIO(body)).get_environ()
    del environ["CONTENT_LENGTH"]
    environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    environ["wsgi.input_terminated"] = True
    return client.open(Request(environ))


def _csv(rows: int, name: str = "Learner") -> bytes:
    lines = ["name,number,channel,timezone,country_code"]
    lines += [f"{name} {n},+9198{n:08d},sms,Asia/Kolkata,+91" for n in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def test_a_chunked_csv_over_the_limit_is_refused_whole(author, client):
    group_id = create_group(author, {"name": "G"})
    body = _csv(6_000, name="Learner with a long name " + "x" * 150)  # under the row limit
    assert len(body) > MAX_REQUEST_BYTES
    response = _chunked(client, f"/api/group/{group_id}/import", body, author.headers, "text/csv")
    assert response.status_code == 413 and response.is_json
    assert students_of(author, group_id) == []


def test_a_chunked_csv_within_the_limit_is_imported_whole(author, client):
    group_id = create_group(author, {"name": "G"})
    response = _chunked(client, f"/api/group/{group_id}/import", _csv(3), author.headers, "text/csv")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["imported"] == 3
    assert len(students_of(author, group_id)) == 3


def test_a_chunked_json_body_exactly_at_the_limit_is_read(author, client):
    name = "x" * 10
    body = b'{"name": "' + name.encode() + b'"}'
    body = body[:-1] + b" " * (MAX_REQUEST_BYTES - len(body)) + b"}"
    response = _chunked(client, "/api/group/", body, author.headers, "application/json")
    assert response.status_code == 200, response.get_json()


# Security headers ---------------------------------------------------------------------------------


def _assert_common_headers(response):
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_json_responses_and_errors_carry_the_security_headers(client, author):
    for response in (author.get("/api/course/"), client.get("/api/course/"),
                     client.get("/api/nothing-here"), client.get("/openapi.json")):
        _assert_common_headers(response)
        assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert "Strict-Transport-Security" not in response.headers


def test_swagger_ui_renders_under_its_csp(client):
    page = client.get("/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    _assert_common_headers(page)
    policy = page.headers["Content-Security-Policy"]
    html = page.get_data(as_text=True)
    (script,) = re.findall(r"<script>(.*?)</script>", html, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in policy and "'unsafe-inline'" not in policy.split("style-src")[0]
    assets = re.findall(r'(?:src|href)="(/swagger-ui-assets/[^"]+)"', html)
    assert len(assets) == 3
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert response.mimetype in ("text/css", "text/javascript", "application/javascript")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/openapi.json").status_code == 200


def test_hsts_only_in_production(database_url):
    environ = test_environ(
        database_url, EKATRA_ENV="production", SECRET_KEY="s" * 40, JWT_SECRET_KEY="j" * 40,
        PUBLIC_BASE_URL="https://ekatra.example.org", TWILIO_ACCOUNT_SID="AC" + "1" * 32,
        TWILIO_AUTH_TOKEN="t" * 32, RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/0")
    production = create_app(config={"TESTING": True}, environ=environ)
    response = production.test_client().get("/openapi.json")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_the_sandbox_pages_carry_the_security_headers():
    with Sandbox() as sandbox, urllib.request.urlopen(sandbox.url + "/") as page:
        assert page.headers["X-Content-Type-Options"] == "nosniff"
        assert page.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


def test_gunicorn_refuses_a_chunked_upload_over_the_limit_whole(database_url, author, tmp_path):
    """Through the real server: gunicorn de-chunks the body and sets wsgi.input_terminated."""
    group_id = create_group(author, {"name": "G"})

    def post(port: int, body: bytes) -> tuple[int, dict]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        chunks = (body[start:start + 65536] for start in range(0, len(body), 65536))
        connection.request("POST", f"/api/group/{group_id}/import", body=chunks,
                           headers={**author.headers, "Content-Type": "text/csv"})
        response = connection.getresponse()
        status, payload = response.status, response.read()
        connection.close()
        return status, payload

    with gunicorn(tmp_path, test_environ(database_url)) as server:
        status, _ = post(server.port, _csv(6_000, name="Learner with a long name " + "x" * 150))
        assert status == 413
        assert students_of(author, group_id) == []
        status, _ = post(server.port, _csv(3))
        assert status == 200
        assert len(students_of(author, group_id)) == 3
