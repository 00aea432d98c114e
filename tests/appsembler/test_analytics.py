"""Analytics batches: the partner's accounts and enrollments, filtered by date, in pages."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

from ekatra import clock
from ekatra.extensions import db
from ekatra.partners import services
from ekatra.partners.models import Partner
from tests.appsembler.factories import BearerClient, shared_course


def _account(partner: BearerClient, username: str, joined: datetime) -> int:
    account = services.signup(
        db.session.get(Partner, partner.partner.id),
        login=f"{username}@example.com",
        full_name=username,
        password="learner password",
        source="",
        now=joined,
        rounds=4,
        username=username,
    )
    return account.id


def test_accounts_batch_as_in_the_contracts_example(client):
    partner = BearerClient.create(client)
    first = _account(partner, "anewuser", datetime(2016, 12, 17, 23, 45, 47, tzinfo=UTC))
    second = _account(partner, "newtest", datetime(2016, 12, 17, 23, 55, 27, 765000, tzinfo=UTC))
    response = partner.get("/analytics/accounts/batch")
    assert response.status_code == 200
    assert response.get_json() == [
        {
            "id": first,
            "username": "anewuser",
            "email": "anewuser@example.com",
            "is_active": True,
            "date_joined": "2016-12-17T23:45:47Z",
        },
        {
            "id": second,
            "username": "newtest",
            "email": "newtest@example.com",
            "is_active": True,
            "date_joined": "2016-12-17T23:55:27.765000Z",
        },
    ]
    assert response.headers["X-Total-Count"] == "2" and "Link" not in response.headers


def test_accounts_batch_filters_by_date_joined_as_the_contracts_example_calls(client):
    partner = BearerClient.create(client)
    _account(partner, "early", datetime(2015, 12, 1, tzinfo=UTC))
    _account(partner, "middle", datetime(2015, 12, 15, 8, 0, tzinfo=UTC))
    _account(partner, "late", datetime(2016, 1, 1, tzinfo=UTC))

    def usernames(**query):
        response = partner.get("/analytics/accounts/batch", query_string=query)
        assert response.status_code == 200, response.get_json()
        return [row["username"] for row in response.get_json()]

    assert usernames() == ["early", "middle", "late"]
    assert usernames(updated_min="2015-12-09T00:00:00Z") == ["middle", "late"]
    assert usernames(updated_min="2015-12-09T00:00:00Z", updated_max="2015-12-19") == ["middle"]
    assert usernames(updated_max="2015-12-01") == []  # strictly before, as Open edX compares
    bad = partner.get("/analytics/accounts/batch", query_string={"updated_min": "last week"})
    assert bad.status_code == 400 and list(bad.get_json()) == ["updated_min"]


def test_batches_come_in_pages_with_a_link_to_the_next(client):
    partner = BearerClient.create(client)
    for number in range(5):
        _account(partner, f"user{number}", datetime(2016, 1, 1 + number, tzinfo=UTC))
    seen, url = [], "/analytics/accounts/batch?updated_min=2015-01-01&page_size=2"
    while url:
        response = partner.get(url)
        assert response.status_code == 200 and response.headers["X-Total-Count"] == "5"
        seen += [row["username"] for row in response.get_json()]
        link = response.headers.get("Link")
        if link is None:
            break
        target = urlsplit(link.split(";")[0].strip("<>"))
        assert link.endswith('rel="next"') and parse_qs(target.query)["updated_min"] == ["2015-01-01"]
        url = target.path.removeprefix("/appsembler_api/v0") + "?" + target.query
    assert seen == [f"user{n}" for n in range(5)]
    too_big = partner.get("/analytics/accounts/batch", query_string={"page_size": 1001})
    assert too_big.status_code == 400


def test_enrollment_batch_with_a_certificate(client, author):
    partner = BearerClient.create(client)
    key, other_key = shared_course(author, partner), shared_course(author, partner)
    honor = partner.learner_with_phone("honor", "honor@example.com")
    audit = partner.learner_with_phone("audit", "audit@example.com", "+919812340001")
    code, other = partner.codes(key, 2)
    (third,) = partner.codes(other_key)
    for email, enrollment_code in (
        ("honor@example.com", code),
        ("audit@example.com", other),
        ("audit@example.com", third),
    ):
        assert partner.post(
            "/enrollment-codes/enroll-user", json={"email": email, "enrollment_code": enrollment_code}
        ).get_json() == {"success": True}
    course_id = author.get(f"/api/delivery/{key.rsplit('+D', 1)[1]}").get_json()["course_id"]
    issued = partner.partner.post(
        "/complete_course", json={"user_id": audit, "course_id": course_id, "force_complete": True}
    )
    assert issued.status_code == 200, issued.get_json()

    rows = partner.get("/analytics/enrollment/batch", query_string={"course_id": key}).get_json()
    assert [(row["username"], row["user_id"], row["course_id"]) for row in rows] == [
        ("honor", honor, key),
        ("audit", audit, key),
    ]
    assert "certificate" not in rows[0] and isinstance(rows[0]["enrollment_id"], int)
    assert rows[0]["date_enrolled"].endswith("Z")
    certificate = rows[1]["certificate"]
    assert certificate["grade"] == "0.00"  # forced: no question answered
    assert certificate["url"] == issued.get_json()["download_link"]
    assert certificate["completion_date"].endswith("+00:00")
    # An unencoded "+" arrives as a space; Open edX reads it as "+", and so do we.
    spaced = partner.get(f"/analytics/enrollment/batch?course_id={key}&username=audit").get_json()
    assert [(row["username"], row["course_id"]) for row in spaced] == [("audit", key)]
    assert len(partner.get("/analytics/enrollment/batch").get_json()) == 3
    later = partner.get(
        "/analytics/enrollment/batch", query_string={"updated_min": clock.now().isoformat()}
    ).get_json()
    assert later == []
    unknown = partner.get(
        "/analytics/enrollment/batch", query_string={"course_id": "course-v1:edx+DemoX101+2017"}
    )
    assert unknown.status_code == 404 and unknown.get_json() == {"detail": "Not found."}


def test_the_grade_is_the_share_of_graded_questions_answered_correctly(client, author):
    from tests.partners.factories import answer_every_graded_question

    partner = BearerClient.create(client)
    key = shared_course(author, partner)
    learner = partner.learner_with_phone("asha", "asha@example.com")
    (code,) = partner.codes(key)
    enrolled = partner.post("/enrollment-codes/enroll-user",
                            json={"email": "asha@example.com", "enrollment_code": code})
    assert enrolled.get_json() == {"success": True}
    course_id = author.get(f"/api/delivery/{key.rsplit('+D', 1)[1]}").get_json()["course_id"]
    answer_every_graded_question(course_id)
    issued = partner.partner.post("/complete_course", json={"user_id": learner, "course_id": course_id,
                                                           "force_complete": True})
    assert issued.status_code == 200, issued.get_json()
    (row,) = partner.get("/analytics/enrollment/batch", query_string={"course_id": key}).get_json()
    assert row["certificate"]["grade"] == "1.00"
