"""`ekatra graphql export-schema`: write the schemas' SDL into the repository, where CI compares
them with the code (tests/graphql/test_schema_sdl.py) so that a change to the API is deliberate."""

from __future__ import annotations

from pathlib import Path

import click

HERE = Path(__file__).resolve().parent


def sdl_files() -> dict[Path, str]:
    """Each checked-in SDL file and what the code's schema prints now."""
    from ekatra.graphql import partner, schema

    return {HERE / "schema.graphql": schema.schema.as_str() + "\n",
            HERE / "partner.graphql": partner.schema.as_str() + "\n"}


@click.group("graphql")
def graphql_group():
    """The GraphQL schemas."""


@graphql_group.command("export-schema")
def export_schema_command():
    """Write ekatra/graphql/schema.graphql and partner.graphql from the code."""
    for path, text in sdl_files().items():
        path.write_text(text, encoding="utf-8")
        click.echo(f"wrote {path}")
