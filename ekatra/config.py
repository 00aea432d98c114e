"""Settings read from the environment: one class, documented defaults (DESIGN §8)."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

SANDBOX_ACCOUNT_SID = "ACsandbox00000000000000000000000000"
SANDBOX_AUTH_TOKEN = "sandbox-auth-token"
SANDBOX_SMS_FROM = "+15005550006"
SANDBOX_WHATSAPP_FROM = "whatsapp:+14155238886"

MAX_REQUEST_BYTES = 1024 * 1024


DEFAULT_OPT_OUT_KEYWORDS = "STOP,STOPALL,UNSUBSCRIBE,CANCEL,END,QUIT,REVOKE,OPTOUT,रोकें,रोको,बंद"
DEFAULT_OPT_IN_KEYWORDS = "START,UNSTOP,YES,शुरू"
DEFAULT_HELP_KEYWORDS = "HELP,INFO,मदद"
DEFAULT_HELP_TEXT = ("Ekatra: answer a question by replying to it. Reply STOP to stop all messages, "
                     "START to get them again.")
DEFAULT_BOOLEAN_YES_WORDS = "हाँ,हां,हा,जी,जी हाँ,जी हां,han,haan"
DEFAULT_BOOLEAN_NO_WORDS = "नहीं,नही,ना,nahi,nahin"


def _words(value: str) -> tuple[str, ...]:
    """A comma-separated setting as a tuple of its non-empty, trimmed items."""
    return tuple(word.strip() for word in value.split(",") if word.strip())


class ConfigurationError(RuntimeError):
    """Raised at start-up when a setting is missing or malformed."""


def normalise_database_url(url: str) -> str:
    """Accept Heroku-style `postgres://` URLs and use the psycopg 3 driver for PostgreSQL."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _instance_secret(instance_path: Path, name: str) -> str:
    """A development secret generated once per instance folder and kept there."""
    instance_path.mkdir(parents=True, exist_ok=True)
    path = instance_path / name
    if path.exists():
        return path.read_text().strip()
    value = secrets.token_urlsafe(48)
    path.write_text(value)
    path.chmod(0o600)
    return value


class Config:
    """Everything the app and the worker read from the environment.

    | variable | meaning | default |
    | DATABASE_URL | SQLAlchemy URL; `postgres://` accepted | SQLite file `instance/ekatra.db` |
    | SECRET_KEY, JWT_SECRET_KEY | signing keys | generated once per instance in development |
    | EKATRA_ENV | `development` or `production` | development |
    | PUBLIC_BASE_URL | the URL Twilio and learners reach this app at | http://127.0.0.1:5000 |
    | TWILIO_* | provider credentials and senders | the built-in sandbox |
    | MAIL_SERVER, MAIL_PORT, MAIL_USERNAME, MAIL_PASSWORD, MAIL_USE_TLS, MAIL_FROM | SMTP |
      unset: reset links are logged |
    | JWT_ACCESS_MINUTES, JWT_REFRESH_DAYS | token lifetimes | 60 minutes, 30 days |
    | BCRYPT_ROUNDS | password hash cost | 12 |
    | SEND_RATE_PER_SECOND, SEND_CONCURRENCY | per worker process | 50, 32 |
    | SEND_TIMEOUT_SECONDS | how long one request to Twilio may take | 10 |
    | OUTBOX_LEASE_SECONDS | how long a claimed message is held before the recovery may reconcile it;
      more than twice SEND_TIMEOUT_SECONDS | 60 |
    | RECOVER_INTERVAL_SECONDS | how often the worker looks for expired leases | 30 |
    """

    def __init__(self, environ: dict[str, str] | None = None, instance_path: str | Path = "instance"):
        env = dict(os.environ if environ is None else environ)
        instance = Path(instance_path)
        self.EKATRA_ENV = env.get("EKATRA_ENV", "development")
        self.is_production = self.EKATRA_ENV == "production"

        missing = [
            name
            for name in ("DATABASE_URL", "SECRET_KEY", "JWT_SECRET_KEY", "PUBLIC_BASE_URL")
            if self.is_production and not env.get(name)
        ]
        if self.is_production:
            missing += [
                name
                for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN")
                if not env.get(name)
            ]
        if missing:
            raise ConfigurationError(
                "EKATRA_ENV=production needs these settings, which are not set: "
                + ", ".join(missing)
            )

        database_url = env.get("DATABASE_URL") or f"sqlite:///{(instance / 'ekatra.db').resolve()}"
        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(database_url)
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
        self.SECRET_KEY = env.get("SECRET_KEY") or _instance_secret(instance, "secret_key")
        self.JWT_SECRET_KEY = env.get("JWT_SECRET_KEY") or _instance_secret(instance, "jwt_secret_key")
        self.JWT_ACCESS_TOKEN_EXPIRES = timedelta(minutes=int(env.get("JWT_ACCESS_MINUTES", "60")))
        self.JWT_REFRESH_TOKEN_EXPIRES = timedelta(days=int(env.get("JWT_REFRESH_DAYS", "30")))
        self.JWT_ERROR_MESSAGE_KEY = "message"
        self.BCRYPT_ROUNDS = int(env.get("BCRYPT_ROUNDS", "12"))
        self.MAX_CONTENT_LENGTH = MAX_REQUEST_BYTES
        self.PUBLIC_BASE_URL = env.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/")

        self.TWILIO_ACCOUNT_SID = env.get("TWILIO_ACCOUNT_SID", SANDBOX_ACCOUNT_SID)
        self.TWILIO_AUTH_TOKEN = env.get("TWILIO_AUTH_TOKEN", SANDBOX_AUTH_TOKEN)
        uses_messaging_service = bool(env.get("TWILIO_MESSAGING_SERVICE_SID"))
        self.TWILIO_SMS_FROM = env.get("TWILIO_SMS_FROM", "" if uses_messaging_service else SANDBOX_SMS_FROM)
        self.TWILIO_MESSAGING_SERVICE_SID = env.get("TWILIO_MESSAGING_SERVICE_SID", "")
        self.TWILIO_WHATSAPP_FROM = env.get("TWILIO_WHATSAPP_FROM", SANDBOX_WHATSAPP_FROM)
        self.TWILIO_API_BASE_URL = env.get("TWILIO_API_BASE_URL", "https://api.twilio.com").rstrip("/")
        self.SEND_RATE_PER_SECOND = float(env.get("SEND_RATE_PER_SECOND", "50"))
        self.SEND_CONCURRENCY = int(env.get("SEND_CONCURRENCY", "32"))
        self.SEND_TIMEOUT_SECONDS = float(env.get("SEND_TIMEOUT_SECONDS", "10"))
        self.OUTBOX_LEASE_SECONDS = float(env.get("OUTBOX_LEASE_SECONDS", "60"))
        self.RECOVER_INTERVAL_SECONDS = float(env.get("RECOVER_INTERVAL_SECONDS", "30"))
        if self.OUTBOX_LEASE_SECONDS <= 2 * self.SEND_TIMEOUT_SECONDS:
            # A send starts only while twice its timeout is left on the lease (outbox/dispatch.py).
            raise ConfigurationError(
                f"OUTBOX_LEASE_SECONDS ({self.OUTBOX_LEASE_SECONDS:g}) must exceed twice "
                f"SEND_TIMEOUT_SECONDS ({self.SEND_TIMEOUT_SECONDS:g})")
        if self.RECOVER_INTERVAL_SECONDS <= 0:
            raise ConfigurationError("RECOVER_INTERVAL_SECONDS must be positive")

        self.OPT_OUT_KEYWORDS = _words(env.get("OPT_OUT_KEYWORDS", DEFAULT_OPT_OUT_KEYWORDS))
        self.OPT_IN_KEYWORDS = _words(env.get("OPT_IN_KEYWORDS", DEFAULT_OPT_IN_KEYWORDS))
        self.HELP_KEYWORDS = _words(env.get("HELP_KEYWORDS", DEFAULT_HELP_KEYWORDS))
        self.HELP_TEXT = env.get("HELP_TEXT", DEFAULT_HELP_TEXT)
        self.BOOLEAN_YES_WORDS = _words(env.get("BOOLEAN_YES_WORDS", DEFAULT_BOOLEAN_YES_WORDS))
        self.BOOLEAN_NO_WORDS = _words(env.get("BOOLEAN_NO_WORDS", DEFAULT_BOOLEAN_NO_WORDS))

        self.MAIL_SERVER = env.get("MAIL_SERVER", "")
        self.MAIL_PORT = int(env.get("MAIL_PORT", "587"))
        self.MAIL_USERNAME = env.get("MAIL_USERNAME", "")
        self.MAIL_PASSWORD = env.get("MAIL_PASSWORD", "")
        self.MAIL_USE_TLS = env.get("MAIL_USE_TLS", "true").lower() in ("1", "true", "yes")
        self.MAIL_FROM = env.get("MAIL_FROM", "no-reply@ekatra.local")

        self.API_TITLE = "Ekatra"
        self.API_VERSION = "1.0"
        self.OPENAPI_VERSION = "3.0.3"
        self.OPENAPI_URL_PREFIX = "/"
        self.OPENAPI_JSON_PATH = "openapi.json"
        self.OPENAPI_SWAGGER_UI_PATH = "/"
        self.OPENAPI_SWAGGER_UI_URL = "/swagger-ui-assets/"
        self.OPENAPI_SWAGGER_UI_CONFIG = {"persistAuthorization": True}
        # Every route needs a bearer token unless its view says otherwise.
        self.API_SPEC_OPTIONS = {
            "security": [{"bearerAuth": []}],
            "info": {"description": (
                "Courses delivered as a drip of SMS and WhatsApp messages. Sign up or log in with "
                "`POST /api/auth/login`, press **Authorize** and paste the `access_token`. "
                "Every error is JSON: `{\"message\": ..., \"errors\": {field: [...]}}`."
            )},
        }

    def as_dict(self) -> dict:
        return {key: value for key, value in vars(self).items() if key.isupper()}
