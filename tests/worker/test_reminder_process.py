"""A reminder through the real worker process: an unanswered question is repeated at the sandbox."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from ekatra.extensions import db
from ekatra.outbox.models import Message
from ekatra.sandbox import Sandbox
from tests.conftest import test_environ
from tests.deliveries.factories import KOLKATA, course_and_group, create_delivery
from tests.worker.test_worker_process import ROOT


def test_the_worker_reminds_a_learner_who_left_the_question_unanswered_once(app, author, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("one process test is enough; the planner's reminders are tested on both databases")
    course_id, group_id = course_and_group(author, students=(KOLKATA,))
    create_delivery(author, group_id, course_id, schedule_at="2020-01-01T00:00:00Z",  # long due
                    reminders={"after_minutes": [1], "quiet_hours": None})
    phone = KOLKATA["number"]
    with Sandbox(callbacks=False) as sandbox:
        env = {**os.environ, **test_environ(database_url, TWILIO_API_BASE_URL=sandbox.url)}
        worker = subprocess.Popen([sys.executable, "-m", "scheduler"], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            assert sandbox.wait_for(2, timeout=30)  # day 1: text and question
            # The question went out a minute and a half ago (rather than waiting a minute here).
            question = Message.part.like("question-%")

            def question_sent_at():
                db.session.rollback()  # a fresh read of what the worker wrote
                return db.session.scalar(select(Message.sent_at).where(question))

            assert sandbox.wait_until(lambda: question_sent_at() is not None, timeout=30)
            sent_at = question_sent_at()
            earlier = sent_at - timedelta(seconds=90)
            db.session.execute(update(Message).where(question).values(sent_at=earlier))
            db.session.commit()
            assert sandbox.wait_until(lambda: len(sandbox.messages(phone)) >= 3, timeout=30)
            reminder = sandbox.messages(phone)[2]["body"]
            assert reminder.splitlines()[:2] == ["Reminder: we would love your answer.",
                                                 "Q1. Is a budget a plan?"]
        finally:
            worker.send_signal(signal.SIGTERM)
            output, _ = worker.communicate(timeout=25)
    assert worker.returncode == 0, output
    assert len(sandbox.messages(phone)) == 3, "the reminder once"
