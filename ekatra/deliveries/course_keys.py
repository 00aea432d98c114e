"""Open edX-style course keys for deliveries: `course-v1:A<author id>+C<course id>+D<delivery id>`.

A key is derived from the delivery's owner, course and id, none of which ever changes, so it is
stable without being stored; it is unique because the delivery id is; and it is parsed back to
the delivery id, the owner and course in it being checked against the delivery's own (a key
with a wrong author or course names nothing). Partners on the Appsembler API name deliveries
by it (`course_id`); the delivery API shows it as `course_key`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ekatra.extensions import MAX_ID

PREFIX = "course-v1:"
# Query strings turn an unencoded "+" into a space; Open edX's own API reads a space as "+".
_KEY = re.compile(r"course-v1:A(\d{1,10})[+ ]C(\d{1,10})[+ ]D(\d{1,10})", re.IGNORECASE)


@dataclass(frozen=True)
class CourseKey:
    owner_id: int
    course_id: int
    delivery_id: int

    def __str__(self) -> str:
        return course_key(self.owner_id, self.course_id, self.delivery_id)


def course_key(owner_id: int, course_id: int, delivery_id: int) -> str:
    return f"{PREFIX}A{owner_id}+C{course_id}+D{delivery_id}"


def parse_course_key(text: str) -> CourseKey | None:
    """The key's parts, or None for anything that is not one of our keys."""
    match = _KEY.fullmatch((text or "").strip())
    if match is None:
        return None
    parts = [int(group) for group in match.groups()]
    if not all(0 < part <= MAX_ID for part in parts):
        return None
    return CourseKey(*parts)
