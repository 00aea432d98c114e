"""Builders for partner tests: partners with keys, learner accounts, a delivery with coupons."""

from __future__ import annotations

from dataclasses import dataclass

from ekatra import clock
from ekatra.courses.models import Day, Question
from ekatra.deliveries.models import Enrollment
from ekatra.extensions import db
from ekatra.inbound.models import Answer
from ekatra.partners import services
from tests.deliveries.factories import KOLKATA, course_and_group, create_delivery
from tests.factories import AuthorClient

LEARNER_PASSWORD = "learner password"


@dataclass
class PartnerClient:
    """A test client sending one partner's ST-ACCESS-KEY and ST-SECRET-KEY."""

    client: object
    id: int
    access_key: str
    secret_key: str

    @classmethod
    def create(cls, client, name: str = "Acme LMS") -> PartnerClient:
        keys = services.create_partner(name=name, now=clock.now())
        return cls(client, keys.partner.id, keys.access_key, keys.secret_key)

    @property
    def headers(self) -> dict[str, str]:
        return {"ST-ACCESS-KEY": self.access_key, "ST-SECRET-KEY": self.secret_key}

    def post(self, path: str, headers: dict | None = None, **kwargs):
        headers = {**self.headers, **(headers or {})}
        return self.client.post(f"/api/partner{path}", headers=headers, **kwargs)

    def get(self, path: str, **kwargs):
        return self.client.get(f"/api/partner{path}", headers=self.headers, **kwargs)

    def patch(self, path: str, **kwargs):
        return self.client.patch(f"/api/partner{path}", headers=self.headers, **kwargs)

    def signup(self, login: str = "asha@example.org", name: str = "Asha Rao",
               phone: str | None = None) -> dict:
        response = self.post("/signup", json={"full_name": name, "id": login, "password": LEARNER_PASSWORD,
                                              "source": "Acme LMS"})
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        if phone:
            patched = self.patch(f"/users/{body['db_user']['id']}",
                                 json={"phone": phone, "timezone": "Asia/Kolkata"})
            assert patched.status_code == 200, patched.get_json()
        return body

    def coupons(self, delivery_id: int, count: int = 1, **body) -> list[str]:
        response = self.post("/coupons", json={"delivery_id": delivery_id, "count": count, **body})
        assert response.status_code == 201, response.get_json()
        return [coupon["code"] for coupon in response.get_json()["data"]]

    def apply(self, tokens: dict, code: str):
        return self.post("/apply_coupon", json={"coupon_code": code},
                         headers={"jwt_token": tokens["jwt_token"], "access_token": tokens["access_token"]})


def share(author: AuthorClient, delivery_id: int, partner: PartnerClient):
    return author.post(f"/api/delivery/{delivery_id}/partners", json={"access_key": partner.access_key})


def running_delivery(author: AuthorClient, *shared_with: PartnerClient) -> int:
    """A delivery of the three-day course to a group of one (day 1 on 2026-12-01 09:00 local),
    shared by its author with these partners."""
    course_id, group_id = course_and_group(author, students=(KOLKATA,))
    delivery_id = create_delivery(author, group_id, course_id)
    for partner in shared_with:
        response = share(author, delivery_id, partner)
        assert response.status_code == 200, response.get_json()
    return delivery_id


def answer_every_graded_question(course_id: int) -> None:
    """The learner answers every graded question correctly (a row in `answers` for each)."""
    enrollment = db.session.query(Enrollment).order_by(Enrollment.id.desc()).first()
    questions = db.session.query(Question.id).join(Day).filter(Day.course_id == course_id,
                                                               Question.type != "open").all()
    for (question_id,) in questions:
        db.session.add(Answer(
            student_id=enrollment.student_id, question_id=question_id, delivery_id=enrollment.delivery_id,
            enrollment_id=enrollment.id, text="yes", is_correct=True, answered_at=clock.now()))
    db.session.commit()
