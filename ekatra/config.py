"""Settings read from the environment: one class, documented defaults (DESIGN §8)."""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

SANDBOX_ACCOUNT_SID = "ACsandbox00000000000000000000000000"
SANDBOX_AUTH_TOKEN = "sandbox-auth-token"
SANDBOX_SMS_FROM = "+15005550006"
SANDBOX_WHATSAPP_FROM = "whatsapp:+14155238886"
# Where test partners' messages go by default: `ekatra sandbox` on its default port, with its
# default account (`ekatra demo` and `serve` start a test sandbox of their own instead).
SANDBOX_DEFAULT_URL = "http://127.0.0.1:8765"
TEST_SANDBOX_ACCOUNT_SID = "ACsandboxtest000000000000000000000"
TEST_SANDBOX_AUTH_TOKEN = "sandbox-test-auth-token"
# The WhatsApp templates the sandbox's Content API stand-in knows (ekatra/sandbox/content.py).
SANDBOX_OPENER_CONTENT_SID = "HX00000000000000000000000000000001"
SANDBOX_YES_NO_CONTENT_SID = "HX00000000000000000000000000000002"
SANDBOX_CHOICE2_CONTENT_SID = "HX00000000000000000000000000000003"
SANDBOX_CHOICE3_CONTENT_SID = "HX00000000000000000000000000000004"
SANDBOX_NOTICE_CONTENT_SID = "HX00000000000000000000000000000005"

MAX_REQUEST_BYTES = 1024 * 1024
ENVIRONMENTS = ("development", "production")
MIN_SECRET_BYTES = 32  # HS256 wants a key at least as long as its 256-bit hash
TWILIO_API = "https://api.twilio.com"

# The worker's defaults, stated once: the outbox, the scheduler and the benchmarks import them.
DEFAULT_SEND_RATE_PER_SECOND = 50.0
DEFAULT_SEND_CONCURRENCY = 32
DEFAULT_SEND_TIMEOUT_SECONDS = 10.0
DEFAULT_OUTBOX_LEASE_SECONDS = 60.0
DEFAULT_RECOVER_INTERVAL_SECONDS = 30.0
# A pooled connection older than this is replaced at checkout. No ping on every checkout (a
# round trip per request): a connection the server dropped fails one request with a 503, and
# SQLAlchemy then replaces every connection of the pool.
DATABASE_POOL_RECYCLE_SECONDS = 1800


DEFAULT_OPT_OUT_KEYWORDS = "STOP,STOPALL,UNSUBSCRIBE,CANCEL,END,QUIT,REVOKE,OPTOUT,रोकें,रोको,बंद"
DEFAULT_OPT_IN_KEYWORDS = "START,UNSTOP,YES,शुरू"
DEFAULT_HELP_KEYWORDS = "HELP,INFO,मदद"
DEFAULT_RESUME_KEYWORDS = "RESUME,फिर से शुरू,जारी रखें,जारी"  # a learner paused for silence resumes
DEFAULT_HELP_TEXT = ("Ekatra: answer a question by replying to it. Reply STOP to stop all messages, "
                     "START to get them again.")
DEFAULT_BOOLEAN_YES_WORDS = "हाँ,हां,हा,जी,जी हाँ,जी हां,han,haan"
DEFAULT_BOOLEAN_NO_WORDS = "नहीं,नही,ना,nahi,nahin"


def _check_limit(name: str, value: str) -> None:
    """A rate limit setting must be a `limits` string ("600/minute", "10/second;500/hour")."""
    from limits import parse_many

    try:
        if not parse_many(value):
            raise ValueError(value)
    except ValueError:
        raise ConfigurationError(f"{name} must be a rate limit such as 600/minute, not {value!r}") from None


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


_JSON_DECODER = json.JSONDecoder()


def json_column_loads(data: str | bytes):
    """A JSON column's value from the database: `json.loads` without its detection of the text's
    encoding (psycopg hands PostgreSQL's UTF-8 bytes, SQLite a str): a course read decodes
    dozens of these."""
    return _JSON_DECODER.decode(data if isinstance(data, str) else data.decode("utf-8"))


def engine_options(database_url: str) -> dict:
    """SQLAlchemy engine settings: connections recycled after a while, never pinged per checkout;
    on PostgreSQL each connection prepares a statement from its second execution on (the read
    paths run the same few statements on every request)."""
    options: dict = {"pool_recycle": DATABASE_POOL_RECYCLE_SECONDS, "json_deserializer": json_column_loads}
    if database_url.startswith("postgresql+psycopg://"):
        options["connect_args"] = {"prepare_threshold": 1}
    return options


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


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_production(env: dict[str, str]) -> None:
    """Production refuses to start on missing, weak or sandbox settings, naming each problem."""
    required = ("DATABASE_URL", "SECRET_KEY", "JWT_SECRET_KEY", "PUBLIC_BASE_URL",
                "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN")
    missing = [name for name in required if not env.get(name)]
    if missing:
        raise ConfigurationError(
            "EKATRA_ENV=production needs these settings, which are not set: " + ", ".join(missing))
    problems = []
    if urlsplit(env["PUBLIC_BASE_URL"]).scheme != "https":
        problems.append("PUBLIC_BASE_URL must be an https:// URL")
    if env["TWILIO_ACCOUNT_SID"] == SANDBOX_ACCOUNT_SID:
        problems.append("TWILIO_ACCOUNT_SID is the sandbox's account")
    if env["TWILIO_AUTH_TOKEN"] == SANDBOX_AUTH_TOKEN:
        problems.append("TWILIO_AUTH_TOKEN is the sandbox's public token")
    api = urlsplit(env.get("TWILIO_API_BASE_URL", TWILIO_API))
    if api.scheme != "https" or _is_loopback(api.hostname or ""):
        problems.append("TWILIO_API_BASE_URL must be an https:// URL that is not loopback "
                        "(the sandbox is for development)")
    if not env.get("RATELIMIT_STORAGE_URI", "").startswith(("redis://", "rediss://", "redis+sentinel://")):
        problems.append("RATELIMIT_STORAGE_URI must name a Redis server (redis://…) that every web "
                        "process shares")
    if env["SECRET_KEY"] == env["JWT_SECRET_KEY"]:
        problems.append("SECRET_KEY and JWT_SECRET_KEY must differ")
    if problems:
        raise ConfigurationError("EKATRA_ENV=production refuses to start: " + "; ".join(problems))


class Config:
    """Everything the app and the worker read from the environment.

    | variable | meaning | default |
    | DATABASE_URL | SQLAlchemy URL; `postgres://` accepted | SQLite file `instance/ekatra.db` |
    | SECRET_KEY, JWT_SECRET_KEY | signing keys; JWT_SECRET_KEY (and in production SECRET_KEY)
      at least 32 bytes | generated once per instance in development |
    | EKATRA_ENV | `development` or `production` (anything else is refused). Production refuses
      to start without every secret, with the sandbox's Twilio account or token, a loopback or
      plain-http TWILIO_API_BASE_URL, or a PUBLIC_BASE_URL that is not https | development |
    | PUBLIC_BASE_URL | the URL Twilio and learners reach this app at | http://127.0.0.1:5000 |
    | TWILIO_* | provider credentials and senders | the built-in sandbox (development only) |
    | TWILIO_TEST_API_BASE_URL, TWILIO_TEST_ACCOUNT_SID, TWILIO_TEST_AUTH_TOKEN | the test
      provider: where test partners' learners' messages go (a sandbox), never the live one; it
      may not be the live URL with the live account | `ekatra sandbox` at http://127.0.0.1:8765
      with the sandbox's account |
    | MAIL_SERVER, MAIL_PORT, MAIL_USERNAME, MAIL_PASSWORD, MAIL_USE_TLS, MAIL_FROM | SMTP |
      unset: in development reset links are printed on the console; in production the mail is
      not sent and a warning (without the link) is logged |
    | TRUSTED_PROXIES | how many proxies in front of the app set X-Forwarded-For/-Proto (Heroku: 1);
      the client address of the rate limits comes from them | 0 |
    | LOGIN_FAILURES_PER_ACCOUNT, LOGIN_FAILURES_PER_ADDRESS, LOGIN_FAILURE_WINDOW_MINUTES |
      failed author logins allowed per email and per client address before a 429 | 10, 50, 15 |
    | RESET_MAILS_PER_EMAIL, RESET_MAILS_PER_ADDRESS, RESET_MAIL_WINDOW_MINUTES | reset mails sent
      per email and per client address; more requests still get 200 but no mail | 3, 20, 60 |
    | JWT_ACCESS_MINUTES, JWT_REFRESH_DAYS | token lifetimes | 60 minutes, 30 days |
    | BCRYPT_ROUNDS | password hash cost | 12 |
    | SEND_RATE_PER_SECOND, SEND_CONCURRENCY | per worker process | 50, 32 |
    | SEND_TIMEOUT_SECONDS | how long one request to Twilio may take | 10 |
    | OUTBOX_LEASE_SECONDS | how long a claimed message is held before the recovery may reconcile it;
      more than twice SEND_TIMEOUT_SECONDS | 60 |
    | RECOVER_INTERVAL_SECONDS | how often the worker looks for expired leases | 30 |
    | WEBHOOK_RETRY_SCHEDULE_SECONDS | waits after each failed webhook attempt, comma-separated |
      5,300,1800,7200,18000,36000,36000 |
    | WEBHOOK_TIMEOUT_SECONDS, WEBHOOK_DISABLE_AFTER_DAYS | one webhook request's timeout; how long an
      endpoint may fail before it is disabled | 10, 5 |
    | RATE_LIMIT_PER_PARTNER, RATE_LIMIT_PER_AUTHOR | API requests per partner key / per author |
      600/minute |
    | RATELIMIT_STORAGE_URI | where rate-limit counts live; production needs Redis (shared by
      every web process) | memory:// |
    | APPSEMBLER_ENROLL_USER_LIMIT | enroll-user calls per learner (partner + email) on the
      Appsembler API | 6/minute |
    | APPSEMBLER_PASSWORD_LINK_HOURS | how long a set-password link of an account created without
      a password works | 168 |
    | METRICS_TOKEN | the bearer token GET /metrics asks for; production without one serves no
      metrics (403), development without one serves them openly | unset |
    | WORKER_METRICS_PORT, WORKER_METRICS_ADDRESS | where `python -m scheduler` serves its own
      Prometheus metrics (the same METRICS_TOKEN rule as the web's) | unset (not served), 0.0.0.0 |
    | IDEMPOTENCY_KEY_HOURS | how long a POST's response is kept for its Idempotency-Key | 24 |
    | WHATSAPP_WINDOW_SECONDS | how long after a learner's last message free-form WhatsApp
      messages reach them (WhatsApp's customer-service window) | 86400 |
    | WHATSAPP_OPENER_CONTENT_SID | the approved template (HX…) that opens a closed window for a
      day, variables {"1": name, "2": course, "3": day}; without one (and without a course's own)
      WhatsApp deliveries are refused | development: the sandbox's; production: none |
    | WHATSAPP_NOTICE_CONTENT_SID | the approved template (HX…, no variables: "You have a new
      message. Reply to read it.") that opens a closed window for a message outside a course (a
      cohort's invitation or notice); without one such a message waits for the learner to write |
      development: the sandbox's; production: none |
    | WHATSAPP_QUICK_REPLY_BOOLEAN_CONTENT_SID, WHATSAPP_QUICK_REPLY_CHOICE2_CONTENT_SID,
      WHATSAPP_QUICK_REPLY_CHOICE3_CONTENT_SID | quick-reply templates for yes/no and two- or
      three-option questions inside the window | none (plain text questions) |
    | COHORT_UPLOADS_DIR | where students' uploads and signed agreements are kept (LocalStore) |
      instance/uploads |
    | COHORT_STORE | `module:factory` of another document store (object storage) | unset |
    | COHORT_UPLOAD_MAX_MB | the largest upload a student may send | 5 |
    | COHORT_INVITE_DAYS, COHORT_SPONSOR_LINK_DAYS | how long students' and sponsors' links work | 30, 30 |
    | BULK_IMPORT_MAX_MB | the largest body POST /api/partner/students/bulk accepts (10,000 rows of
      the longest fields fit; every other route keeps MAX_REQUEST_BYTES) | 8 |
    """

    def __init__(self, environ: dict[str, str] | None = None, instance_path: str | Path = "instance"):
        env = dict(os.environ if environ is None else environ)
        instance = Path(instance_path)
        self.EKATRA_ENV = env.get("EKATRA_ENV", "development")
        if self.EKATRA_ENV not in ENVIRONMENTS:
            # A typo ("prod") must not start a server that skips the production checks.
            raise ConfigurationError(
                f"EKATRA_ENV must be one of {', '.join(ENVIRONMENTS)}, not {self.EKATRA_ENV!r}")
        self.is_production = self.EKATRA_ENV == "production"
        if self.is_production:
            _check_production(env)
        # A short JWT key is refused everywhere: anyone holding one token could guess the key
        # offline and sign their own. A short SECRET_KEY only in production.
        for name in ("JWT_SECRET_KEY", "SECRET_KEY") if self.is_production else ("JWT_SECRET_KEY",):
            if env.get(name) and len(env[name].encode("utf-8")) < MIN_SECRET_BYTES:
                raise ConfigurationError(
                    f"{name} must be at least {MIN_SECRET_BYTES} bytes long (a random value, e.g. "
                    "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`)")

        database_url = env.get("DATABASE_URL") or f"sqlite:///{(instance / 'ekatra.db').resolve()}"
        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(database_url)
        self.SQLALCHEMY_ENGINE_OPTIONS = engine_options(self.SQLALCHEMY_DATABASE_URI)
        self.SECRET_KEY = env.get("SECRET_KEY") or _instance_secret(instance, "secret_key")
        self.JWT_SECRET_KEY = env.get("JWT_SECRET_KEY") or _instance_secret(instance, "jwt_secret_key")
        self.JWT_ACCESS_TOKEN_EXPIRES = timedelta(minutes=int(env.get("JWT_ACCESS_MINUTES", "60")))
        self.JWT_REFRESH_TOKEN_EXPIRES = timedelta(days=int(env.get("JWT_REFRESH_DAYS", "30")))
        self.JWT_ERROR_MESSAGE_KEY = "message"
        self.BCRYPT_ROUNDS = int(env.get("BCRYPT_ROUNDS", "12"))
        self.MAX_CONTENT_LENGTH = MAX_REQUEST_BYTES
        self.TRUSTED_PROXIES = int(env.get("TRUSTED_PROXIES", "0"))
        self.LOGIN_FAILURES_PER_ACCOUNT = int(env.get("LOGIN_FAILURES_PER_ACCOUNT", "10"))
        self.LOGIN_FAILURES_PER_ADDRESS = int(env.get("LOGIN_FAILURES_PER_ADDRESS", "50"))
        self.LOGIN_FAILURE_WINDOW_MINUTES = int(env.get("LOGIN_FAILURE_WINDOW_MINUTES", "15"))
        self.RESET_MAILS_PER_EMAIL = int(env.get("RESET_MAILS_PER_EMAIL", "3"))
        self.RESET_MAILS_PER_ADDRESS = int(env.get("RESET_MAILS_PER_ADDRESS", "20"))
        self.RESET_MAIL_WINDOW_MINUTES = int(env.get("RESET_MAIL_WINDOW_MINUTES", "60"))
        self.PUBLIC_BASE_URL = env.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/")

        self.TWILIO_ACCOUNT_SID = env.get("TWILIO_ACCOUNT_SID", SANDBOX_ACCOUNT_SID)
        self.TWILIO_AUTH_TOKEN = env.get("TWILIO_AUTH_TOKEN", SANDBOX_AUTH_TOKEN)
        uses_messaging_service = bool(env.get("TWILIO_MESSAGING_SERVICE_SID"))
        self.TWILIO_SMS_FROM = env.get("TWILIO_SMS_FROM", "" if uses_messaging_service else SANDBOX_SMS_FROM)
        self.TWILIO_MESSAGING_SERVICE_SID = env.get("TWILIO_MESSAGING_SERVICE_SID", "")
        self.TWILIO_WHATSAPP_FROM = env.get("TWILIO_WHATSAPP_FROM", SANDBOX_WHATSAPP_FROM)
        self.TWILIO_API_BASE_URL = env.get("TWILIO_API_BASE_URL", TWILIO_API).rstrip("/")
        self.TWILIO_TEST_API_BASE_URL = env.get("TWILIO_TEST_API_BASE_URL", SANDBOX_DEFAULT_URL).rstrip("/")
        self.TWILIO_TEST_ACCOUNT_SID = env.get("TWILIO_TEST_ACCOUNT_SID", SANDBOX_ACCOUNT_SID)
        self.TWILIO_TEST_AUTH_TOKEN = env.get("TWILIO_TEST_AUTH_TOKEN", SANDBOX_AUTH_TOKEN)
        if (self.TWILIO_TEST_API_BASE_URL, self.TWILIO_TEST_ACCOUNT_SID) == (
                self.TWILIO_API_BASE_URL, self.TWILIO_ACCOUNT_SID):
            raise ConfigurationError("TWILIO_TEST_API_BASE_URL and TWILIO_TEST_ACCOUNT_SID name the live "
                                     "provider and account: test messages must never reach it")
        self.SEND_RATE_PER_SECOND = float(env.get("SEND_RATE_PER_SECOND", DEFAULT_SEND_RATE_PER_SECOND))
        self.SEND_CONCURRENCY = int(env.get("SEND_CONCURRENCY", DEFAULT_SEND_CONCURRENCY))
        self.SEND_TIMEOUT_SECONDS = float(env.get("SEND_TIMEOUT_SECONDS", DEFAULT_SEND_TIMEOUT_SECONDS))
        self.OUTBOX_LEASE_SECONDS = float(env.get("OUTBOX_LEASE_SECONDS", DEFAULT_OUTBOX_LEASE_SECONDS))
        self.RECOVER_INTERVAL_SECONDS = float(env.get("RECOVER_INTERVAL_SECONDS",
                                                      DEFAULT_RECOVER_INTERVAL_SECONDS))
        if self.OUTBOX_LEASE_SECONDS <= 2 * self.SEND_TIMEOUT_SECONDS:
            # A send starts only while twice its timeout is left on the lease (outbox/dispatch.py).
            raise ConfigurationError(
                f"OUTBOX_LEASE_SECONDS ({self.OUTBOX_LEASE_SECONDS:g}) must exceed twice "
                f"SEND_TIMEOUT_SECONDS ({self.SEND_TIMEOUT_SECONDS:g})")
        if self.RECOVER_INTERVAL_SECONDS <= 0:
            raise ConfigurationError("RECOVER_INTERVAL_SECONDS must be positive")
        self.WHATSAPP_WINDOW_SECONDS = float(env.get("WHATSAPP_WINDOW_SECONDS", "86400"))
        if self.WHATSAPP_WINDOW_SECONDS <= 0:
            raise ConfigurationError("WHATSAPP_WINDOW_SECONDS must be positive")
        self.WHATSAPP_OPENER_CONTENT_SID = env.get(
            "WHATSAPP_OPENER_CONTENT_SID", "" if self.is_production else SANDBOX_OPENER_CONTENT_SID)
        self.WHATSAPP_NOTICE_CONTENT_SID = env.get(
            "WHATSAPP_NOTICE_CONTENT_SID", "" if self.is_production else SANDBOX_NOTICE_CONTENT_SID)
        for kind in ("BOOLEAN", "CHOICE2", "CHOICE3"):
            name = f"WHATSAPP_QUICK_REPLY_{kind}_CONTENT_SID"
            setattr(self, name, env.get(name, ""))

        self.WEBHOOK_RETRY_SCHEDULE_SECONDS = tuple(
            float(wait) for wait in _words(env.get("WEBHOOK_RETRY_SCHEDULE_SECONDS",
                                                   "5,300,1800,7200,18000,36000,36000")))
        self.WEBHOOK_TIMEOUT_SECONDS = float(env.get("WEBHOOK_TIMEOUT_SECONDS", "10"))
        self.WEBHOOK_DISABLE_AFTER_DAYS = float(env.get("WEBHOOK_DISABLE_AFTER_DAYS", "5"))
        self.RATE_LIMIT_PER_PARTNER = env.get("RATE_LIMIT_PER_PARTNER", "600/minute")
        self.RATE_LIMIT_PER_AUTHOR = env.get("RATE_LIMIT_PER_AUTHOR", "600/minute")
        self.RATELIMIT_STORAGE_URI = env.get("RATELIMIT_STORAGE_URI", "memory://")
        self.APPSEMBLER_ENROLL_USER_LIMIT = env.get("APPSEMBLER_ENROLL_USER_LIMIT", "6/minute")
        for name in ("RATE_LIMIT_PER_PARTNER", "RATE_LIMIT_PER_AUTHOR", "APPSEMBLER_ENROLL_USER_LIMIT"):
            _check_limit(name, getattr(self, name))
        self.APPSEMBLER_PASSWORD_LINK_HOURS = float(env.get("APPSEMBLER_PASSWORD_LINK_HOURS", "168"))
        self.IDEMPOTENCY_KEY_HOURS = float(env.get("IDEMPOTENCY_KEY_HOURS", "24"))
        self.METRICS_TOKEN = env.get("METRICS_TOKEN", "")
        self.WORKER_METRICS_PORT = int(env.get("WORKER_METRICS_PORT") or 0)
        self.WORKER_METRICS_ADDRESS = env.get("WORKER_METRICS_ADDRESS", "0.0.0.0")

        self.COHORT_UPLOADS_DIR = env.get("COHORT_UPLOADS_DIR") or str(instance / "uploads")
        self.COHORT_STORE = env.get("COHORT_STORE", "")
        self.COHORT_UPLOAD_MAX_BYTES = int(float(env.get("COHORT_UPLOAD_MAX_MB", "5")) * 1024 * 1024)
        self.COHORT_INVITE_DAYS = int(env.get("COHORT_INVITE_DAYS", "30"))
        self.COHORT_SPONSOR_LINK_DAYS = int(env.get("COHORT_SPONSOR_LINK_DAYS", "30"))
        self.BULK_IMPORT_MAX_BYTES = int(float(env.get("BULK_IMPORT_MAX_MB", "8")) * 1024 * 1024)
        if self.BULK_IMPORT_MAX_BYTES < MAX_REQUEST_BYTES:
            raise ConfigurationError("BULK_IMPORT_MAX_MB must be at least 1")

        self.OPT_OUT_KEYWORDS = _words(env.get("OPT_OUT_KEYWORDS", DEFAULT_OPT_OUT_KEYWORDS))
        self.OPT_IN_KEYWORDS = _words(env.get("OPT_IN_KEYWORDS", DEFAULT_OPT_IN_KEYWORDS))
        self.HELP_KEYWORDS = _words(env.get("HELP_KEYWORDS", DEFAULT_HELP_KEYWORDS))
        self.HELP_TEXT = env.get("HELP_TEXT", DEFAULT_HELP_TEXT)
        self.RESUME_KEYWORDS = _words(env.get("RESUME_KEYWORDS", DEFAULT_RESUME_KEYWORDS))
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
        # No validator badge: it would load an image from outside (and the CSP refuses it).
        self.OPENAPI_SWAGGER_UI_CONFIG = {"persistAuthorization": True, "validatorUrl": None}
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
