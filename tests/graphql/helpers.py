"""Builders for GraphQL tests: an enrolled learner with some progress, and a query helper."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from ekatra import clock
from ekatra.deliveries.planner import plan_due_days
from ekatra.extensions import db
from tests.partners.factories import PartnerClient, running_delivery

PHONE = "+919876543210"


@dataclass
class Enrolled:
    partner: PartnerClient
    tokens: dict
    user_id: int
    delivery_id: int
    course_id: int

    @property
    def learner_headers(self) -> dict[str, str]:
        return {**self.partner.headers, "jwt_token": self.tokens["jwt_token"],
                "access_token": self.tokens["access_token"]}


def enrolled_learner(client, author, partner: PartnerClient | None = None, login: str = "asha@example.org",
                     phone: str = PHONE) -> Enrolled:
    """A partner's learner enrolled (with a coupon) in a delivery of the three-day course."""
    partner = partner or PartnerClient.create(client)
    delivery_id = running_delivery(author, partner)
    tokens = partner.signup(login, phone=phone)
    (code,) = partner.coupons(delivery_id)
    assert partner.apply(tokens, code).status_code == 200
    course_id = author.get(f"/api/delivery/{delivery_id}").get_json()["course_id"]
    return Enrolled(partner, tokens, tokens["db_user"]["id"], delivery_id, course_id)


def send_days(days: int) -> None:
    """Plan `days` days of every delivery and mark every planned message sent."""
    start = max(clock.now(), datetime(2026, 12, 1, tzinfo=UTC))
    for day in range(1, days + 1):
        plan_due_days(start + timedelta(days=day))
    db.session.execute(text("UPDATE messages SET status = 'sent', sent_at = created_at "
                            "WHERE status <> 'sent'"))
    db.session.commit()


def graphql(client, path: str, query: str, variables: dict | None = None, headers: dict | None = None):
    """POST a query; returns (status, body)."""
    response = client.post(path, json={"query": query, "variables": variables or {}}, headers=headers or {})
    return response.status_code, response.get_json()
