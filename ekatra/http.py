"""HTTP conventions shared by every blueprint: argument parsing, content types, OpenAPI."""

from __future__ import annotations

from pathlib import Path

import flask_smorest
from flask import Flask, request, send_from_directory
from flask_smorest import Api
from webargs.flaskparser import FlaskParser

from ekatra.errors import error_body

BEARER = [{"bearerAuth": []}]
PUBLIC: list = []

# Request bodies other than JSON are accepted only by the endpoints listed here.
NON_JSON_ENDPOINTS = {"groups.GroupImport", "twilio.StatusCallback", "twilio.InboundMessage"}


class Parser(FlaskParser):
    """Invalid input is a 400, as the contract and DESIGN §7 say, not webargs' 422."""

    DEFAULT_VALIDATION_STATUS = 400


class Blueprint(flask_smorest.Blueprint):
    """A flask-smorest blueprint whose argument errors are 400s."""

    ARGUMENTS_PARSER = Parser()


def register_http_conventions(app: Flask) -> None:
    @app.before_request
    def require_json_bodies():
        if request.method not in ("POST", "PUT", "PATCH") or not request.path.startswith("/api/"):
            return None
        if request.endpoint in NON_JSON_ENDPOINTS:
            return None
        has_body = (request.content_length or 0) > 0 or request.headers.get("Transfer-Encoding")
        if has_body and not request.is_json:
            return (
                error_body("Request bodies must be JSON (Content-Type: application/json)"),
                415,
            )
        return None


def register_openapi(app: Flask, api: Api) -> None:
    """Bearer auth for "Authorize" in Swagger UI, and Swagger UI's files served locally."""
    api.spec.components.security_scheme(
        "bearerAuth",
        {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
         "description": "The `access_token` from POST /api/auth/login."},
    )
    for name, header in (("partnerAccessKey", "ST-ACCESS-KEY"), ("partnerSecretKey", "ST-SECRET-KEY")):
        api.spec.components.security_scheme(name, {
            "type": "apiKey", "in": "header", "name": header,
            "description": "Partner API keys (`ekatra partner create NAME`)."})
    import swagger_ui_bundle

    assets = Path(swagger_ui_bundle.swagger_ui_path)

    @app.get("/swagger-ui-assets/<path:filename>")
    def swagger_ui_assets(filename: str):
        return send_from_directory(assets, filename, max_age=86400)
