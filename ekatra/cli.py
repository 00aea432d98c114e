"""The `ekatra` command: a Flask CLI group for the app (run, db upgrade, demo, create-admin, …)."""

from __future__ import annotations

import getpass

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from ekatra import clock
from ekatra.partners.cli import partner_command


def _create_app():
    from ekatra import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False,
             help="Ekatra: courses delivered as a drip of SMS and WhatsApp messages.")
def main():
    pass


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


def register_commands(app) -> None:
    from ekatra.bench.cli import bench_group
    from ekatra.demo import demo_command, serve_command
    from ekatra.graphql.cli import graphql_group
    from ekatra.sandbox.cli import sandbox_command

    app.cli.add_command(bench_group)
    app.cli.add_command(create_admin_command)
    app.cli.add_command(demo_command)
    app.cli.add_command(sandbox_command)
    app.cli.add_command(serve_command)
    app.cli.add_command(worker_command)
    app.cli.add_command(partner_command)
    app.cli.add_command(graphql_group)


@click.command("worker")
def worker_command():
    """Run the worker process (the same as `python -m scheduler`)."""
    from scheduler.__main__ import main as worker_main

    raise SystemExit(worker_main(current_app._get_current_object()))
