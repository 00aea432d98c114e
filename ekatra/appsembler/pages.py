"""The set-password page of accounts created without a password: /appsembler/set-password/<token>,
opened from the link in the learner's mail or SMS.

A plain server-rendered form (any phone browser; no script). It carries a CSRF token that must
equal the page's cookie (SameSite=Strict), so another site cannot post it even to a link it
learnt. The page is never cached and sends no referrer (the token is in its URL).
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template_string, request

from ekatra import clock
from ekatra.appsembler import accounts
from ekatra.csrf import FormCsrf
from ekatra.errors import DomainError, Invalid

pages = Blueprint("appsembler_pages", __name__)

CSRF = FormCsrf("ekatra_password_csrf", "/appsembler/")

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{{ title }}</title></head>
<body style="font-family: sans-serif; max-width: 30em; margin: 2em auto; padding: 0 1em">
<h1>{{ title }}</h1>
{% if message %}<p>{{ message }}</p>{% endif %}
{% if form %}
<p>Hello {{ name }}. Choose a password for your account <strong>{{ username }}</strong>
(at least 8 characters).</p>
{% for problem in problems %}<p role="alert" style="color: #a00">{{ problem }}</p>{% endfor %}
<form method="post">
<input type="hidden" name="csrf_token" value="{{ csrf }}">
<p><label>New password<br><input type="password" name="password" autocomplete="new-password" required
 minlength="8" maxlength="72"></label></p>
<p><label>Repeat it<br><input type="password" name="confirm" autocomplete="new-password" required
 minlength="8" maxlength="72"></label></p>
<p><button type="submit">Set my password</button></p>
</form>
{% endif %}
</body></html>"""


@pages.after_request
def _private(response):
    CSRF.set_cookie(response)
    response.headers["Cache-Control"] = "no-store"
    return response


def _page(title: str, status: int = 200, **context):
    html = render_template_string(PAGE, title=title, message=context.pop("message", None),
                                  form=context.pop("form", False), problems=context.pop("problems", []),
                                  **context)
    return current_app.response_class(html, status=status, mimetype="text/html")


def _gone():
    return _page("This link does not work", 404, message=(
        "The link is not valid, was used already, or has expired. Ask the organisation that "
        "created your account to send you a new one."))


@pages.route("/appsembler/set-password/<string:token>", methods=["GET", "POST"])
def set_password(token: str):
    now = clock.now()
    try:
        account = accounts.account_of_link(token, now)
    except DomainError:
        return _gone()
    form = {"form": True, "name": account.full_name, "username": account.username, "csrf": CSRF.token()}
    if request.method == "GET":
        return _page("Set your password", **form)
    if not CSRF.is_valid():
        return _page("Set your password", 403, problems=[
            "This form has expired. Reload the page and send it again."], **form)
    try:
        accounts.set_password_by_link(token, request.form.get("password", ""),
                                      request.form.get("confirm", ""), now=now,
                                      rounds=current_app.config["BCRYPT_ROUNDS"])
    except Invalid as problem:
        return _page("Set your password", 400, problems=[problem.message], **form)
    except DomainError:
        return _gone()
    return _page("Your password is set", message=(
        f"Your account is active. You can now sign in with your username {account.username} "
        "and your new password."))
