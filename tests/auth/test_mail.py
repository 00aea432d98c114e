"""Password reset links travel by SMTP when MAIL_SERVER is set."""

from __future__ import annotations

import socket

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from ekatra.auth.mail import ConsoleMailer, SmtpMailer, UnsentMailer, mailer_from_config


class Inbox(Message):
    def __init__(self):
        super().__init__()
        self.messages = []

    def handle_message(self, message):
        self.messages.append(message)


@pytest.fixture
def smtp_server():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def test_mailer_is_smtp_only_when_a_server_is_configured():
    assert isinstance(mailer_from_config({"MAIL_SERVER": "", "EKATRA_ENV": "development"}),
                      ConsoleMailer)
    assert isinstance(mailer_from_config({"MAIL_SERVER": "", "EKATRA_ENV": "production"}),
                      UnsentMailer)
    smtp = mailer_from_config({"MAIL_SERVER": "mail.example.org", "MAIL_PORT": 25,
                               "MAIL_USERNAME": "", "MAIL_PASSWORD": "", "MAIL_USE_TLS": False,
                               "MAIL_FROM": "x@example.org"})
    assert isinstance(smtp, SmtpMailer) and smtp.host == "mail.example.org"


def test_forgot_password_mails_the_reset_link_over_smtp(app, client, author, smtp_server):
    inbox, port = smtp_server
    app.extensions["ekatra.mailer"] = SmtpMailer(host="127.0.0.1", port=port, use_tls=False,
                                                 sender="no-reply@ekatra.test")
    response = client.post("/api/auth/forgot", json={"email": author.email.upper()})
    assert response.status_code == 200
    (message,) = inbox.messages
    assert message["To"] == author.email
    assert message["From"] == "no-reply@ekatra.test"
    assert "http://ekatra.test/api/auth/reset/" in message.get_payload()
