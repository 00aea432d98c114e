"""GET /healthz for load balancers and operators."""

from __future__ import annotations

from flask.views import MethodView
from marshmallow import fields

from ekatra import clock
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
