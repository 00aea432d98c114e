"""Double-submit CSRF for the server-rendered pages (the cohort portals, the OAuth login page,
the set-password page): a random token in an HttpOnly, SameSite=Strict cookie scoped to the
pages' path, and the same token in a hidden `csrf_token` field of each form. A POST whose field
differs from its cookie (or comes without either) was not sent from our page and is refused by
the page (each answers in its own words)."""

from __future__ import annotations

import hmac
import secrets

from flask import current_app, g, request

FIELD = "csrf_token"


class FormCsrf:
    """The token of one group of pages: `cookie` names it, `path` scopes it."""

    def __init__(self, cookie: str, path: str):
        self.cookie, self.path = cookie, path
        self._new = f"ekatra.csrf.{cookie}"

    def token(self) -> str:
        """The token the page's form carries: the cookie's, or a new one set with the response."""
        token = request.cookies.get(self.cookie) or g.get(self._new)
        if not token:
            token = secrets.token_urlsafe(24)
            setattr(g, self._new, token)
        return token

    def is_valid(self) -> bool:
        """The request's form field equals its cookie (compared in constant time)."""
        cookie, sent = request.cookies.get(self.cookie, ""), request.form.get(FIELD, "")
        return bool(cookie) and hmac.compare_digest(cookie.encode(), sent.encode())

    def set_cookie(self, response):
        """After a request: the new token's cookie, when the page made one."""
        token = g.get(self._new)
        if token:
            response.set_cookie(self.cookie, token, httponly=True, samesite="Strict", path=self.path,
                                secure=current_app.config["PUBLIC_BASE_URL"].startswith("https://"))
        return response
