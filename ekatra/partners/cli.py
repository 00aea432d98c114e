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
@click.option("--json", "as_json", is_flag=True, help='Print {"access_key": …, "secret_key": …}.')
@with_appcontext
def create_partner_command(name: str, as_json: bool):
    """Create partner NAME and print its access key and secret (the secret is shown only now)."""
    from ekatra.errors import DomainError
    from ekatra.partners import services

    try:
        keys = services.create_partner(name=name, now=clock.now())
    except DomainError as error:
        raise click.ClickException(error.message) from None
    if as_json:
        click.echo(json.dumps({"access_key": keys.access_key, "secret_key": keys.secret_key}))
        return
    click.echo(f"Created partner {keys.partner.name!r} (id {keys.partner.id}).")
    click.echo(f"ST-ACCESS-KEY: {keys.access_key}")
    click.echo(f"ST-SECRET-KEY: {keys.secret_key}")
    click.echo("Keep the secret now: only its hash is stored.")
