"""The `ekatra` command."""

from __future__ import annotations

from sqlalchemy import select

from ekatra.auth.models import Author
from ekatra.extensions import db
from tests.factories import AuthorClient


def test_create_admin_makes_a_new_admin_who_sees_everything(app, client, author):
    author.post("/api/course/", json={"name": "Private", "author": "A", "description": "", "days": []})
    result = app.test_cli_runner().invoke(args=["create-admin", "Boss@Example.org", "--name", "Boss",
                                               "--password", "an admin password"])
    assert result.exit_code == 0, result.output
    assert "Created admin boss@example.org" in result.output
    admin = AuthorClient.login(client, "boss@example.org", "an admin password")
    names = [course["name"] for course in admin.get("/api/course/").get_json()]
    assert names == ["Private"]


def test_create_admin_promotes_an_existing_author(app, author):
    result = app.test_cli_runner().invoke(args=["create-admin", author.email])
    assert result.exit_code == 0, result.output
    assert "Promoted" in result.output
    assert db.session.scalar(select(Author.is_admin).where(Author.email == author.email)) is True


def test_create_admin_with_a_short_password_fails_cleanly(app):
    result = app.test_cli_runner().invoke(args=["create-admin", "x@example.org", "--password", "short"])
    assert result.exit_code != 0
    assert "at least 8" in result.output
