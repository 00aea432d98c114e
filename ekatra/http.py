"""HTTP conventions shared by every blueprint: authentication before parsing, argument parsing,
text that can be stored, request size, content types, security headers, OpenAPI."""

from __future__ import annotations

import base64
import hashlib
import io
import re
from collections.abc import Callable
from functools import wraps
from pathlib import Path

import flask_smorest
from flask import Flask, Response, current_app, request, send_from_directory
from flask_smorest import Api
from marshmallow import ValidationError
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import RequestEntityTooLarge

from ekatra.errors import Invalid, error_body

BEARER = [{"bearerAuth": []}]
PUBLIC: list = []

# Request bodies other than JSON are accepted only by the endpoints listed here.
NON_JSON_ENDPOINTS = {"groups.GroupImport", "twilio.StatusCallback", "twilio.InboundMessage",
                      "partner_bulk.BulkImport"}
# Endpoints whose bodies may exceed MAX_CONTENT_LENGTH, up to the setting named here.
LARGE_BODY_ENDPOINTS = {"partner_bulk.BulkImport": "BULK_IMPORT_MAX_BYTES"}

# The attribute a view's authentication decorator leaves on its wrapper (see `authenticated_by`).
AUTHENTICATE_ATTRIBUTE = "__ekatra_authenticate__"

BAD_TEXT_MESSAGE = "Contains a NUL character or a lone UTF-16 surrogate, which cannot be stored."
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")

READ_CHUNK_BYTES = 64 * 1024


# Authentication before parsing ------------------------------------------------------------------


def authenticated_by(check: Callable[[], None]):
    """Decorator factory for authentication decorators (`author_required`, `partner_required`).

    `check()` raises (or aborts) when the request's credentials are refused. The wrapper carries
    the check as `__ekatra_authenticate__`, so `Blueprint.arguments` runs it before the body is
    parsed (an unauthenticated caller learns nothing about the fields); it runs once per request
    either way."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            authenticate(check)
            return view(*args, **kwargs)

        setattr(wrapper, AUTHENTICATE_ATTRIBUTE, check)
        return wrapper

    return decorate


def authenticate(check: Callable[[], None]) -> None:
    """Run `check` unless it already passed in this request (kept in the request's environ:
    `g` lives as long as the app context, which a test may hold across requests); then, once
    the caller is known, the app's after-authentication hooks (the Idempotency-Key replay)."""
    passed = request.environ.setdefault("ekatra.authenticated", [])
    if any(done is check for done in passed):
        return
    check()
    passed.append(check)
    if request.environ.get(CALLER) and not request.environ.get(HOOKS_RAN):
        request.environ[HOOKS_RAN] = True
        for hook in current_app.extensions.get(AFTER_AUTHENTICATION, ()):
            hook()


CALLER = "ekatra.caller"
HOOKS_RAN = "ekatra.after_authentication_ran"
AFTER_AUTHENTICATION = "ekatra.after_authentication"


def set_caller(caller: str) -> None:
    """Called by an authentication check that accepted the request: who is calling
    ("author:<id>", "partner:<id>"), for the per-caller conventions (Idempotency-Key)."""
    request.environ[CALLER] = caller


def current_caller() -> str | None:
    return request.environ.get(CALLER)


# Parsing ----------------------------------------------------------------------------------------


def bad_text_errors(value, path: tuple[str, ...] = ()) -> dict:
    """Marshmallow-style errors ({field: {index: {field: [message]}}}) for every string in a parsed
    JSON value (keys included) that holds a NUL or a lone surrogate; {} when all is well.

    Python's json module decodes "\\udc00" into a lone surrogate, which no database can store
    and no UTF-8 encoder accepts; PostgreSQL refuses NUL in text."""
    errors: dict = {}

    def add(where: tuple[str, ...]) -> None:
        node = errors
        for part in where[:-1]:
            node = node.setdefault(part, {})
        node.setdefault(where[-1] if where else "_schema", []).append(BAD_TEXT_MESSAGE)

    def walk(node, where: tuple[str, ...]) -> None:
        if isinstance(node, str):
            if _BAD_TEXT.search(node):
                add(where)
        elif isinstance(node, dict):
            for key, item in node.items():
                if isinstance(key, str) and _BAD_TEXT.search(key):
                    add((*where, printable(key)))
                else:
                    walk(item, (*where, str(key)))
        elif isinstance(node, list):
            for index, item in enumerate(node):
                walk(item, (*where, str(index)))

    walk(value, path)
    return errors


def printable(text: str) -> str:
    """`text` with NUL and lone surrogates written as escapes, safe to put in a message."""
    return _BAD_TEXT.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def body_text(name: str) -> str | None:
    """A string field of the request's JSON object body, if it is there and storable text."""
    body = request.get_json(silent=True) if request.is_json else None
    value = body.get(name) if isinstance(body, dict) else None
    return value if isinstance(value, str) and not _BAD_TEXT.search(value) else None


class Parser(FlaskParser):
    """Invalid input is a 400, as the contract and DESIGN §7 say, not webargs' 422; text that
    cannot be stored (NUL, lone surrogates) is invalid input, named by its field."""

    DEFAULT_VALIDATION_STATUS = 400

    def pre_load(self, location_data, *, schema, req, location):
        if location in ("json", "json_or_form"):
            errors = bad_text_errors(location_data)
        elif location in ("query", "querystring", "form"):
            values = req.args if location != "form" else req.form
            errors = {printable(key): [BAD_TEXT_MESSAGE] for key, value in values.items(multi=True)
                      if _BAD_TEXT.search(key) or _BAD_TEXT.search(value)}
        else:
            errors = {}
        if errors:
            raise ValidationError(errors)
        return location_data


class Blueprint(flask_smorest.Blueprint):
    """A flask-smorest blueprint whose argument errors are 400s, and whose views authenticate
    before they parse."""

    ARGUMENTS_PARSER = Parser()

    def arguments(self, schema, **kwargs):
        parse = super().arguments(schema, **kwargs)

        def decorator(view):
            parsed = parse(view)
            check = getattr(view, AUTHENTICATE_ATTRIBUTE, None)
            if check is None:
                return parsed

            @wraps(parsed)
            def wrapper(*args, **kwargs):
                authenticate(check)
                return parsed(*args, **kwargs)

            return wrapper

        return decorator


# Requests ---------------------------------------------------------------------------------------


class UnsizedBodies:
    """WSGI middleware: a body sent without Content-Length (chunked) is read into memory here,
    and refused whole (413) past MAX_CONTENT_LENGTH.

    Werkzeug caps such a stream at MAX_CONTENT_LENGTH and `get_data()` then returns the first
    that many bytes as if they were all: a CSV import took the first megabyte's rows. Read here,
    before Flask builds its request, the body gets a real Content-Length and every later reader
    sees all of it or nothing. Servers that de-chunk (gunicorn, Werkzeug's) set
    `wsgi.input_terminated`; without it Werkzeug reads such a body as empty, and nothing is cut."""

    def __init__(self, wsgi_app, flask_app: Flask):
        self.wsgi_app, self.flask_app = wsgi_app, flask_app

    def __call__(self, environ, start_response):
        # Read up to the largest limit of any route; the route's own is checked once it is known.
        limit = self.flask_app.config.get("MAX_CONTENT_LENGTH")
        if limit is not None:
            limit = max([limit, *(self.flask_app.config.get(name) or 0
                                  for name in LARGE_BODY_ENDPOINTS.values())])
        if limit is not None and not environ.get("CONTENT_LENGTH") and "wsgi.input_terminated" in environ:
            body = _read_at_most(environ["wsgi.input"], limit + 1)
            if len(body) > limit:
                environ[BODY_TOO_LARGE], body = True, b""
            environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
            # No longer chunked for the app: Werkzeug ignores Content-Length beside "chunked".
            del environ["wsgi.input_terminated"]
            environ.pop("HTTP_TRANSFER_ENCODING", None)
        return self.wsgi_app(environ, start_response)


BODY_TOO_LARGE = "ekatra.body_too_large"


def _read_at_most(stream, size: int) -> bytes:
    chunks, read = [], 0
    while read < size:
        chunk = stream.read(min(READ_CHUNK_BYTES, size - read))
        if not chunk:
            break
        chunks.append(chunk)
        read += len(chunk)
    return b"".join(chunks)


def register_http_conventions(app: Flask) -> None:
    app.wsgi_app = UnsizedBodies(app.wsgi_app, app)

    @app.before_request
    def size_large_bodies():
        # First of the hooks: the rate limit and Idempotency-Key hooks may read the body.
        setting = LARGE_BODY_ENDPOINTS.get(request.endpoint)
        if setting and app.config.get(setting):
            request.max_content_length = app.config[setting]

    @app.before_request
    def refuse_oversized_unsized_bodies():
        if request.environ.get(BODY_TOO_LARGE):
            raise RequestEntityTooLarge()

    @app.before_request
    def refuse_unstorable_path_text():
        bad = [name for name, value in (request.view_args or {}).items()
               if isinstance(value, str) and _BAD_TEXT.search(value)]
        if bad:
            raise Invalid("Invalid input: the path " + BAD_TEXT_MESSAGE.lower(),
                          {name: [BAD_TEXT_MESSAGE] for name in bad})

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

    register_security_headers(app)


def client_address() -> str:
    """The client's IP address: the peer's, or with TRUSTED_PROXIES set the one the nearest
    trusted proxy saw (ProxyFix, wired in create_app)."""
    return request.remote_addr or "unknown"


# Responses --------------------------------------------------------------------------------------

_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE)


def _script_hashes(html: str) -> str:
    """CSP sources that allow exactly the page's own inline scripts (Swagger UI's start-up)."""
    digests = {base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
               for script in _INLINE_SCRIPT.findall(html)}
    return "".join(f" 'sha256-{digest}'" for digest in sorted(digests))


def page_policy(html: str) -> str:
    """The Content-Security-Policy of an HTML page: its own assets and inline scripts only.

    Inline styles stay allowed: Swagger UI sets style attributes and the certificate page has
    one; a style cannot run code."""
    return ("default-src 'self'; script-src 'self'" + _script_hashes(html) + "; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
            "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


NON_PAGE_POLICY = "default-src 'none'; frame-ancestors 'none'"
HSTS = "max-age=31536000; includeSubDomains"


def register_security_headers(app: Flask) -> None:
    """Every response: no MIME sniffing, no framing, no referrer; a CSP (a page's own, or
    nothing at all for JSON and files); HSTS in production, where PUBLIC_BASE_URL is https."""
    in_production = app.config.get("EKATRA_ENV") == "production"

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "no-referrer")
        if "Content-Security-Policy" not in headers:
            if response.mimetype == "text/html" and not response.direct_passthrough:
                headers["Content-Security-Policy"] = page_policy(response.get_data(as_text=True))
            elif response.mimetype != "application/pdf":
                headers["Content-Security-Policy"] = NON_PAGE_POLICY
            else:
                headers["Content-Security-Policy"] = "frame-ancestors 'none'"
        if in_production:
            headers.setdefault("Strict-Transport-Security", HSTS)
        return response


def register_openapi(app: Flask, api: Api) -> None:
    """Bearer auth for "Authorize" in Swagger UI, and Swagger UI's files served locally."""
    api.spec.components.security_scheme(
        "bearerAuth",
        {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
         "description": "The `access_token` from POST /api/auth/login."},
    )
    api.spec.components.security_scheme(
        "appsemblerBearer",
        {"type": "http", "scheme": "bearer",
         "description": "A partner's OAuth access token (client-credentials grant, scope `partner`): "
                        "the Appsembler API (/appsembler_api/v0)."},
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
