"""`ekatra partner create NAME`: a partner's keys, printed once."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from ekatra import clock


@click.group("partner")
def partner_command():
    """Partner systems that call /api/partner with ST-ACCESS-KEY and ST-SECRET-KEY."""


@partner_command.command("create")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True,
              help='Print {"access_key": …, "secret_key": …, "livemode": …}.')
@click.option("--test", "is_test", is_flag=True,
              help="Test keys (pk_test_…): their learners' messages go to the sandbox, never to a phone.")
@with_appcontext
def create_partner_command(name: str, as_json: bool, is_test: bool):
    """Create partner NAME and print its access key and secret (the secret is shown only now)."""
    from ekatra.errors import DomainError
    from ekatra.partners import services

    try:
        keys = services.create_partner(name=name, now=clock.now(), livemode=not is_test)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    if as_json:
        click.echo(json.dumps({"access_key": keys.access_key, "secret_key": keys.secret_key,
                               "livemode": keys.partner.livemode}))
        return
    mode = "test partner" if is_test else "partner"
    click.echo(f"Created {mode} {keys.partner.name!r} (id {keys.partner.id}).")
    click.echo(f"ST-ACCESS-KEY: {keys.access_key}")
    click.echo(f"ST-SECRET-KEY: {keys.secret_key}")
    click.echo("Keep the secret now: only its hash is stored.")
    if is_test:
        click.echo("Test mode: learners enrolled with these keys get their messages in the sandbox "
                   "(TWILIO_TEST_API_BASE_URL), never on a phone; webhooks say \"livemode\": false.")
