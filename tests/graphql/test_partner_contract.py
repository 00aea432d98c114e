"""The SkillsTrainer contract's four GraphQL queries, sent verbatim, answered from Ekatra's data
as the REST views show the same data."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ekatra.courses.models import Day, Question
from ekatra.extensions import db
from ekatra.inbound.models import Answer
from tests.graphql.contract_queries import (
    FETCH_COURSE_DATA,
    FETCH_COURSE_MODULES,
    FETCH_USER_COURSE_PROGRESS,
    FETCH_USER_DATA,
)
from tests.graphql.helpers import enrolled_learner, graphql, send_days
from tests.partners.factories import PartnerClient, answer_every_graded_question

PATHS = ("/api/partner/graphql", "/v1/graphql")
UNMAPPED_COURSE_FIELDS = ("start_date", "end_date", "moodle_config_id", "moodle_course_url",
                          "course_category", "publish", "identifier", "cost", "nsqf_level", "discount",
                          "multilang", "image_url",
                          "short_name", "moodle_course_id", "duration", "is_live_course", "is_subscription",
                          "is_taxable", "course_type")


@pytest.mark.parametrize("path", PATHS)
def test_fetch_course_data_answers_with_the_course_the_author_wrote(client, author, path):
    learner = enrolled_learner(client, author)
    status, body = graphql(client, path, FETCH_COURSE_DATA, {"courseId": learner.course_id},
                           learner.partner.headers)
    assert status == 200 and "errors" not in body, body
    (course,) = body["data"]["courses_course"]
    rest = author.get(f"/api/course/{learner.course_id}").get_json()
    assert course["id"] == learner.course_id
    assert course["full_name"] == rest["name"] and course["description"] == rest["description"]
    assert course["is_moodle_course"] is False and course["created_at"] and course["updated_at"]
    assert all(course[field] is None for field in UNMAPPED_COURSE_FIELDS)


def test_fetch_user_data_shows_the_learner_and_enrollments_as_rest_does(client, author):
    learner = enrolled_learner(client, author)
    send_days(1)
    status, body = graphql(client, "/api/partner/graphql", FETCH_USER_DATA, {"userId": learner.user_id},
                           learner.partner.headers)
    assert status == 200 and "errors" not in body, body
    (user,) = body["data"]["courses_users"]
    db_user = learner.tokens["db_user"]
    for field in ("id", "email", "name", "partner_id", "idp_user_id", "source", "is_email_verified",
                  "is_mobile_number_verified"):
        assert user[field] == db_user[field], field
    assert user["mobile_number"] == "+919876543210"
    assert user["gender"] is None and user["date_of_birth"] is None
    for empty in ("user_academic_qualifications", "user_family_details", "user_languages", "user_skills",
                  "user_work_details"):
        assert user[empty] == []
    rest = learner.partner.post("/get_courses_for_user", json={"user_id": learner.user_id}).get_json()["data"]
    assert [e["course_id"] for e in user["enrollments"]] == [c["id"] for c in rest]
    (enrollment,) = user["enrollments"]
    assert enrollment["user_id"] == learner.user_id and enrollment["enroll_status"] == "active"
    assert enrollment["course"]["full_name"] == rest[0]["fullname"]  # `course: course_obj_relation`
    assert enrollment["exired_at"] is None and enrollment["order_id"] is None


def test_fetch_user_course_progress_marks_sent_texts_and_answered_questions(client, author):
    learner = enrolled_learner(client, author)
    send_days(2)
    answer_every_graded_question(learner.course_id)
    status, body = graphql(client, "/v1/graphql", FETCH_USER_COURSE_PROGRESS,
                           {"course_id": learner.course_id, "user_id": learner.user_id},
                           learner.partner.headers)
    assert status == 200 and "errors" not in body, body
    sections = body["data"]["courses_course_section"]
    rest = learner.partner.post("/get_courses_for_user",
                                json={"user_id": learner.user_id}).get_json()["data"][0]
    assert len(sections) == rest["total_days"] == 3
    texts = [s["subsections"][0] for s in sections]
    done_texts = [t for t in texts if t["user_completion_status"][0]["completion_status"]]
    assert len(done_texts) == rest["days_received"] == 2
    assert all(t["user_completion_status"][0]["completion_date"] for t in done_texts)
    answered = set(db.session.scalars(select(Answer.question_id)))
    graded = {2 * q for q in db.session.scalars(select(Question.id).join(Day).where(Question.type != "open"))}
    for section in sections:
        for module in section["subsections"][1:]:  # the questions
            (status_row,) = module["user_completion_status"]
            assert status_row["user_id"] == learner.user_id and status_row["mapping_id"] == module["id"]
            was_answered = module["id"] in graded and module["id"] // 2 in answered
            assert status_row["completion_status"] is was_answered


def test_fetch_course_modules_lists_days_with_their_text_and_questions(client, author):
    learner = enrolled_learner(client, author)
    status, body = graphql(client, "/api/partner/graphql", FETCH_COURSE_MODULES,
                           {"course_id": learner.course_id}, learner.partner.headers)
    assert status == 200 and "errors" not in body, body
    rest = author.get(f"/api/course/{learner.course_id}").get_json()
    sections = body["data"]["courses_course_section"]
    assert [s["name"] for s in sections] == [f"Day {n}" for n in range(1, len(rest["days"]) + 1)]
    for section, day in zip(sections, rest["days"], strict=True):
        modules = section["coursesec"]
        assert modules[0]["name"] == f"{section['name']} text"
        assert [m["name"] for m in modules[1:]] == [q["question"] for q in day["questions"] or []]


def test_a_learners_tokens_see_only_that_learner(client, author):
    asha = enrolled_learner(client, author)
    ravi = enrolled_learner(client, author, asha.partner, login="ravi@example.org", phone="+919876543211")
    query = "{ courses_users { id } }"
    _, everyone = graphql(client, "/v1/graphql", query, headers=asha.partner.headers)
    assert sorted(u["id"] for u in everyone["data"]["courses_users"]) == sorted([asha.user_id, ravi.user_id])
    _, own = graphql(client, "/v1/graphql", query, headers=asha.learner_headers)
    assert [u["id"] for u in own["data"]["courses_users"]] == [asha.user_id]
    _, other = graphql(client, "/v1/graphql", FETCH_USER_DATA, {"userId": ravi.user_id}, asha.learner_headers)
    assert other["data"]["courses_users"] == []
    _, progress = graphql(client, "/v1/graphql", FETCH_USER_COURSE_PROGRESS,
                          {"course_id": asha.course_id, "user_id": ravi.user_id}, asha.learner_headers)
    for section in progress["data"]["courses_course_section"]:
        assert all(m["user_completion_status"] == [] for m in section["subsections"])


def test_another_partner_sees_nothing_of_these_learners_or_courses(client, author):
    learner = enrolled_learner(client, author)
    other = PartnerClient.create(client, "Other LMS")
    for query, variables in ((FETCH_COURSE_DATA, {"courseId": learner.course_id}),
                             (FETCH_USER_DATA, {"userId": learner.user_id}),
                             (FETCH_COURSE_MODULES, {"course_id": learner.course_id})):
        status, body = graphql(client, "/api/partner/graphql", query, variables, other.headers)
        assert status == 200 and "errors" not in body
        assert list(body["data"].values()) == [[]]


def test_wrong_keys_or_revoked_learner_tokens_are_refused_with_a_code(client, author):
    learner = enrolled_learner(client, author)
    status, body = graphql(client, "/v1/graphql", FETCH_COURSE_DATA, {"courseId": 1},
                           {"ST-ACCESS-KEY": learner.partner.access_key, "ST-SECRET-KEY": "wrong"})
    assert status == 401 and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    stale = {**learner.learner_headers, "access_token": "not-the-token"}
    status, body = graphql(client, "/v1/graphql", FETCH_COURSE_DATA, {"courseId": 1}, stale)
    assert status == 401 and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_bigint_variables_may_be_numeric_strings_and_missing_ids_match_nothing(client, author):
    learner = enrolled_learner(client, author)
    _, body = graphql(client, "/v1/graphql", FETCH_COURSE_DATA, {"courseId": str(learner.course_id)},
                      learner.partner.headers)
    assert [c["id"] for c in body["data"]["courses_course"]] == [learner.course_id]
    _, body = graphql(client, "/v1/graphql", FETCH_COURSE_DATA, {"courseId": 10**12}, learner.partner.headers)
    assert body["data"]["courses_course"] == []
    _, body = graphql(client, "/v1/graphql", FETCH_COURSE_DATA, {"courseId": None}, learner.partner.headers)
    assert body["data"]["courses_course"] == []
