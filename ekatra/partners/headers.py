"""The partner contract's underscore headers (`jwt_token`, `access_token`) through our web servers.

WSGI names a header `HTTP_` + its name with `-` turned into `_`, so `jwt_token` and `jwt-token`
land on one key and either could pass for the other. gunicorn (`header_map = "drop"`) and
Werkzeug's server therefore drop every header name with an underscore, and the contract's
headers never reached the app. Both servers we ship apply this one rule instead, before the
WSGI environ is built (gunicorn: the `pre_request` hook of gunicorn.conf.py; Werkzeug: the
request handler of `ekatra serve`/`demo`):

- the allow-listed underscore names (`UNDERSCORE_HEADERS`) are renamed to a reserved name
  (`jwt_token` → `X-Ekatra-Underscore-Jwt-Token`);
- any header the client sent under the reserved prefix itself (with dashes or underscores)
  is removed, so the reserved name can only come from the rename;
- every other underscore name is dropped, as gunicorn's default does (gunicorn's own
  exception, forwarder headers such as SCRIPT_NAME from a trusted proxy, is kept).

The app reads the underscore form from the reserved name and the dash form (`jwt-token`)
from its own name, and refuses a request where the two disagree (`tokens.learner_header`).
This module imports only the standard library: gunicorn's master loads it with its settings.
"""

from __future__ import annotations

from collections.abc import Iterable

UNDERSCORE_HEADERS = frozenset({"JWT_TOKEN", "ACCESS_TOKEN"})
RESERVED_PREFIX = "X-EKATRA-UNDERSCORE-"
_RESERVED_ENVIRON_PREFIX = "HTTP_" + RESERVED_PREFIX.replace("-", "_")


def reserved_name(name: str) -> str:
    """The name an allow-listed underscore header reaches the app under."""
    return RESERVED_PREFIX + name.upper().replace("_", "-")


def rewrite(headers: Iterable[tuple[str, str]], keep: Iterable[str] = ()) -> list[tuple[str, str]]:
    """The request's (name, value) pairs after the rule above; `keep` names underscore
    headers the server itself lets through (gunicorn's trusted forwarder headers)."""
    kept = {name.upper() for name in keep}
    result = []
    for name, value in headers:
        upper = name.upper()
        if upper.replace("_", "-").startswith(RESERVED_PREFIX):
            continue
        if "_" in upper:
            if upper in UNDERSCORE_HEADERS:
                result.append((reserved_name(upper), value))
            elif upper in kept or "*" in kept:
                result.append((name, value))
            continue
        result.append((name, value))
    return result


def gunicorn_pre_request(worker, req) -> None:
    """gunicorn's `pre_request` hook: runs before the environ is built from `req.headers`.

    Needs `header_map = "dangerous"` (so gunicorn's parser keeps underscore names for this
    hook to sort out); `req._peer_trusted_for_forwarded` is gunicorn's own trust check for
    forwarder headers (without it, none is kept)."""
    trusted = getattr(req, "_peer_trusted_for_forwarded", None)
    forwarder_headers = trusted()[1] if trusted else ()
    req.headers = rewrite(req.headers, keep=forwarder_headers)
    worker.log.debug("%s %s", req.method, req.path)


def add_underscore_headers(environ: dict, headers: Iterable[tuple[str, str]]) -> dict:
    """For a server that builds the environ itself and drops underscore names (Werkzeug's):
    remove whatever it put under the reserved prefix and add the renamed underscore headers."""
    for key in [key for key in environ if key.startswith(_RESERVED_ENVIRON_PREFIX)]:
        del environ[key]
    for name, value in rewrite(headers):
        if name.startswith(RESERVED_PREFIX):
            key = "HTTP_" + name.replace("-", "_")
            value = value.replace("\r\n", "")
            environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ
