"""The contract's `jwt_token` / `access_token` headers through the web servers we ship, and
never spoofable through their dash twins (`jwt-token`) or the reserved name."""

from __future__ import annotations

import logging
import threading
from types import SimpleNamespace

import pytest
import requests

from ekatra.demo import make_web_server
from ekatra.partners.headers import gunicorn_pre_request, rewrite
from tests.partners.factories import PartnerClient, running_delivery


def _request(headers, trusted=()):
    return SimpleNamespace(headers=list(headers), method="POST", path="/api/partner/apply_coupon",
                           _peer_trusted_for_forwarded=lambda: ({}, list(trusted)))


def _hook(headers, trusted=()):
    req = _request(headers, trusted)
    gunicorn_pre_request(SimpleNamespace(log=logging.getLogger("test")), req)
    return req.headers


def test_the_hook_renames_the_contracts_underscore_headers_to_the_reserved_name():
    assert _hook([("HOST", "x"), ("JWT_TOKEN", "j"), ("ACCESS_TOKEN", "a"), ("JWT-TOKEN", "d")]) == [
        ("HOST", "x"), ("X-EKATRA-UNDERSCORE-JWT-TOKEN", "j"), ("X-EKATRA-UNDERSCORE-ACCESS-TOKEN", "a"),
        ("JWT-TOKEN", "d")]


def test_the_hook_drops_a_client_sent_reserved_name_in_any_spelling():
    sent = [("X-EKATRA-UNDERSCORE-JWT-TOKEN", "forged"), ("X_EKATRA_UNDERSCORE_JWT_TOKEN", "forged"),
            ("X-EKATRA_UNDERSCORE-ACCESS-TOKEN", "forged"), ("JWT_TOKEN", "real")]
    assert _hook(sent) == [("X-EKATRA-UNDERSCORE-JWT-TOKEN", "real")]


def test_the_hook_drops_every_other_underscore_header_unless_gunicorn_trusts_its_sender():
    sent = [("X_FORWARDED_FOR", "10.0.0.1"), ("SCRIPT_NAME", "/evil"), ("USER-AGENT", "t")]
    assert _hook(sent) == [("USER-AGENT", "t")]
    trusting = _hook(sent, trusted=["SCRIPT_NAME", "PATH_INFO"])
    assert trusting == [("SCRIPT_NAME", "/evil"), ("USER-AGENT", "t")]


def test_the_rule_reads_header_names_in_any_case():
    assert rewrite([("jwt_token", "j"), ("Access_Token", "a")]) == [
        ("X-EKATRA-UNDERSCORE-JWT-TOKEN", "j"), ("X-EKATRA-UNDERSCORE-ACCESS-TOKEN", "a")]


def test_the_app_refuses_a_dash_twin_that_disagrees_and_accepts_one_that_agrees(client, author):
    partner = PartnerClient.create(client)
    tokens = partner.signup(phone="+919876543210")
    reserved = {"X-Ekatra-Underscore-Jwt-Token": tokens["jwt_token"],
                "X-Ekatra-Underscore-Access-Token": tokens["access_token"]}
    twins = {"jwt-token": tokens["jwt_token"], "access-token": "another"}
    refused = partner.post("/validate_cookie", headers={**reserved, **twins})
    assert refused.status_code == 400 and "disagree" in refused.get_json()["message"]
    agreeing = {**twins, "access-token": tokens["access_token"]}
    assert partner.post("/validate_cookie", headers={**reserved, **agreeing}).status_code == 200


@pytest.fixture
def dev_server(app):
    server = make_web_server(app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_the_dev_server_of_serve_and_demo_passes_the_underscore_headers(client, author, dev_server):
    partner = PartnerClient.create(client)
    delivery_id = running_delivery(author, partner)
    (code,) = partner.coupons(delivery_id)
    tokens = partner.signup(phone="+919876543210")
    http = requests.Session()
    http.trust_env = False
    http.headers.update(partner.headers)
    underscore = {"jwt_token": tokens["jwt_token"], "access_token": tokens["access_token"]}
    spoofed = http.post(f"{dev_server}/api/partner/apply_coupon", json={"coupon_code": code},
                        headers={**underscore, "access-token": "forged"})
    assert spoofed.status_code == 400, spoofed.text
    forged = http.post(f"{dev_server}/api/partner/validate_cookie",
                       headers={"X-Ekatra-Underscore-Jwt-Token": tokens["jwt_token"],
                                "X-Ekatra-Underscore-Access-Token": tokens["access_token"]})
    assert forged.status_code == 401  # the reserved name only comes from the rename
    applied = http.post(f"{dev_server}/api/partner/apply_coupon", json={"coupon_code": code},
                        headers=underscore)
    assert applied.status_code == 200, applied.text
    renewed = http.post(f"{dev_server}/api/partner/validate_cookie", headers=underscore)
    assert renewed.status_code == 200, renewed.text
