"""Outgoing e-mail (password reset links): SMTP when configured; otherwise, in development, the
console, and in production nothing but a warning that a mail could not be sent.

A reset link is a password: it never goes to a log. Only the console mailer of development
shows it, on the console (stderr), which is the documented way to reset a password locally
without SMTP.
"""

from __future__ import annotations

import logging
import smtplib
import sys
from dataclasses import dataclass, field
from email.message import EmailMessage

log = logging.getLogger(__name__)


@dataclass
class SmtpMailer:
    host: str
    port: int
    username: str = ""
    password: str = ""
    use_tls: bool = True
    sender: str = "no-reply@ekatra.local"

    def send(self, to: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, to, subject
        message.set_content(body)
        with smtplib.SMTP(self.host, self.port, timeout=10) as smtp:
            if self.use_tls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password)
            smtp.send_message(message)


class ConsoleMailer:
    """Development without SMTP: prints the message on the console (stderr), not to the log."""

    def __init__(self, stream=None):
        self._stream = stream

    def send(self, to: str, subject: str, body: str) -> None:
        stream = self._stream or sys.stderr
        print(f"--- mail to {to} (no MAIL_SERVER set): {subject}\n{body}---", file=stream, flush=True)


class UnsentMailer:
    """Production without SMTP: the mail cannot go out; says so in the log, without its body."""

    def send(self, to: str, subject: str, body: str) -> None:
        log.warning("mail not sent (no MAIL_SERVER set): %r", subject)


@dataclass
class FakeMailer:
    """Test double: keeps what was sent."""

    sent: list[tuple[str, str, str]] = field(default_factory=list)

    def send(self, to: str, subject: str, body: str) -> None:
        self.sent.append((to, subject, body))


def mailer_from_config(config) -> SmtpMailer | ConsoleMailer | UnsentMailer:
    if config.get("MAIL_SERVER"):
        return SmtpMailer(
            host=config["MAIL_SERVER"],
            port=config["MAIL_PORT"],
            username=config["MAIL_USERNAME"],
            password=config["MAIL_PASSWORD"],
            use_tls=config["MAIL_USE_TLS"],
            sender=config["MAIL_FROM"],
        )
    if config.get("EKATRA_ENV", "development") == "development":
        return ConsoleMailer()
    return UnsentMailer()
