"""The learner side of "Log in with Ekatra": who may log in through a client, and what
/api/v1/me shows them (by scope)."""

from __future__ import annotations

import contextlib
from datetime import datetime

from sqlalchemy import select

from ekatra.auth.passwords import check_password
from ekatra.errors import Invalid, Unauthorized
from ekatra.extensions import db
from ekatra.oauth.models import OAuthClient, OAuthToken
from ekatra.partners import services as partners
from ekatra.partners.learners import course_progress
from ekatra.partners.models import LearnerAccount, Partner

WRONG_LOGIN = "Either id or password is incorrect."


def login_learner(client: OAuthClient, *, login: str, password: str, now: datetime) -> LearnerAccount:
    """The learner who may log in through this client with these credentials.

    A partner's client accepts that partner's learner accounts only. A client registered
    without a partner accepts any partner's learner, provided the login id names exactly one
    account (an id known to several partners must log in through a partner's own client).
    Failed attempts count towards the partner's login limit (5 per 15 minutes per id)."""
    if client.partner_id is not None:
        partner = db.session.get(Partner, client.partner_id)
        return partners.check_login(partner, login=login, password=password, now=now)
    login_id = login.strip()[:254]
    with contextlib.suppress(Invalid):
        login_id = partners.normalise_login_id(login)[0]
    accounts = list(db.session.scalars(select(LearnerAccount).where(LearnerAccount.login_id == login_id)
                                       .limit(2)))
    if len(accounts) != 1:
        check_password(password, None)  # the same bcrypt work as a real check
        raise Unauthorized(WRONG_LOGIN)
    partner = db.session.get(Partner, accounts[0].partner_id)
    return partners.check_login(partner, login=login, password=password, now=now)


def profile(account: LearnerAccount, token: OAuthToken) -> dict:
    """What the token's scopes let its client read about the learner: `profile` the name,
    `email` the email, `courses` their courses and progress (as the learner's partner sees them)."""
    scopes = set(token.scope.split())
    body: dict = {"id": account.id}
    if "profile" in scopes:
        body["name"] = account.full_name
    if "email" in scopes:
        body["email"] = account.email
    if "courses" in scopes:
        partner = db.session.get(Partner, account.partner_id)
        body["courses"] = [{
            "course_id": item.course.id, "course_name": item.course.name, "delivery_id": item.delivery.id,
            "progress": round(item.progress, 1), "days_received": item.days_received,
            "total_days": item.total_days, "is_finished": item.is_finished,
            "last_received_at": item.last_received_at.isoformat() if item.last_received_at else None,
        } for item in course_progress(partner, account.id)]
    return body
