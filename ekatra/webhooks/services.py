"""Webhook use cases: endpoints (register, list, change, delete, rotate, ping), recording events
in the caller's transaction, the delivery log and replays. Sending is in `delivery.py`.

Owners: an endpoint belongs to a partner or to an author, and each sees only its own (another
owner's endpoint is a 404). A partner receives events about its own learners, an author about
their own deliveries.

Modes: every event body says `"livemode": true|false`. An event about test data (a test
partner's learner, a delivery shared with a test partner) is `livemode` false and goes only to
endpoints registered with a test key; a live event never goes to those, and a test event never
to a live endpoint (an author's endpoints are live).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, insert, or_, select, update

from ekatra.errors import Invalid, InvalidState, NotFound
from ekatra.extensions import MAX_ID, db
from ekatra.webhooks.models import (
    FAILED,
    PENDING,
    SENDING,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from ekatra.webhooks.signing import new_secret
from ekatra.webhooks.targets import Resolver, TargetPolicy, UnsafeTarget, checked_addresses, system_resolver

# The event catalog: the Skill-Passport guide's names where they fit, and Ekatra's own.
EVENTS = (
    "student.created",       # a partner signed a learner up: {student_id, email, phone, name}
    "student.enrolled",      # {student_id, course_id, delivery_id}
    "assessment.completed",  # a graded answer: {student_id, course_id, question_id, correct}
    "course.completed",      # a certificate was issued: {student_id, course_id, certificate_url}
    "student.opted_out",     # {student_id, phone, channel, source}
    "message.failed",        # {message_id, student_id, delivery_id, error_code, error}
    "delivery.completed",    # {delivery_id, course_id, group_id}
)
PING = "ping"
ALL_EVENTS = "*"
SECRET_OVERLAP = timedelta(hours=24)
ENDPOINT_NOT_FOUND = "Webhook endpoint not found."
MAX_ENDPOINTS_PER_OWNER = 20


@dataclass(frozen=True)
class Owner:
    """Who registers endpoints and receives their events: one partner or one author."""

    partner_id: int | None = None
    author_id: int | None = None
    livemode: bool = True  # a partner's mode; an author is live


@dataclass(frozen=True)
class Registered:
    endpoint: WebhookEndpoint
    secret: str


@dataclass(frozen=True)
class EventFor:
    """One event to record, with whom it concerns: the author of the delivery (if any) and the
    partners whose learner it is about."""

    data: dict
    author_id: int | None = None
    partner_ids: tuple[int, ...] = ()
    livemode: bool = True


# Endpoints ------------------------------------------------------------------------------------


def _owned(owner: Owner):
    if owner.partner_id is not None:
        return WebhookEndpoint.partner_id == owner.partner_id
    return WebhookEndpoint.author_id == owner.author_id


def find_endpoint(owner: Owner, endpoint_id: int) -> WebhookEndpoint:
    endpoint = (db.session.scalar(select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id,
                                                                _owned(owner)))
                if 0 < endpoint_id <= MAX_ID else None)
    if endpoint is None:
        raise NotFound(ENDPOINT_NOT_FOUND)
    return endpoint


def _checked_url(url: str, policy: TargetPolicy, resolve: Resolver) -> str:
    try:
        checked_addresses(url, policy, resolve)
    except UnsafeTarget as problem:
        raise Invalid(f"url: {problem}", {"url": [str(problem)]}) from None
    return url


def _checked_events(events: list[str]) -> str:
    unknown = sorted(set(events) - set(EVENTS) - {ALL_EVENTS})
    if unknown or not events:
        problem = ("Unknown event(s): " + ", ".join(unknown) if unknown else "Name at least one event.")
        raise Invalid(f"events: {problem}", {"events": [problem + f" Known: *, {', '.join(EVENTS)}."]})
    return json.dumps([ALL_EVENTS] if ALL_EVENTS in events else sorted(set(events)))


def register(owner: Owner, *, url: str, events: list[str], description: str, now: datetime,
             policy: TargetPolicy, resolve: Resolver = system_resolver) -> Registered:
    """A new endpoint and its secret (returned here once)."""
    count = db.session.scalar(select(func.count()).select_from(WebhookEndpoint).where(_owned(owner)))
    if count >= MAX_ENDPOINTS_PER_OWNER:
        raise InvalidState(f"At most {MAX_ENDPOINTS_PER_OWNER} webhook endpoints per account.")
    secret = new_secret()
    endpoint = WebhookEndpoint(partner_id=owner.partner_id, author_id=owner.author_id,
                               url=_checked_url(url, policy, resolve), events=_checked_events(events),
                               description=description, secret=secret, is_enabled=True,
                               livemode=owner.livemode, created_at=now, updated_at=now)
    db.session.add(endpoint)
    db.session.commit()
    return Registered(endpoint, secret)


def list_endpoints(owner: Owner) -> list[WebhookEndpoint]:
    return list(db.session.scalars(select(WebhookEndpoint).where(_owned(owner)).order_by(WebhookEndpoint.id)))


def change(owner: Owner, endpoint_id: int, fields: dict, *, now: datetime, policy: TargetPolicy,
           resolve: Resolver = system_resolver) -> WebhookEndpoint:
    """Change url, events, description or enabled. Enabling again clears the reason it was
    disabled and its failure streak; its failed deliveries can then be replayed."""
    endpoint = find_endpoint(owner, endpoint_id)
    if fields.get("url") is not None:
        endpoint.url = _checked_url(fields["url"], policy, resolve)
    if fields.get("events") is not None:
        endpoint.events = _checked_events(fields["events"])
    if fields.get("description") is not None:
        endpoint.description = fields["description"]
    if fields.get("enabled") is True and not endpoint.is_enabled:
        endpoint.is_enabled, endpoint.disabled_reason, endpoint.disabled_at = True, None, None
        endpoint.failing_since = None
    elif fields.get("enabled") is False and endpoint.is_enabled:
        _disable(endpoint, "Disabled by its owner.", now)
    endpoint.updated_at = now
    db.session.commit()
    return endpoint


def delete(owner: Owner, endpoint_id: int) -> None:
    db.session.delete(find_endpoint(owner, endpoint_id))
    db.session.commit()


def rotate_secret(owner: Owner, endpoint_id: int, *, now: datetime) -> Registered:
    """A new secret; the current one keeps signing beside it for 24 hours."""
    endpoint = find_endpoint(owner, endpoint_id)
    secret = new_secret()
    endpoint.previous_secret, endpoint.previous_secret_expires_at = endpoint.secret, now + SECRET_OVERLAP
    endpoint.secret, endpoint.updated_at = secret, now
    db.session.commit()
    return Registered(endpoint, secret)


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The secrets that sign a request now, the newest first."""
    if endpoint.previous_secret and endpoint.previous_secret_expires_at and \
            endpoint.previous_secret_expires_at > now:
        return [endpoint.secret, endpoint.previous_secret]
    return [endpoint.secret]


def _disable(endpoint: WebhookEndpoint, reason: str, now: datetime) -> None:
    """Disable the endpoint; what was still waiting for it fails (and can be replayed later)."""
    endpoint.is_enabled, endpoint.disabled_reason, endpoint.disabled_at = False, reason[:500], now
    db.session.execute(update(WebhookDelivery).where(
        WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.status == PENDING).values(
        status=FAILED, next_attempt_at=None, last_error="The endpoint was disabled.", updated_at=now))


# Events ---------------------------------------------------------------------------------------


def _subscribes(endpoint: WebhookEndpoint, event: str) -> bool:
    wanted = json.loads(endpoint.events)
    return ALL_EVENTS in wanted or event in wanted


def _body(event_id: str, event: str, data: dict, now: datetime, livemode: bool) -> str:
    return json.dumps({"id": event_id, "event": event, "livemode": livemode,
                       "timestamp": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "data": data},
                      ensure_ascii=False, separators=(",", ":"))


def new_event_id() -> str:
    return "evt_" + uuid.uuid4().hex


def record_event(event: str, data: dict, *, author_id: int | None, partner_ids: Iterable[int],
                 now: datetime, livemode: bool = True) -> str | None:
    """Record one event for the enabled endpoints of its owners that subscribe to it (and are of
    its mode), in the caller's transaction (no commit: it is sent only if the caller's change
    commits). Returns the event id, or None when no endpoint wants it (then nothing is written)."""
    return record_events(event, [EventFor(data, author_id, tuple(partner_ids), livemode)], now=now)[0]


def record_events(event: str, items: list[EventFor], *, now: datetime) -> list[str | None]:
    """`record_event` for many events of one kind (e.g. the failed messages of one dispatch run),
    set-based: one query for the endpoints, two inserts; no commit."""
    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    authors = {item.author_id for item in items if item.author_id is not None}
    partners = {partner for item in items for partner in item.partner_ids}
    if not authors and not partners:
        return [None] * len(items)
    endpoints = [endpoint for endpoint in db.session.scalars(select(WebhookEndpoint).where(
        WebhookEndpoint.is_enabled.is_(True),
        or_(WebhookEndpoint.author_id.in_(authors), WebhookEndpoint.partner_id.in_(partners))))
        if _subscribes(endpoint, event)]
    by_author: dict[tuple[int, bool], list[int]] = {}
    by_partner: dict[tuple[int, bool], list[int]] = {}
    for endpoint in endpoints:
        if endpoint.author_id is not None:
            by_author.setdefault((endpoint.author_id, endpoint.livemode), []).append(endpoint.id)
        else:
            by_partner.setdefault((endpoint.partner_id, endpoint.livemode), []).append(endpoint.id)
    event_rows, delivery_rows, ids = [], [], []
    for item in items:
        targets = set(by_author.get((item.author_id, item.livemode), []))
        for partner in item.partner_ids:
            targets.update(by_partner.get((partner, item.livemode), []))
        if not targets:
            ids.append(None)
            continue
        event_id = new_event_id()
        ids.append(event_id)
        event_rows.append({"id": event_id, "event": event, "created_at": now,
                           "body": _body(event_id, event, item.data, now, item.livemode)})
        delivery_rows.extend({"endpoint_id": endpoint_id, "event_id": event_id, "status": PENDING,
                              "attempts": 0, "next_attempt_at": now, "created_at": now, "updated_at": now}
                             for endpoint_id in sorted(targets))
    if event_rows:
        db.session.execute(insert(WebhookEvent), event_rows)
        db.session.execute(insert(WebhookDelivery), delivery_rows)
    return ids


def queue_ping(owner: Owner, endpoint_id: int, *, now: datetime) -> WebhookDelivery:
    """A `ping` event for this endpoint only, committed and due at once (`delivery.ping` sends it)."""
    endpoint = find_endpoint(owner, endpoint_id)
    event_id = new_event_id()
    db.session.add(WebhookEvent(id=event_id, event=PING, created_at=now, body=_body(
        event_id, PING, {"endpoint_id": endpoint.id, "message": "Ekatra webhook test"}, now,
        endpoint.livemode)))
    delivery = WebhookDelivery(endpoint_id=endpoint.id, event_id=event_id, status=PENDING, attempts=0,
                               next_attempt_at=now, created_at=now, updated_at=now)
    db.session.add(delivery)
    db.session.commit()
    return delivery


# The delivery log and replays -----------------------------------------------------------------


@dataclass(frozen=True)
class AttemptPage:
    attempts: list[WebhookAttempt]
    page: int
    per_page: int
    total: int


def attempts(owner: Owner, endpoint_id: int, *, page: int, per_page: int,
             event_id: str | None = None) -> AttemptPage:
    """The endpoint's attempts, newest first."""
    endpoint = find_endpoint(owner, endpoint_id)
    where = [WebhookAttempt.endpoint_id == endpoint.id]
    if event_id:
        where.append(WebhookAttempt.event_id == event_id)
    total = db.session.scalar(select(func.count()).select_from(WebhookAttempt).where(*where))
    rows = db.session.scalars(select(WebhookAttempt).where(*where).order_by(WebhookAttempt.id.desc())
                              .offset((page - 1) * per_page).limit(per_page))
    return AttemptPage(list(rows), page, per_page, total)


def retry(owner: Owner, endpoint_id: int, event_id: str, *, now: datetime) -> WebhookDelivery:
    """Replay one event to this endpoint: due at once, with the same id and body, and a fresh
    retry schedule."""
    endpoint = find_endpoint(owner, endpoint_id)
    delivery = db.session.scalar(select(WebhookDelivery).where(
        WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.event_id == event_id[:40]))
    if delivery is None:
        raise NotFound("This endpoint has no such event.")
    if not endpoint.is_enabled:
        raise InvalidState("The endpoint is disabled: enable it (PATCH enabled=true) first. "
                           f"It was disabled because: {endpoint.disabled_reason}")
    if delivery.status in (PENDING, SENDING):
        raise InvalidState(f"This event is already on its way ({delivery.status}).")
    delivery.status, delivery.attempts, delivery.next_attempt_at = PENDING, 0, now
    delivery.lease_until, delivery.updated_at = None, now
    db.session.commit()
    return delivery
