"""/api/webhooks: endpoints of partners (key headers) and authors (bearer token), their
secrets, a test ping, the delivery log and replays."""

from __future__ import annotations

from flask import current_app, g, request
from flask.views import MethodView

from ekatra import clock
from ekatra.auth.tokens import verify_author_token
from ekatra.errors import Unavailable
from ekatra.http import Blueprint, authenticated_by, set_caller
from ekatra.partners import services as partners
from ekatra.partners.tokens import PARTNER_KEYS
from ekatra.webhooks import delivery, services
from ekatra.webhooks.schemas import (
    AttemptPageSchema,
    AttemptQueryArgsSchema,
    DeliverySchema,
    EndpointCreateSchema,
    EndpointListSchema,
    EndpointSchema,
    EndpointUpdateSchema,
    PingResultSchema,
    SecretSchema,
)
from ekatra.webhooks.targets import policy_for

blp = Blueprint("webhooks", __name__, description="Webhooks: signed event notifications, "
                                                  "for partners (key headers) and authors (token)")
OWNER_SECURITY = [{"bearerAuth": []}, *PARTNER_KEYS]
OWNER = "ekatra.webhook_owner"


def _authenticate_owner() -> None:
    """Partner keys when ST-ACCESS-KEY is sent, else an author's bearer token."""
    if request.headers.get("ST-ACCESS-KEY"):
        partner = partners.authenticate_partner(request.headers.get("ST-ACCESS-KEY"),
                                                request.headers.get("ST-SECRET-KEY"))
        request.environ[OWNER] = services.Owner(partner_id=partner.id, livemode=partner.livemode)
        set_caller(f"partner:{partner.id}")
        return
    verify_author_token()
    author_id = g.login_session.actor.author_id
    request.environ[OWNER] = services.Owner(author_id=author_id)
    set_caller(f"author:{author_id}")


owner_required = authenticated_by(_authenticate_owner)


def _owner() -> services.Owner:
    return request.environ[OWNER]


def _policy():
    return policy_for(current_app.config)


def webhook_sender():
    """The app's webhook sender (tests put a fake or a pinned one in app.extensions)."""
    sender = current_app.extensions.get("ekatra.webhook_sender")
    if sender is None:
        raise Unavailable("Webhook sending is not configured.")
    return sender


@blp.route("/api/webhooks")
class Endpoints(MethodView):
    @blp.doc(security=OWNER_SECURITY)
    @blp.response(200, EndpointListSchema)
    @owner_required
    def get(self):
        """List your webhook endpoints"""
        return {"data": services.list_endpoints(_owner())}

    @blp.doc(security=OWNER_SECURITY)
    @blp.arguments(EndpointCreateSchema)
    @blp.response(201, SecretSchema)
    @owner_required
    def post(self, body):
        """Register a webhook endpoint (its secret is shown once)"""
        registered = services.register(_owner(), url=body["url"], events=body["events"],
                                       description=body["description"], now=clock.now(), policy=_policy())
        return {"id": registered.endpoint.id, "secret": registered.secret}


@blp.route("/api/webhooks/<int:endpoint_id>")
class EndpointById(MethodView):
    @blp.doc(security=OWNER_SECURITY)
    @blp.response(200, EndpointSchema)
    @owner_required
    def get(self, endpoint_id):
        """One webhook endpoint (and why it was disabled, if it was)"""
        return services.find_endpoint(_owner(), endpoint_id)

    @blp.doc(security=OWNER_SECURITY)
    @blp.arguments(EndpointUpdateSchema)
    @blp.response(200, EndpointSchema)
    @owner_required
    def patch(self, body, endpoint_id):
        """Change url, events, description, or enable/disable an endpoint"""
        return services.change(_owner(), endpoint_id, body, now=clock.now(), policy=_policy())

    @blp.doc(security=OWNER_SECURITY)
    @blp.response(204)
    @owner_required
    def delete(self, endpoint_id):
        """Delete a webhook endpoint"""
        services.delete(_owner(), endpoint_id)


@blp.route("/api/webhooks/<int:endpoint_id>/rotate-secret")
class RotateSecret(MethodView):
    @blp.doc(security=OWNER_SECURITY)
    @blp.response(200, SecretSchema)
    @owner_required
    def post(self, endpoint_id):
        """A new secret; the old one keeps signing beside it for 24 hours"""
        registered = services.rotate_secret(_owner(), endpoint_id, now=clock.now())
        return {"id": registered.endpoint.id, "secret": registered.secret}


@blp.route("/api/webhooks/<int:endpoint_id>/test")
class Ping(MethodView):
    @blp.doc(security=OWNER_SECURITY)
    @blp.response(200, PingResultSchema)
    @owner_required
    def post(self, endpoint_id):
        """Send a `ping` event to the endpoint now and report the attempt"""
        return delivery.ping(webhook_sender(), _owner(), endpoint_id, now=clock.now(),
                             policy=delivery.Policy.from_config(current_app.config))


@blp.route("/api/webhooks/<int:endpoint_id>/deliveries")
class Deliveries(MethodView):
    @blp.doc(security=OWNER_SECURITY)
    @blp.arguments(AttemptQueryArgsSchema, location="query")
    @blp.response(200, AttemptPageSchema)
    @owner_required
    def get(self, args, endpoint_id):
        """The delivery log: every attempt, newest first, paginated"""
        return services.attempts(_owner(), endpoint_id, page=args["page"], per_page=args["per_page"],
                                 event_id=args["event_id"])


@blp.route("/api/webhooks/<int:endpoint_id>/deliveries/<string:event_id>/retry")
class Retry(MethodView):
    @blp.doc(security=OWNER_SECURITY)
    @blp.response(202, DeliverySchema)
    @owner_required
    def post(self, endpoint_id, event_id):
        """Replay one event to this endpoint (sent by the worker at once, same id and body)"""
        return services.retry(_owner(), endpoint_id, event_id, now=clock.now())
