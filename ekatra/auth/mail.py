"""Outgoing e-mail (password reset links): SMTP when configured, otherwise the log."""

from __future__ import annotations

import logging
import smtplib
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


class LogMailer:
    """Development mailer: writes the message to the log so a person can follow the link."""

    def send(self, to: str, subject: str, body: str) -> None:
        log.info("mail to %s (no MAIL_SERVER set): %s\n%s", to, subject, body)


@dataclass
class FakeMailer:
    """Test double: keeps what was sent."""

    sent: list[tuple[str, str, str]] = field(default_factory=list)

    def send(self, to: str, subject: str, body: str) -> None:
        self.sent.append((to, subject, body))


def mailer_from_config(config) -> SmtpMailer | LogMailer:
    if config.get("MAIL_SERVER"):
        return SmtpMailer(
            host=config["MAIL_SERVER"],
            port=config["MAIL_PORT"],
            username=config["MAIL_USERNAME"],
            password=config["MAIL_PASSWORD"],
            use_tls=config["MAIL_USE_TLS"],
            sender=config["MAIL_FROM"],
        )
    return LogMailer()
