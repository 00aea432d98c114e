"""`ekatra create-admin EMAIL`: an admin account (admins see every author's data)."""

from __future__ import annotations

import getpass

import click
from flask import current_app
from flask.cli import with_appcontext

from ekatra import clock


@click.command("create-admin")
@click.argument("email")
@click.option("--name", default=None, help="Display name for a new account.")
@click.option("--password", default=None, envvar="EKATRA_ADMIN_PASSWORD",
              help="Password for a new account (prompted if needed; or EKATRA_ADMIN_PASSWORD).")
@with_appcontext
def create_admin_command(email: str, name: str | None, password: str | None):
    """Make EMAIL an admin (creating the account if it does not exist). Admins see all data."""
    from sqlalchemy import select

    from ekatra.auth import services
    from ekatra.auth.models import Author
    from ekatra.errors import DomainError
    from ekatra.extensions import db

    exists = db.session.scalar(select(Author.id).where(Author.email == services.normalise_email(email)))
    if exists is None and not password:
        password = getpass.getpass("Password for the new admin: ")
    try:
        author, created = services.make_admin(email=email, name=name, password=password,
                                              now=clock.now(), rounds=current_app.config["BCRYPT_ROUNDS"])
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"{'Created' if created else 'Promoted'} admin {author.email} (id {author.id}).")
