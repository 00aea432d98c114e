"""Settings from the environment."""

from __future__ import annotations

import pytest

from ekatra.config import (
    SANDBOX_ACCOUNT_SID,
    SANDBOX_AUTH_TOKEN,
    Config,
    ConfigurationError,
    normalise_database_url,
)


@pytest.mark.parametrize(("given", "expected"), [
    ("postgres://u:p@h:5432/d", "postgresql+psycopg://u:p@h:5432/d"),
    ("postgresql://u@h/d", "postgresql+psycopg://u@h/d"),
    ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
    ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
])
def test_heroku_and_plain_postgres_urls_use_psycopg3(given, expected):
    assert normalise_database_url(given) == expected


def test_sqlite_under_instance_when_database_url_is_unset(tmp_path):
    config = Config({}, instance_path=tmp_path)
    assert f"sqlite:///{tmp_path.resolve() / 'ekatra.db'}" == config.SQLALCHEMY_DATABASE_URI


def test_development_secrets_are_generated_once_per_instance(tmp_path):
    first = Config({}, instance_path=tmp_path)
    second = Config({}, instance_path=tmp_path)
    assert first.SECRET_KEY == second.SECRET_KEY and len(first.SECRET_KEY) > 40
    assert first.JWT_SECRET_KEY == second.JWT_SECRET_KEY != first.SECRET_KEY


def test_production_refuses_to_start_without_secrets(tmp_path):
    with pytest.raises(ConfigurationError) as error:
        Config({"EKATRA_ENV": "production", "DATABASE_URL": "postgres://h/d"}, instance_path=tmp_path)
    message = str(error.value)
    for name in ("SECRET_KEY", "JWT_SECRET_KEY", "PUBLIC_BASE_URL", "TWILIO_AUTH_TOKEN"):
        assert name in message
    assert "DATABASE_URL" not in message
    assert not (tmp_path / "secret_key").exists()


PRODUCTION = {"EKATRA_ENV": "production", "DATABASE_URL": "postgres://h/d",
              "SECRET_KEY": "s" * 40, "JWT_SECRET_KEY": "j" * 40, "PUBLIC_BASE_URL": "https://x.org/",
              "TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": "t" * 32,
              "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0"}


def test_production_with_everything_set_starts(tmp_path):
    config = Config(PRODUCTION, instance_path=tmp_path)
    assert config.PUBLIC_BASE_URL == "https://x.org"
    assert config.MAX_CONTENT_LENGTH == 1024 * 1024


@pytest.mark.parametrize(("setting", "value", "named"), [
    ("PUBLIC_BASE_URL", "http://x.org", "PUBLIC_BASE_URL"),
    ("TWILIO_ACCOUNT_SID", SANDBOX_ACCOUNT_SID, "TWILIO_ACCOUNT_SID"),
    ("TWILIO_AUTH_TOKEN", SANDBOX_AUTH_TOKEN, "TWILIO_AUTH_TOKEN"),
    ("TWILIO_API_BASE_URL", "http://127.0.0.1:8099", "TWILIO_API_BASE_URL"),
    ("TWILIO_API_BASE_URL", "https://localhost:8099", "TWILIO_API_BASE_URL"),
    ("TWILIO_API_BASE_URL", "https://[::1]:8099", "TWILIO_API_BASE_URL"),
    ("SECRET_KEY", "short", "SECRET_KEY"),
    ("JWT_SECRET_KEY", "j" * 31, "JWT_SECRET_KEY"),
    ("JWT_SECRET_KEY", "s" * 40, "must differ"),
    ("RATELIMIT_STORAGE_URI", "memory://", "RATELIMIT_STORAGE_URI"),
])
def test_production_refuses_sandbox_weak_or_plain_http_settings(tmp_path, setting, value, named):
    with pytest.raises(ConfigurationError, match=named):
        Config({**PRODUCTION, setting: value}, instance_path=tmp_path)


def test_production_accepts_a_real_twilio_api_url(tmp_path):
    config = Config({**PRODUCTION, "TWILIO_API_BASE_URL": "https://api.twilio.com/"},
                    instance_path=tmp_path)
    assert config.TWILIO_API_BASE_URL == "https://api.twilio.com"


def test_a_short_jwt_key_is_refused_in_development_too(tmp_path):
    with pytest.raises(ConfigurationError, match="JWT_SECRET_KEY must be at least 32 bytes"):
        Config({"JWT_SECRET_KEY": "hs256-needs-more-than-this"}, instance_path=tmp_path)
    assert len(Config({}, instance_path=tmp_path).JWT_SECRET_KEY.encode()) >= 32


def test_the_sandbox_is_the_default_only_in_development(tmp_path):
    development = Config({}, instance_path=tmp_path)
    assert development.TWILIO_ACCOUNT_SID == SANDBOX_ACCOUNT_SID
    with pytest.raises(ConfigurationError, match="TWILIO_ACCOUNT_SID"):
        Config({key: value for key, value in PRODUCTION.items() if key != "TWILIO_ACCOUNT_SID"},
               instance_path=tmp_path)


@pytest.mark.parametrize("name", ["prod", "Production", "staging", ""])
def test_an_unknown_environment_name_is_refused_rather_than_run_without_checks(tmp_path, name):
    with pytest.raises(ConfigurationError, match="EKATRA_ENV"):
        Config({**PRODUCTION, "EKATRA_ENV": name}, instance_path=tmp_path)


def test_lease_and_recovery_timing_come_from_the_environment(tmp_path):
    from scheduler.jobs import jobs_for

    environ = {"OUTBOX_LEASE_SECONDS": "12", "SEND_TIMEOUT_SECONDS": "4", "RECOVER_INTERVAL_SECONDS": "1"}
    config = Config(environ, instance_path=tmp_path).as_dict()
    assert (config["OUTBOX_LEASE_SECONDS"], config["SEND_TIMEOUT_SECONDS"]) == (12, 4)
    assert {job.name: job.interval_seconds for job in jobs_for(config)}["recover"] == 1
    defaults = Config({}, instance_path=tmp_path).as_dict()
    assert (defaults["OUTBOX_LEASE_SECONDS"], defaults["RECOVER_INTERVAL_SECONDS"]) == (60, 30)


def test_a_lease_shorter_than_twice_the_send_timeout_is_refused(tmp_path):
    with pytest.raises(ConfigurationError, match="OUTBOX_LEASE_SECONDS"):
        Config({"OUTBOX_LEASE_SECONDS": "15", "SEND_TIMEOUT_SECONDS": "10"}, instance_path=tmp_path)


@pytest.mark.parametrize(
    "name", ["RATE_LIMIT_PER_PARTNER", "RATE_LIMIT_PER_AUTHOR", "APPSEMBLER_ENROLL_USER_LIMIT"])
def test_a_rate_limit_that_is_no_limit_is_refused_at_start_up(tmp_path, name):
    with pytest.raises(ConfigurationError, match=name):
        Config({name: "six a minute"}, instance_path=tmp_path)
