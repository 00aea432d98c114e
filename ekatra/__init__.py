"""Ekatra: courses delivered as a drip of SMS and WhatsApp messages."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

__all__ = ["create_app"]


def create_app(config: dict | None = None, environ: dict[str, str] | None = None) -> Flask:
    """Build the Flask app: settings, extensions, blueprints, error handlers. Only wiring."""
    from flask_smorest import Api

    from ekatra.config import Config
    from ekatra.errors import register_error_handlers
    from ekatra.extensions import db, jwt, migrate
    from ekatra.http import register_http_conventions, register_openapi
    from ekatra.logs import configure_logging, register_request_ids
    from ekatra.read_only import register_read_requests

    app = Flask(__name__, instance_path=str(Path.cwd() / "instance"))
    app.config.from_mapping(Config(environ, instance_path=app.instance_path).as_dict())
    if config:
        app.config.from_mapping(config)
    if app.config.get("TRUSTED_PROXIES"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        # X-Forwarded-For/-Proto are believed only as far as the operator's own proxies go.
        proxies = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    configure_logging(app.config["EKATRA_ENV"] == "production")
    register_request_ids(app)  # first: every later hook's log lines carry the request's id

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    jwt.init_app(app)
    api = Api(app, spec_kwargs={"servers": [{"url": "/"}]})
    register_openapi(app, api)
    register_error_handlers(app)
    register_http_conventions(app)
    register_read_requests(app)

    import ekatra.appsembler.models  # noqa: F401
    import ekatra.idempotency.models  # noqa: F401
    import ekatra.outbox.models  # noqa: F401  (every table known to the metadata and Alembic)
    import ekatra.webhooks.models  # noqa: F401
    from ekatra.appsembler.auth import PREFIX as APPSEMBLER_PREFIX
    from ekatra.appsembler.auth import bearer_caller
    from ekatra.appsembler.pages import pages as appsembler_pages
    from ekatra.appsembler.routes import blp as appsembler_blp
    from ekatra.auth.mail import mailer_from_config
    from ekatra.auth.routes import blp as auth_blp
    from ekatra.auth.tokens import register_token_callbacks
    from ekatra.cohorts.routes import blp as cohorts_blp
    from ekatra.courses.routes import blp as courses_blp
    from ekatra.deliveries.routes import blp as deliveries_blp
    from ekatra.deliveries.services import withdraw_students
    from ekatra.groups.routes import blp as groups_blp
    from ekatra.groups.services import when_students_removed
    from ekatra.health.routes import blp as health_blp
    from ekatra.idempotency.http import init_idempotency
    from ekatra.inbound.routes import blp as twilio_blp
    from ekatra.oauth.portal import portal as oauth_portal
    from ekatra.oauth.routes import blp as me_blp
    from ekatra.oauth.routes import endpoints as oauth_endpoints
    from ekatra.oauth.schemas import register_security_scheme
    from ekatra.oauth.server import init_oauth_server
    from ekatra.partners.audience import PartnerAudience
    from ekatra.partners.bulk_routes import blp as partner_bulk_blp
    from ekatra.partners.routes import blp as partners_blp
    from ekatra.ratelimits import identify_callers, init_rate_limits
    from ekatra.webhooks import audience
    from ekatra.webhooks.routes import blp as webhooks_blp
    from ekatra.webhooks.sender import HttpSender
    from ekatra.webhooks.targets import policy_for

    when_students_removed(withdraw_students)  # students leaving a group leave its deliveries
    audience.register(PartnerAudience())  # whose learner an event is about, for webhooks
    register_token_callbacks(jwt, app)
    app.extensions["ekatra.mailer"] = mailer_from_config(app.config)
    app.extensions["ekatra.webhook_sender"] = HttpSender(
        policy_for(app.config), timeout_seconds=app.config["WEBHOOK_TIMEOUT_SECONDS"])
    init_idempotency(app)
    init_rate_limits(app)
    identify_callers(app, APPSEMBLER_PREFIX, bearer_caller)  # OAuth bearer partners
    init_oauth_server(app)
    # The RFC 6749 endpoints (described by their discovery document) and the login page: not in
    # the OpenAPI document.
    app.register_blueprint(oauth_endpoints)
    app.register_blueprint(oauth_portal)
    register_security_scheme(api)
    for blueprint in (auth_blp, courses_blp, groups_blp, deliveries_blp, health_blp, twilio_blp,
                      partners_blp, partner_bulk_blp, webhooks_blp, cohorts_blp, me_blp,
                      appsembler_blp):
        api.register_blueprint(blueprint)
    app.register_blueprint(appsembler_pages)
    from ekatra.graphql.routes import register_graphql

    register_graphql(app)
    from ekatra.health.metrics import register_request_metrics

    register_request_metrics(app)  # last: its middleware wraps every other one

    from ekatra.auth.cli import create_admin_command
    from ekatra.graphql.cli import graphql_group
    from ekatra.oauth.cli import oauth_group
    from ekatra.partners.cli import partner_command

    # The app's own commands (also under `flask --app app`); the `ekatra` command adds the
    # processes around the app: demo, serve, worker, sandbox, bench.
    app.cli.add_command(create_admin_command)
    app.cli.add_command(partner_command)
    app.cli.add_command(graphql_group)
    app.cli.add_command(oauth_group)
    return app
