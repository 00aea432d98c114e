"""`ekatra oauth client create NAME …` (its secret printed once), `list`, `rotate-secret CLIENT_ID`
and `delete CLIENT_ID`: the OAuth clients, for operators."""

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
        raise _refusal(error) from None
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


def _refusal(error) -> click.ClickException:
    details = "; ".join(f"{field}: {' '.join(problems)}" for field, problems in (error.errors or {}).items())
    return click.ClickException(f"{error.message} {details}".strip())


@client_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@with_appcontext
def list_clients_command(as_json):
    """The registered clients (never their secrets)."""
    from ekatra.oauth import services

    clients = [{"client_id": c.client_id, "name": c.name, "partner_id": c.partner_id,
                "grant_types": c.grant_types, "scope": c.scope, "redirect_uris": c.redirect_uris,
                "public": c.is_public, "created_at": c.created_at.isoformat()}
               for c in services.list_clients()]
    if as_json:
        click.echo(json.dumps(clients))
        return
    for c in clients:
        owner = f"partner {c['partner_id']}" if c["partner_id"] else "admin"
        click.echo(f"{c['client_id']}  {c['name']!r}  {owner}  {' '.join(c['grant_types'])}"
                   f"{'  public' if c['public'] else ''}")


@client_group.command("rotate-secret")
@click.argument("client_id")
@click.option("--json", "as_json", is_flag=True, help='Print {"client_id": …, "client_secret": …}.')
@with_appcontext
def rotate_secret_command(client_id, as_json):
    """A new secret for CLIENT_ID, shown only now; the old one stops working at once."""
    from ekatra.errors import DomainError
    from ekatra.oauth import services

    try:
        secret = services.rotate_client_secret(client_id, now=clock.now())
    except DomainError as error:
        raise _refusal(error) from None
    if as_json:
        click.echo(json.dumps({"client_id": client_id, "client_secret": secret}))
        return
    click.echo(f"client_secret: {secret}")
    click.echo("Keep the secret now: only its hash is stored. The old secret no longer works.")


@client_group.command("delete")
@click.argument("client_id")
@click.confirmation_option(prompt="Delete the client and every token it holds?")
@with_appcontext
def delete_client_command(client_id):
    """Delete CLIENT_ID with its codes and tokens."""
    from ekatra.errors import DomainError
    from ekatra.oauth import services

    try:
        services.delete_client(client_id)
    except DomainError as error:
        raise _refusal(error) from None
    click.echo(f"Deleted OAuth client {client_id}.")
