"""GET /healthz for load balancers and operators."""

from __future__ import annotations

from flask import Response, current_app, request
from flask.views import MethodView
from marshmallow import fields

from ekatra import clock, metrics
from ekatra.health import services
from ekatra.http import PUBLIC, Blueprint
from ekatra.schemas import BaseSchema

blp = Blueprint("health", __name__, description="Service health")


class HealthSchema(BaseSchema):
    status = fields.String(metadata={"example": "ok"})
    database = fields.String(metadata={"example": "ok"})
    migrations = fields.Dict(metadata={"example": {"current": "0001", "head": "0001"}})
    last_worker_heartbeat_age_seconds = fields.Float(allow_none=True, metadata={"example": 3.2})


@blp.route("/healthz")
class Healthz(MethodView):
    @blp.doc(security=PUBLIC)
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, schema=HealthSchema, description="Database unreachable or schema behind")
    def get(self):
        """Database reachable, migrations at head, age of the last worker heartbeat"""
        health = services.check(clock.now())
        body = {
            "status": "ok" if health.is_healthy else "unhealthy",
            "database": "ok" if health.database_ok else f"unreachable ({health.database_error})",
            "migrations": {"current": health.migrations_current, "head": health.migrations_head},
            "last_worker_heartbeat_age_seconds": health.last_heartbeat_age_seconds,
        }
        return body, 200 if health.is_healthy else 503


class ReadySchema(BaseSchema):
    status = fields.String(metadata={"example": "ready"})
    message = fields.String(metadata={"example": "not ready: no worker heartbeat yet"})
    reasons = fields.List(fields.String(), metadata={"example": []})


@blp.route("/readyz")
class Readyz(MethodView):
    @blp.doc(security=PUBLIC)
    @blp.response(200, ReadySchema)
    @blp.alt_response(503, schema=ReadySchema, description="Not ready, with the reasons")
    def get(self):
        """Ready to work: database reachable, migrations at head, a worker heartbeat within 60 s"""
        reasons = services.not_ready_reasons(services.check(clock.now()))
        if not reasons:
            return {"status": "ready", "message": "ready", "reasons": []}
        return {"status": "not ready", "message": "not ready: " + "; ".join(reasons), "reasons": reasons}, 503


@blp.route("/metrics")
class Metrics(MethodView):
    @blp.doc(responses={"200": {"description": "Prometheus text format",
                                "content": {"text/plain": {"schema": {"type": "string"}}}}})
    @blp.alt_response(401, description="METRICS_TOKEN is set and the bearer token is not it")
    @blp.alt_response(403, description="Production without METRICS_TOKEN: metrics are off")
    def get(self):
        """Prometheus metrics of the web processes (bearer METRICS_TOKEN; open in development)"""
        metrics.authorize_scrape(request.headers.get("Authorization"),
                                 token=current_app.config["METRICS_TOKEN"],
                                 is_production=current_app.config["EKATRA_ENV"] == "production")
        body, content_type = metrics.exposition()
        return Response(body, content_type=content_type)
