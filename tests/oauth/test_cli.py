"""`ekatra oauth client create`: a partner's client, printed once, usable at once."""

from __future__ import annotations

import json

import pytest

from ekatra import clock
from ekatra.oauth import bearer
from ekatra.partners import services as partners
from tests.oauth.factories import client_credentials_token


def test_a_partner_client_created_on_the_command_line_gets_tokens(app, client):
    keys = partners.create_partner(name="Acme LMS", now=clock.now())
    result = app.test_cli_runner().invoke(args=[
        "oauth", "client", "create", "Acme Moodle", "--partner", keys.access_key,
        "--redirect-uri", "https://moodle.example.org/cb", "--grant", "client_credentials",
        "--grant", "authorization_code", "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert set(printed) == {"client_id", "client_secret"}
    token = client_credentials_token(client, printed["client_id"], printed["client_secret"])
    assert bearer.partner_of_bearer(f"Bearer {token}", now=clock.now()).id == keys.partner.id


def test_a_partner_may_be_named_by_id_and_bad_input_is_a_clear_error(app):
    partner = partners.create_partner(name="Acme LMS", now=clock.now()).partner
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["oauth", "client", "create", "Jobs", "--partner", str(partner.id),
                             "--grant", "client_credentials", "--json"])
    assert ok.exit_code == 0, ok.output
    unknown = runner.invoke(args=["oauth", "client", "create", "X", "--partner", "pk_nobody",
                                  "--grant", "client_credentials"])
    assert unknown.exit_code != 0 and "No partner" in unknown.output
    insecure = runner.invoke(args=["oauth", "client", "create", "X", "--redirect-uri", "http://evil.example/cb"])
    assert insecure.exit_code != 0 and "https" in insecure.output
    no_partner = runner.invoke(args=["oauth", "client", "create", "X", "--grant", "client_credentials"])
    assert no_partner.exit_code != 0 and "needs a partner" in no_partner.output


def test_a_public_client_has_no_secret(app):
    result = app.test_cli_runner().invoke(args=[
        "oauth", "client", "create", "Phone app", "--redirect-uri", "com.example.app:/cb", "--public",
        "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["client_secret"] is None


def test_operators_list_clients_rotate_a_secret_and_delete_a_client(app, client):
    keys = partners.create_partner(name="Acme LMS", now=clock.now())
    runner = app.test_cli_runner()
    created = json.loads(runner.invoke(args=[
        "oauth", "client", "create", "Acme Jobs", "--partner", keys.access_key,
        "--grant", "client_credentials", "--json"]).output)
    client_id, old_secret = created["client_id"], created["client_secret"]
    token = client_credentials_token(client, client_id, old_secret)

    listed = runner.invoke(args=["oauth", "client", "list", "--json"])
    assert [(c["client_id"], c["name"], c["partner_id"]) for c in json.loads(listed.output)] == [
        (client_id, "Acme Jobs", keys.partner.id)]
    assert old_secret not in listed.output

    rotated = json.loads(runner.invoke(args=["oauth", "client", "rotate-secret", client_id, "--json"]).output)
    refused = client.post("/oauth/token", data={"grant_type": "client_credentials", "scope": "partner"},
                          auth=(client_id, old_secret))
    assert refused.status_code == 401 and refused.get_json()["error"] == "invalid_client"
    assert client_credentials_token(client, client_id, rotated["client_secret"])

    gone = runner.invoke(args=["oauth", "client", "delete", client_id, "--yes"])
    assert gone.exit_code == 0, gone.output
    assert runner.invoke(args=["oauth", "client", "list", "--json"]).output.strip() == "[]"
    with pytest.raises(bearer.InvalidToken):  # its tokens went with it
        bearer.partner_of_bearer(f"Bearer {token}", now=clock.now())
    unknown = runner.invoke(args=["oauth", "client", "rotate-secret", "ec_nobody"])
    assert unknown.exit_code != 0 and "No OAuth client" in unknown.output
