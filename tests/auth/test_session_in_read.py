"""The read routes whose own statement checks the login session (course, group, delivery list):
a revoked or expired session is a 401 whatever the read finds, an admin still sees everything,
and a read is one statement."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, update

from ekatra import clock
from ekatra.auth.models import Author, LoginSession
from ekatra.extensions import MAX_ID, db
from tests.deliveries.factories import course_and_group, create_delivery
from tests.factories import AuthorClient

REVOKED = "Token has been revoked; log in again."


@pytest.fixture
def owned(author, other_author):
    """The author's course, group and delivery, and the other author's course and group."""
    course_id, group_id = course_and_group(author)
    create_delivery(author, group_id, course_id)
    others = course_and_group(other_author)
    return {"course": course_id, "group": group_id, "other_course": others[0], "other_group": others[1]}


def _paths(owned: dict) -> dict[str, int]:
    """Each read route with what it answers for a live session."""
    return {f"/api/course/{owned['course']}": 200, f"/api/group/{owned['group']}": 200,
            "/api/retrieve-deliveries": 200,
            f"/api/course/{owned['other_course']}": 404, f"/api/group/{owned['other_group']}": 404,
            "/api/course/999999": 404, f"/api/group/{MAX_ID + 1}": 404, "/api/course/0": 404}


def test_a_live_session_reads_and_a_revoked_one_is_refused_on_every_answer(client, author, owned):
    paths = _paths(owned)
    for path, status in paths.items():
        assert author.get(path).status_code == status, path
    assert author.post("/api/auth/logout").status_code == 200
    for path in paths:
        refused = author.get(path)
        assert (refused.status_code, refused.get_json()) == (401, {"message": REVOKED}), path


def test_an_empty_delivery_list_still_checks_the_session(client, other_author):
    assert other_author.get("/api/retrieve-deliveries").get_json() == []
    other_author.post("/api/auth/logout")
    assert other_author.get("/api/retrieve-deliveries").status_code == 401


def test_an_expired_session_is_refused(app, client, author, owned):
    assert author.get(f"/api/course/{owned['course']}").status_code == 200
    db.session.execute(update(LoginSession).where(LoginSession.author_id == author.id)
                       .values(expires_at=clock.now() - timedelta(seconds=1)))
    db.session.commit()
    for path in _paths(owned):
        assert author.get(path).status_code == 401, path


def test_a_password_reset_ends_reads_of_every_login(app, client, author, owned):
    second = AuthorClient.login(client, author.email)
    assert second.get(f"/api/group/{owned['group']}").status_code == 200
    db.session.execute(update(LoginSession).where(LoginSession.author_id == author.id)
                       .values(revoked_at=clock.now()))
    db.session.commit()
    assert second.get(f"/api/group/{owned['group']}").status_code == 401
    assert author.get("/api/retrieve-deliveries").status_code == 401


def test_an_admin_reads_everyones_and_lists_every_delivery(client, author, other_author, owned):
    other_delivery = create_delivery(other_author, owned["other_group"], owned["other_course"])
    db.session.execute(update(Author).where(Author.id == author.id).values(is_admin=True))
    db.session.commit()
    for _ in range(2):  # the first request decodes the token, the next ones remember it
        assert author.get(f"/api/course/{owned['other_course']}").status_code == 200
        assert author.get(f"/api/group/{owned['other_group']}").status_code == 200
        listed = [d["id"] for d in author.get("/api/retrieve-deliveries").get_json()]
        assert other_delivery in listed and len(listed) == 2
    assert [d["id"] for d in other_author.get("/api/retrieve-deliveries").get_json()] == [other_delivery]


def test_a_token_never_reads_through_another_authors_session(app, client, author, other_author, owned):
    """A token names its author and its session; the session must be that author's."""
    from flask_jwt_extended import create_access_token, decode_token

    foreign_sid = decode_token(author.access_token)["sid"]
    with app.test_request_context():
        token = create_access_token(identity=str(other_author.id), additional_claims={"sid": foreign_sid})
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(2):
        assert client.get(f"/api/course/{owned['other_course']}", headers=headers).status_code == 401
        assert client.get("/api/retrieve-deliveries", headers=headers).status_code == 401
        assert client.get("/api/course/", headers=headers).status_code == 401  # a separate check


@contextmanager
def _statements():
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_a_read_checks_the_session_in_its_own_statement(client, author, owned):
    author.get(f"/api/course/{owned['course']}")  # the token's header is remembered from here on
    for path, expected in ((f"/api/course/{owned['course']}", 1), (f"/api/group/{owned['group']}", 1),
                           ("/api/retrieve-deliveries", 2), ("/api/course/999999", 2)):
        with _statements() as seen:
            assert author.get(path).status_code in (200, 404)
        assert len(seen) == expected, (path, seen)
        assert "login_sessions" in seen[0]
