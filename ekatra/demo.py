"""`ekatra demo`: the product on SQLite with a demo author and a sample course."""

import click


@click.command("demo")
def demo_command():
    """Start Ekatra with demo data."""
