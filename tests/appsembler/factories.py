"""Builders for Appsembler API tests: a partner whose OAuth client got a token over HTTP."""

from __future__ import annotations

from dataclasses import dataclass

from ekatra import clock
from ekatra.partners import services
from tests.factories import AuthorClient
from tests.oauth.factories import client_credentials_token, partner_oauth_client
from tests.partners.factories import PartnerClient, running_delivery, share

API = "/appsembler_api/v0"
PASSWORD = "learner password"


@dataclass
class BearerClient:
    """A test client sending one partner's OAuth access token (client credentials over HTTP)."""

    client: object
    partner: PartnerClient
    token: str
    client_id: str = ""
    client_secret: str = ""

    @classmethod
    def create(cls, client, name: str = "Acme LMS") -> BearerClient:
        keys = services.create_partner(name=name, now=clock.now())
        partner = PartnerClient(client, keys.partner.id, keys.access_key, keys.secret_key)
        client_id, secret = partner_oauth_client(partner.id, name=f"{name} Open edX")
        return cls(client, partner, client_credentials_token(client, client_id, secret), client_id, secret)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def post(self, path: str, json=None, **kwargs):
        return self.client.post(f"{API}{path}", json=json, headers=self.headers, **kwargs)

    def get(self, path: str, **kwargs):
        return self.client.get(f"{API}{path}", headers=self.headers, **kwargs)

    def create_account(
        self, username: str = "asha55", email: str = "asha55@example.org", name: str = "Asha Rao", **extra
    ) -> int:
        response = self.post(
            "/accounts/create",
            json={
                "username": username,
                "password": PASSWORD,
                "email": email,
                "name": name,
                "send_activation_email": "False",
                **extra,
            },
        )
        assert response.status_code == 200, response.get_json()
        return response.get_json()["user_id"]

    def learner_with_phone(
        self, username: str = "asha55", email: str = "asha55@example.org", phone: str = "+919876543210"
    ) -> int:
        return self.create_account(username, email, phone=phone, timezone="Asia/Kolkata")

    def codes(self, key: str, count: int = 1) -> list[str]:
        response = self.post(
            "/enrollment-codes/generate", json={"course_id": key, "total_registration_codes": str(count)}
        )
        assert response.status_code == 200, response.get_json()
        return response.get_json()["codes"]


def shared_course(author: AuthorClient, *partners: BearerClient) -> str:
    """The course key of a running delivery (the three-day course, day 1 on 2026-12-01 09:00
    local) shared with these partners."""
    delivery_id = running_delivery(author)
    for partner in partners:
        assert share(author, delivery_id, partner.partner).status_code == 200
    return author.get(f"/api/delivery/{delivery_id}").get_json()["course_key"]
