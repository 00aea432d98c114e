"""Course keys: derived from author, course and delivery, shown in the delivery API, parsed back."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ekatra.deliveries.course_keys import CourseKey, course_key, parse_course_key
from ekatra.extensions import MAX_ID
from tests.deliveries.factories import course_and_group, create_delivery

IDS = st.integers(min_value=1, max_value=MAX_ID)


@given(IDS, IDS, IDS)
def test_a_key_parses_back_to_its_parts(owner_id, course_id, delivery_id):
    key = course_key(owner_id, course_id, delivery_id)
    assert key.startswith("course-v1:") and key.count("+") == 2
    assert parse_course_key(key) == CourseKey(owner_id, course_id, delivery_id)
    assert parse_course_key(key.replace("+", " ")) == CourseKey(owner_id, course_id, delivery_id)


def test_anything_else_is_no_key():
    for text in (
        "",
        "course-v1:edX+DemoX+Demo_Course",
        "course-v1:A1+C1",
        "course-v1:A0+C1+D1",
        f"course-v1:A1+C1+D{MAX_ID + 1}",
        "course-v1:A1+C1+D1+X",
        None,
    ):
        assert parse_course_key(text) is None


def test_the_delivery_api_shows_each_deliverys_key(author):
    course_id, group_id = course_and_group(author)
    delivery_id = create_delivery(author, group_id, course_id)
    expected = f"course-v1:A{author.id}+C{course_id}+D{delivery_id}"
    assert author.get(f"/api/delivery/{delivery_id}").get_json()["course_key"] == expected
    assert [d["course_key"] for d in author.get("/api/retrieve-deliveries").get_json()] == [expected]
