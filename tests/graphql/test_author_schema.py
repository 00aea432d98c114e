"""/graphql for authors and learners: ownership as in REST, cursor pages, progress and messages as
the REST views show them, and a constant number of SQL statements however many deliveries."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event

from ekatra.extensions import db
from tests.deliveries.factories import course_and_group, create_delivery
from tests.factories import create_course
from tests.graphql.helpers import enrolled_learner, graphql, send_days

DELIVERIES = """query ($first: Int, $after: String) {
  deliveries(first: $first, after: $after) {
    edges { cursor node { id status course { name } group { name }
      schedule { localStartDate localSendTime cadence }
      learners(first: 100) { edges { node { id status student { name phone optedOut }
        progress { daysSent daysDelivered questionsAnswered answersCorrect } } } } } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}"""


def _ask(client, query, variables=None, headers=None):
    return graphql(client, "/graphql", query, variables, headers)


def test_an_author_reads_their_deliveries_and_another_authors_are_absent(client, author, other_author):
    course_id, group_id = course_and_group(author)
    mine = create_delivery(author, group_id, course_id)
    other_course, other_group = course_and_group(other_author)
    theirs = create_delivery(other_author, other_group, other_course)
    status, body = _ask(client, DELIVERIES, headers=author.headers)
    assert status == 200 and "errors" not in body, body
    (edge,) = body["data"]["deliveries"]["edges"]
    assert edge["node"]["id"] == mine and edge["node"]["status"] == "SCHEDULED"
    assert edge["node"]["schedule"] == {"localStartDate": "2026-12-01", "localSendTime": "09:00:00",
                                        "cadence": "daily"}
    _, body = _ask(client, "query ($id: Int!) { delivery(id: $id) { id } course(id: $id) { id } "
                           "group(id: $id) { id } }", {"id": theirs}, author.headers)
    assert body["data"] == {"delivery": None, "course": None, "group": None}
    _, body = _ask(client, "{ courses { edges { node { id name days { number questions { text } } } } } }",
                   headers=author.headers)
    assert [e["node"]["id"] for e in body["data"]["courses"]["edges"]] == [course_id]


def test_learner_progress_and_messages_match_the_rest_views(client, author):
    learner = enrolled_learner(client, author)
    send_days(2)
    _, body = _ask(client, DELIVERIES, headers=author.headers)
    learners = body["data"]["deliveries"]["edges"][0]["node"]["learners"]["edges"]
    rest = author.get(f"/api/delivery/{learner.delivery_id}/progress").get_json()["learners"]
    by_student = {row["student_id"]: row for row in rest}
    assert len(learners) == len(rest) == 2
    for edge in learners:
        node = edge["node"]
        row = next(r for r in by_student.values() if r["number"] == node["student"]["phone"])
        assert node["progress"] == {"daysSent": row["days_sent"], "daysDelivered": row["days_delivered"],
                                    "questionsAnswered": row["questions_answered"],
                                    "answersCorrect": row["answers_correct"]}
        assert node["student"]["optedOut"] is row["opted_out"]
    query = """query ($id: Int!) { delivery(id: $id) {
      sent: messages(status: SENT, first: 500) { edges { node { id status body } } }
      all: messages(first: 500) { edges { node { id } } } } }"""
    _, body = _ask(client, query, {"id": learner.delivery_id}, author.headers)
    rest_sent = author.get(f"/api/delivery/{learner.delivery_id}/messages",
                           query_string={"status": "sent", "page_size": 100}).get_json()
    sent = body["data"]["delivery"]["sent"]["edges"]
    assert sorted(e["node"]["id"] for e in sent) == sorted(m["id"] for m in rest_sent["messages"])
    assert {e["node"]["status"] for e in sent} == {"SENT"}
    assert len(body["data"]["delivery"]["all"]["edges"]) >= len(sent) > 0


def test_author_lists_page_with_cursors_and_refuse_pages_over_500(client, author):
    ids = [create_course(author) for _ in range(5)]
    query = "query ($first: Int, $after: String) { courses(first: $first, after: $after) " \
            "{ edges { node { id } } pageInfo { hasNextPage hasPreviousPage endCursor } } }"
    seen, after = [], None
    while True:
        _, body = _ask(client, query, {"first": 2, "after": after}, author.headers)
        page = body["data"]["courses"]
        seen += [e["node"]["id"] for e in page["edges"]]
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == ids
    for variables in ({"first": 501}, {"first": -1}, {"first": 2, "after": "bm90LWEtY3Vyc29y"}):
        status, body = _ask(client, query, variables, author.headers)
        assert status == 200 and body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_a_learner_reads_only_their_own_enrollments_and_not_author_data(client, author):
    learner = enrolled_learner(client, author)
    send_days(1)
    query = """{ me { id name enrollments { status deliveryStatus course { name totalDays }
      progress { daysSent } messages { edges { node { toPhone body status } } } } } }"""
    status, body = _ask(client, query, headers=learner.learner_headers)
    assert status == 200 and "errors" not in body, body
    me = body["data"]["me"]
    assert me["id"] == learner.user_id and me["name"] == "Asha Rao"
    (enrollment,) = me["enrollments"]
    assert enrollment["course"] == {"name": "Money basics", "totalDays": 3}
    assert enrollment["progress"]["daysSent"] == 1
    assert {m["node"]["toPhone"] for m in enrollment["messages"]["edges"]} == {"+919876543210"}
    _, body = _ask(client, "{ deliveries { edges { node { id } } } }", headers=learner.learner_headers)
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    _, body = _ask(client, "{ me { id } }", headers=author.headers)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_no_or_bad_credentials_are_unauthenticated(client, author):
    wrong_keys = {"ST-ACCESS-KEY": "pk_x", "ST-SECRET-KEY": "y"}
    for headers in ({}, {"Authorization": "Bearer nonsense"}, wrong_keys):
        status, body = _ask(client, "{ courses { edges { cursor } } }", headers=headers)
        assert status == 401, headers
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert "Traceback" not in str(body)


@contextmanager
def _counted_statements():
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _statements_for_deliveries(client, author, count: int) -> tuple[int, dict]:
    course_id, group_id = course_and_group(author)
    for _ in range(count):
        create_delivery(author, group_id, course_id)
    send_days(1)
    db.session.remove()  # nothing cached in the session from setting up
    with _counted_statements() as statements:
        status, body = _ask(client, DELIVERIES, {"first": 50}, author.headers)
    assert status == 200 and "errors" not in body, body
    return len(statements), body


def test_fifty_deliveries_with_learners_and_progress_cost_as_many_statements_as_five(client, author,
                                                                                   other_author):
    few, body = _statements_for_deliveries(client, author, 5)
    assert len(body["data"]["deliveries"]["edges"]) == 5
    many, body = _statements_for_deliveries(client, other_author, 50)
    edges = body["data"]["deliveries"]["edges"]
    assert len(edges) == 50 and all(len(e["node"]["learners"]["edges"]) == 3 for e in edges)
    assert all(e["node"]["learners"]["edges"][0]["node"]["progress"]["daysSent"] == 1 for e in edges)
    assert many == few <= 20
