"""`ekatra oauth client create NAME …`: register an OAuth client; its secret is printed once."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from ekatra import clock
from ekatra.oauth.models import GRANT_TYPES


@click.group("oauth")
def oauth_group():
    """OAuth 2.0 clients ("Log in with Ekatra", partner tokens)."""


@oauth_group.group("client")
def client_group():
    """OAuth clients."""


@client_group.command("create")
@click.argument("name")
@click.option("--partner", "partner_ref", help="The partner's id or access key (none: an admin's "
              "client for learner login only).")
@click.option("--redirect-uri", "redirect_uris", multiple=True, help="An exact redirect URI (repeatable).")
@click.option("--grant", "grants", multiple=True, type=click.Choice(GRANT_TYPES),
              help="A grant type (repeatable; default authorization_code, which brings refresh_token).")
@click.option("--public", "is_public", is_flag=True, help="A public client (no secret; PKCE S256 required).")
@click.option("--json", "as_json", is_flag=True, help='Print {"client_id": …, "client_secret": …}.')
@with_appcontext
def create_client_command(name, partner_ref, redirect_uris, grants, is_public, as_json):
    """Register client NAME and print its client_id and secret (the secret is shown only now)."""
    from ekatra.errors import DomainError
    from ekatra.oauth import services

    try:
        partner_id = services.partner_by_reference(partner_ref).id if partner_ref else None
        keys = services.create_client(name=name, partner_id=partner_id, redirect_uris=list(redirect_uris),
                                      grant_types=list(grants), is_public=is_public, now=clock.now())
    except DomainError as error:
        details = "; ".join(f"{field}: {' '.join(problems)}"
                            for field, problems in (error.errors or {}).items())
        raise click.ClickException(f"{error.message} {details}".strip()) from None
    if as_json:
        click.echo(json.dumps({"client_id": keys.client_id, "client_secret": keys.client_secret}))
        return
    client = keys.client
    click.echo(f"Created OAuth client {client.name!r} (grants: {', '.join(client.grant_types)}; "
               f"scopes: {client.scope}).")
    click.echo(f"client_id: {keys.client_id}")
    if keys.client_secret:
        click.echo(f"client_secret: {keys.client_secret}")
        click.echo("Keep the secret now: only its hash is stored.")
