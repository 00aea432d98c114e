"""`ekatra demo`: the API on SQLite with a demo author, a sample course and a sample group."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from ekatra import clock

DEMO_EMAIL = "demo@ekatra.local"
DEMO_PASSWORD = "demo-password"

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


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def demo_command(host: str, port: int):
    """Upgrade the database, add demo data and serve the API with its Swagger UI."""
    from flask_migrate import upgrade
    from werkzeug.serving import run_simple

    upgrade()
    _, course_id, group_id = seed_demo_data(clock.now())
    app = current_app._get_current_object()
    base = f"http://{host}:{port}"
    click.echo("")
    click.echo(f"  Swagger UI:  {base}/")
    click.echo(f"  Demo login:  {DEMO_EMAIL} / {DEMO_PASSWORD}")
    click.echo(f"  Sample course {course_id} and group {group_id} belong to the demo author.")
    click.echo("  Press Ctrl-C to stop.")
    click.echo("")
    run_simple(host, port, app, threaded=True, use_reloader=False)
