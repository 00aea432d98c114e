"""`ekatra demo` and `ekatra serve`: web, worker and Twilio sandbox in one process.

`demo` adds a demo author, a three-day course (day 3 in Hindi), three learners in three
timezones (one on WhatsApp) and a delivery with a day every three minutes and a reminder one
minute after an unanswered question (no quiet hours, so one arrives whatever the hour), then
prints each message as the sandbox receives it. The sandbox keeps WhatsApp's window (WHATSAPP_WINDOW_SECONDS):
the WhatsApp learner, who never wrote, first gets the opener template; in the demo they tap its
button a few seconds later and the day follows (questions with quick-reply buttons). `serve`
is the same without the demo data and without the automatic taps.
"""

from __future__ import annotations

import functools
import logging
import signal
import threading
from datetime import timedelta

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select
from werkzeug.serving import WSGIRequestHandler, make_server

from ekatra import clock
from ekatra.partners.headers import add_underscore_headers

DEMO_EMAIL = "demo@ekatra.local"
DEMO_PASSWORD = "demo-password"
DEMO_INTERVAL_MINUTES = 3
DEMO_REMINDERS = {"after_minutes": [1], "quiet_hours": None, "pause_after_silent_days": 0}

SAMPLE_COURSE = {
    "name": "Money basics",
    "author": "Ekatra",
    "description": "Three short lessons on saving, by text message.",
    "language": "en",
    "days": [
        {
            "text": "Welcome! Each day you get one short lesson and a question or two. "
                    "Today: a budget is a plan for your money. Write down what comes in and "
                    "what goes out each week.",
            "questions": [
                {"question": "Is a budget a plan for your money?", "type": "boolean",
                 "correct-answer": "yes"},
                {"question": "Which one is a saving habit?", "type": "choice",
                 "options": ["Spend first, save what is left", "Save first, then spend"],
                 "correct-answer": "B"},
            ],
        },
        {
            "text": "An emergency fund is money kept aside for surprises: a doctor's visit, a "
                    "broken phone. Aim for one month of expenses, saved a little at a time.",
            "questions": [
                {"question": "How many months of expenses is a good first goal?", "type": "Q/A",
                 "correct-answer": "1", "accepted_answers": ["one", "one month"]},
            ],
        },
        {
            "text": "बचत की आदत: हर हफ़्ते अपनी आमदनी का एक छोटा हिस्सा अलग रखें। "
                    "छोटी रकम भी समय के साथ बड़ी हो जाती है।",
            "questions": [
                {"question": "क्या छोटी बचत भी समय के साथ बढ़ती है?", "type": "boolean",
                 "correct-answer": "yes"},
                {"question": "What did you learn this week? Reply in a few words.", "type": "open"},
            ],
        },
    ],
}

SAMPLE_GROUP = {
    "name": "Demo learners",
    "description": "Three learners in three timezones",
    "students": [
        {"name": "Asha", "number": "+919812345678", "channel": "sms", "timezone": "Asia/Kolkata"},
        {"name": "Kofi", "number": "+233241234567", "channel": "whatsapp", "timezone": "Africa/Accra"},
        {"name": "Maria", "number": "+12125550143", "channel": "sms", "timezone": "America/New_York"},
    ],
}


def seed_demo_data(now) -> tuple[int, int, int]:
    """Create the demo author, course and group unless they exist. Returns their ids."""
    from ekatra.auth import services as auth
    from ekatra.auth.models import Author
    from ekatra.courses import services as courses
    from ekatra.courses.schemas import CourseSchema
    from ekatra.extensions import db
    from ekatra.groups import services as groups
    from ekatra.groups.schemas import GroupSchema

    author = db.session.scalar(select(Author).where(Author.email == DEMO_EMAIL))
    if author is None:
        author = auth.signup(name="Demo Author", email=DEMO_EMAIL, contact=None,
                             password=DEMO_PASSWORD, now=now,
                             rounds=current_app.config["BCRYPT_ROUNDS"])
    actor = auth.Actor(author.id)
    course = next((c for c in courses.list_courses(actor) if c.name == SAMPLE_COURSE["name"]), None)
    if course is None:
        course = courses.create_course(actor, **CourseSchema().load(SAMPLE_COURSE), now=now)
    group = next((g for g in groups.list_groups(actor) if g.name == SAMPLE_GROUP["name"]), None)
    if group is None:
        group = groups.create_group(actor, GroupSchema().load(SAMPLE_GROUP), now=now)
    return author.id, course.id, group.id


def start_demo_delivery(author_id: int, course_id: int, group_id: int, now, *,
                        whatsapp_opener_content_sid: str = "") -> int:
    """A delivery of the sample course starting in a few seconds, a day every three minutes, with a
    reminder one minute after an unanswered question."""
    from ekatra.auth.services import Actor
    from ekatra.deliveries import services as deliveries

    start = (now + timedelta(seconds=5)).replace(microsecond=0)
    delivery = deliveries.create_delivery(Actor(author_id), group_id, course_id,
                                          schedule_at=start.isoformat(), timezone=None,
                                          cadence="minutes", interval=DEMO_INTERVAL_MINUTES, now=now,
                                          reminders=DEMO_REMINDERS,
                                          whatsapp_opener_content_sid=whatsapp_opener_content_sid)
    return delivery.id


def _print_message(message: dict) -> None:
    body = message["body"].replace("\n", " | ")
    click.echo(f"  {message['date_created']:%H:%M:%S}  -> {message['to']}: {body}")


class RequestHandler(WSGIRequestHandler):
    """Werkzeug's handler with the partner contract's `jwt_token` / `access_token` headers,
    by the rule gunicorn.conf.py applies too (ekatra/partners/headers.py)."""

    def make_environ(self):
        return add_underscore_headers(super().make_environ(), self.headers.items())


def make_web_server(app, host: str, port: int):
    """The web server of `serve` and `demo` (Werkzeug's, threaded)."""
    return make_server(host, port, app, threaded=True, request_handler=RequestHandler)


TAP_AFTER_SECONDS = 3.0


def _tapping_learner(sandbox_ref: list) -> callable:
    """The demo's WhatsApp learner: taps an opener's button a few seconds after it arrives."""

    def on_message(message: dict) -> None:
        _print_message(message)
        if message["content_sid"] and message["buttons"] == ["Start"]:
            def tap():
                click.echo(f"  (the learner {message['to']} taps \"Start\")")
                sandbox_ref[0].tap(message["to"], "Start")

            timer = threading.Timer(TAP_AFTER_SECONDS, tap)
            timer.daemon = True
            timer.start()

    return on_message


def show_metrics(app, public: str) -> list[str]:
    """Web and worker share this one process: its /metrics shows both, the outbox's depth too."""
    from ekatra.metrics import REGISTRY
    from ekatra.worker import OutboxCollector

    REGISTRY.register(OutboxCollector(app))
    return [f"Metrics:         {public}/metrics  (Prometheus text: requests, sends, outbox depth)",
            f"Readiness:       {public}/readyz  (ready once the worker's first heartbeat is in)"]


def run_all_in_one(app, host: str, port: int, sandbox_port: int, banner: list[str], *,
                   learners_tap: bool = False) -> None:
    """Sandbox, worker and web server in this process until Ctrl-C."""
    from ekatra.config import (
        SANDBOX_CHOICE2_CONTENT_SID,
        SANDBOX_CHOICE3_CONTENT_SID,
        SANDBOX_YES_NO_CONTENT_SID,
        TEST_SANDBOX_ACCOUNT_SID,
        TEST_SANDBOX_AUTH_TOKEN,
    )
    from ekatra.sandbox.server import Sandbox
    from scheduler.__main__ import start_in_background, stop

    public = f"http://{host}:{port}"
    sandbox_ref: list = []
    sandbox = Sandbox(host=host, port=sandbox_port, inbound_url=f"{public}/twilio/inbound",
                      account_sid=app.config["TWILIO_ACCOUNT_SID"],
                      auth_token=app.config["TWILIO_AUTH_TOKEN"],
                      on_message=_tapping_learner(sandbox_ref) if learners_tap else _print_message,
                      whatsapp_window_seconds=app.config["WHATSAPP_WINDOW_SECONDS"])
    sandbox_ref.append(sandbox)
    # Test partners' learners (keys pk_test_…) get their messages here, on an account of its own
    # (its replies are told apart by their AccountSid), never through the sandbox above.
    test_sandbox = Sandbox(host=host, port=0, inbound_url=f"{public}/twilio/inbound",
                           account_sid=TEST_SANDBOX_ACCOUNT_SID, auth_token=TEST_SANDBOX_AUTH_TOKEN,
                           on_message=_print_message,
                           whatsapp_window_seconds=app.config["WHATSAPP_WINDOW_SECONDS"])
    # The sandbox knows these quick-reply templates; a real deployment names its own approved ones.
    for name, sid in (("BOOLEAN", SANDBOX_YES_NO_CONTENT_SID), ("CHOICE2", SANDBOX_CHOICE2_CONTENT_SID),
                      ("CHOICE3", SANDBOX_CHOICE3_CONTENT_SID)):
        app.config[f"WHATSAPP_QUICK_REPLY_{name}_CONTENT_SID"] = (
            app.config[f"WHATSAPP_QUICK_REPLY_{name}_CONTENT_SID"] or sid)
    try:
        sandbox.start()
        test_sandbox.start()
        server = make_web_server(app, host, port)
    except OSError as error:
        sandbox.stop()
        test_sandbox.stop()
        raise click.ClickException(f"cannot listen on {host}: {error}") from None
    app.config.update(TWILIO_API_BASE_URL=sandbox.url, PUBLIC_BASE_URL=public,
                      TWILIO_TEST_API_BASE_URL=test_sandbox.url,
                      TWILIO_TEST_ACCOUNT_SID=TEST_SANDBOX_ACCOUNT_SID,
                      TWILIO_TEST_AUTH_TOKEN=TEST_SANDBOX_AUTH_TOKEN)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the sandbox page polls every 2 s
    scheduler, worker = start_in_background(app)
    click.echo("")
    click.echo(f"  Swagger UI:      {public}/")
    for line in banner:
        click.echo(f"  {line}")
    click.echo(f"  Twilio sandbox:  {sandbox.url}/  (each phone's conversation)")
    click.echo(f"  Test sandbox:    {test_sandbox.url}/  (test partners' learners: keys pk_test_…)")
    for line in show_metrics(app, public):
        click.echo(f"  {line}")
    click.echo("  Press Ctrl-C to stop.")
    click.echo("")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("\nStopping…")
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the cleanup
        stop(scheduler, worker)
        sandbox.stop()
        test_sandbox.stop()
        server.server_close()
        click.echo("Stopped.")


def _all_in_one(command):
    """The options and checks `demo` and `serve` share."""

    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", default=5000, show_default=True, type=int)
    @click.option("--sandbox-port", default=5001, show_default=True, type=int)
    @with_appcontext
    @functools.wraps(command)
    def wrapper(**options):
        from flask_migrate import upgrade

        from ekatra.config import SANDBOX_ACCOUNT_SID

        if current_app.config["TWILIO_ACCOUNT_SID"] != SANDBOX_ACCOUNT_SID:
            raise click.ClickException("This command sends through the built-in sandbox only; for "
                                       "real Twilio run the Procfile's web and worker processes.")
        upgrade()
        return command(current_app._get_current_object(), **options)

    return wrapper


@click.command("demo")
@_all_in_one
def demo_command(app, host: str, port: int, sandbox_port: int):
    """Upgrade the database, add demo data and a delivery, run web + worker + sandbox."""
    author_id, course_id, group_id = seed_demo_data(clock.now())
    delivery_id = start_demo_delivery(author_id, course_id, group_id, clock.now(),
                                      whatsapp_opener_content_sid=app.config["WHATSAPP_OPENER_CONTENT_SID"])
    run_all_in_one(app, host, port, sandbox_port, [
        f"Demo login:      {DEMO_EMAIL} / {DEMO_PASSWORD}",
        f"Delivery {delivery_id}: course {course_id} to group {group_id}, a day every three minutes "
        "(day 1 in a few seconds, day 3 about six minutes later).",
        "Leave a question unanswered: a reminder repeats it one minute later.",
        "WhatsApp (Kofi): outside the 24-hour window the opener template goes first; Kofi taps",
        "its Start button and the day follows. Tap buttons yourself on the sandbox page.",
        "Messages arrive below as the sandbox receives them:",
    ], learners_tap=True)


@click.command("serve")
@_all_in_one
def serve_command(app, host: str, port: int, sandbox_port: int):
    """Upgrade the database and run web + worker + sandbox, without demo data."""
    run_all_in_one(app, host, port, sandbox_port, [])
