"""The `ekatra` command: a Flask CLI group for the app (run, db upgrade, create-admin, partner, …)
and the processes around it (demo, serve, worker, sandbox, bench).

Nothing in the app imports this module: the command depends on the app, never the reverse."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import FlaskGroup

from ekatra import create_app
from ekatra.bench.cli import bench_group
from ekatra.demo import demo_command, serve_command
from ekatra.sandbox.cli import sandbox_command


def _create_app():
    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False,
             help="Ekatra: courses delivered as a drip of SMS and WhatsApp messages.")
def main():
    pass


@click.command("worker")
def worker_command():
    """Run the worker process (the same as `python -m scheduler`)."""
    from scheduler.__main__ import main as worker_main

    raise SystemExit(worker_main(current_app._get_current_object()))


for command in (bench_group, demo_command, sandbox_command, serve_command, worker_command):
    main.add_command(command)
