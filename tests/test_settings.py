"""config.settings read in a fresh interpreter, the way a server process reads them.

Each test starts `python -c "import django; django.setup()"` with DJANGO_SETTINGS_MODULE set to
config.settings and an environment built from this one, so the test process's own settings (the
`test` environment) do not leak in.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Every variable these tests decide on; removed from the inherited environment unless a test sets it.
CONTROLLED = (
    "DJANGO_ENV",
    "DJANGO_SECRET_KEY",
    "DJANGO_ALLOWED_HOSTS",
    "DJANGO_SECURE_COOKIES",
    "DJANGO_DEBUG",
    "DJANGO_SSL_REDIRECT",
    "DJANGO_SESSION_IDLE_MINUTES",
    "DATABASE_URL",
    "LOG_FORMAT",
    "DJANGO_LOG_LEVEL",
    "TRUSTED_PROXIES",
)

GOOD_SECRET = "k" * 20 + "-production-secret-of-more-than-fifty-characters"
GOOD_PRODUCTION = {
    "DJANGO_ENV": "production",
    "DJANGO_SECRET_KEY": GOOD_SECRET,
    "DJANGO_ALLOWED_HOSTS": "resources.kynect.example, .kynect.example",
}

REPORT = """
import json
import django
django.setup()
from django.conf import settings
db = settings.DATABASES["default"]
print(json.dumps({
    "DJANGO_ENV": settings.DJANGO_ENV,
    "DEBUG": settings.DEBUG,
    "ALLOWED_HOSTS": settings.ALLOWED_HOSTS,
    "SESSION_COOKIE_SECURE": settings.SESSION_COOKIE_SECURE,
    "CSRF_COOKIE_SECURE": settings.CSRF_COOKIE_SECURE,
    "SECURE_HSTS_SECONDS": getattr(settings, "SECURE_HSTS_SECONDS", 0),
    "SECURE_SSL_REDIRECT": settings.SECURE_SSL_REDIRECT,
    "CSRF_TRUSTED_ORIGINS": settings.CSRF_TRUSTED_ORIGINS,
    "SESSION_COOKIE_AGE": settings.SESSION_COOKIE_AGE,
    "MIDDLEWARE": settings.MIDDLEWARE,
    "PASSWORD_HASHERS": settings.PASSWORD_HASHERS,
    "ENGINE": db["ENGINE"],
    "NAME": str(db["NAME"]),
    "HOST": db.get("HOST", ""),
    "OPTIONS": db.get("OPTIONS", {}),
    "TASKS_BACKEND": settings.TASKS["default"]["BACKEND"],
}))
"""


def run_django(code: str = "import django; django.setup()", **env: str) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if key not in CONTROLLED}
    environment["DJANGO_SETTINGS_MODULE"] = "config.settings"
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def settings_in(**env: str) -> dict[str, Any]:
    result = run_django(REPORT, **env)
    assert result.returncode == 0, result.stderr
    report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return report


def assert_refused(result: subprocess.CompletedProcess[str], *reasons: str) -> None:
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    for reason in reasons:
        assert reason in result.stderr


def test_production_without_a_secret_key_is_refused() -> None:
    env = {**GOOD_PRODUCTION}
    del env["DJANGO_SECRET_KEY"]

    result = run_django(**env)

    assert_refused(result, "Refusing to start in production", "DJANGO_SECRET_KEY must be set")


def test_production_with_a_short_secret_key_is_refused() -> None:
    result = run_django(**{**GOOD_PRODUCTION, "DJANGO_SECRET_KEY": "too-short"})

    assert_refused(result, "Refusing to start in production", "at least 50 characters")


def test_production_without_allowed_hosts_is_refused() -> None:
    env = {**GOOD_PRODUCTION}
    del env["DJANGO_ALLOWED_HOSTS"]

    result = run_django(**env)

    assert_refused(result, "Refusing to start in production", "DJANGO_ALLOWED_HOSTS must list")


def test_production_with_empty_allowed_hosts_is_refused() -> None:
    result = run_django(**{**GOOD_PRODUCTION, "DJANGO_ALLOWED_HOSTS": " , "})

    assert_refused(result, "Refusing to start in production", "DJANGO_ALLOWED_HOSTS")


def test_production_with_insecure_cookies_is_refused() -> None:
    result = run_django(**{**GOOD_PRODUCTION, "DJANGO_SECURE_COOKIES": "false"})

    assert_refused(result, "Refusing to start in production", "DJANGO_SECURE_COOKIES cannot be turned off")


def test_production_names_every_problem_at_once() -> None:
    result = run_django(DJANGO_ENV="production", DJANGO_SECURE_COOKIES="false")

    assert_refused(result, "DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DJANGO_SECURE_COOKIES")


def test_production_with_debug_is_refused() -> None:
    result = run_django(**{**GOOD_PRODUCTION, "DJANGO_DEBUG": "true"})

    assert_refused(result, "Refusing to start in production with DJANGO_DEBUG on")


def test_production_with_good_settings_starts_secure() -> None:
    report = settings_in(**GOOD_PRODUCTION)

    assert report["DJANGO_ENV"] == "production"
    assert report["DEBUG"] is False
    assert report["ALLOWED_HOSTS"] == ["resources.kynect.example", ".kynect.example"]
    assert report["SESSION_COOKIE_SECURE"] is True
    assert report["CSRF_COOKIE_SECURE"] is True
    assert report["SECURE_HSTS_SECONDS"] >= 31536000
    assert report["SECURE_SSL_REDIRECT"] is True
    assert report["CSRF_TRUSTED_ORIGINS"] == ["https://resources.kynect.example"]
    assert report["TASKS_BACKEND"] == "django_tasks_db.DatabaseBackend"


def test_production_with_secure_cookies_explicitly_on_starts() -> None:
    report = settings_in(**GOOD_PRODUCTION, DJANGO_SECURE_COOKIES="true")

    assert report["SESSION_COOKIE_SECURE"] is True
    assert report["CSRF_COOKIE_SECURE"] is True


def test_unknown_environment_is_refused() -> None:
    result = run_django(DJANGO_ENV="staging")

    assert_refused(result, "DJANGO_ENV must be one of demo, test, production, not 'staging'")


def test_malformed_boolean_is_refused() -> None:
    result = run_django(DJANGO_ENV="demo", DJANGO_DEBUG="maybe")

    assert_refused(result, "DJANGO_DEBUG must be true or false")


def test_trusted_proxies_that_are_not_addresses_are_refused() -> None:
    result = run_django(DJANGO_ENV="demo", TRUSTED_PROXIES="127.0.0.1, balancer.internal")

    assert_refused(result, "TRUSTED_PROXIES must list IP addresses or networks", "'balancer.internal'")


def test_trusted_proxies_are_read_as_a_list() -> None:
    code = "import django; django.setup(); from django.conf import settings; print(settings.TRUSTED_PROXIES)"
    result = run_django(code, DJANGO_ENV="demo", TRUSTED_PROXIES="127.0.0.1, 10.0.0.0/8,")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['127.0.0.1', '10.0.0.0/8']"


def test_an_outbox_rate_below_one_message_a_second_is_refused() -> None:
    result = run_django(DJANGO_ENV="demo", OUTBOX_SMS_PER_SECOND="0")

    assert_refused(result, "OUTBOX_SMS_PER_SECOND must be 1 or more, not 0")


def test_demo_is_the_default_environment_and_needs_no_configuration() -> None:
    report = settings_in()

    assert report["DJANGO_ENV"] == "demo"
    assert report["DEBUG"] is False
    assert report["SESSION_COOKIE_SECURE"] is False
    assert report["SECURE_HSTS_SECONDS"] == 0
    assert "localhost" in report["ALLOWED_HOSTS"]


def test_default_database_is_sqlite_with_wal_and_a_busy_timeout() -> None:
    report = settings_in(DJANGO_ENV="demo")

    assert report["ENGINE"] == "django.db.backends.sqlite3"
    assert report["NAME"] == str(PROJECT_ROOT / "db.sqlite3")
    init_command = report["OPTIONS"]["init_command"]
    assert "PRAGMA journal_mode=WAL" in init_command
    assert "PRAGMA foreign_keys=ON" in init_command
    assert report["OPTIONS"]["timeout"] >= 5
    assert report["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_database_url_selects_postgresql() -> None:
    report = settings_in(DJANGO_ENV="demo", DATABASE_URL="postgres://kynect:secret@db.example:5432/kynect")

    assert report["ENGINE"] == "django.db.backends.postgresql"
    assert report["NAME"] == "kynect"
    assert report["HOST"] == "db.example"
    assert "init_command" not in report["OPTIONS"]
    assert report["OPTIONS"]["options"] == "-c jit=off"


def test_argon2_is_the_first_password_hasher() -> None:
    report = settings_in()

    assert report["PASSWORD_HASHERS"][0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_session_idle_timeout_comes_from_the_environment() -> None:
    assert settings_in()["SESSION_COOKIE_AGE"] == 30 * 60

    report = settings_in(DJANGO_SESSION_IDLE_MINUTES="15")

    assert report["SESSION_COOKIE_AGE"] == 15 * 60
    assert "kynect.core.middleware.SessionIdleTimeoutMiddleware" in report["MIDDLEWARE"]


def test_malformed_session_idle_minutes_is_refused() -> None:
    result = run_django(DJANGO_SESSION_IDLE_MINUTES="half an hour")

    assert_refused(result, "DJANGO_SESSION_IDLE_MINUTES must be a whole number")


def test_test_environment_uses_immediate_tasks() -> None:
    assert (
        settings_in(DJANGO_ENV="test")["TASKS_BACKEND"] == "django_tasks.backends.immediate.ImmediateBackend"
    )


LOG_A_WARNING = """
import logging
import django
django.setup()
logging.getLogger("kynect.settings_test").warning("Texted %s", "502-555-0123")
"""


def test_production_logs_one_json_object_a_line() -> None:
    result = run_django(LOG_A_WARNING, **GOOD_PRODUCTION)

    assert result.returncode == 0, result.stderr
    entry = json.loads(result.stderr.strip().splitlines()[-1])
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "kynect.settings_test"
    assert entry["message"] == "Texted [phone]"
    assert entry["request_id"] is None


def test_the_demo_logs_readable_text() -> None:
    result = run_django(LOG_A_WARNING)

    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().splitlines()[-1].endswith(" WARNING kynect.settings_test Texted [phone]")


def test_log_format_overrides_the_environment_default() -> None:
    result = run_django(LOG_A_WARNING, **GOOD_PRODUCTION, LOG_FORMAT="text")

    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().splitlines()[-1].endswith(" WARNING kynect.settings_test Texted [phone]")


def test_an_unknown_log_format_is_refused() -> None:
    result = run_django(LOG_FORMAT="xml")

    assert_refused(result, "LOG_FORMAT must be json or text, not 'xml'")


def test_debug_level_leaves_djangos_own_debug_lines_out() -> None:
    code = """
import logging
import django
django.setup()
logging.getLogger("django.template").debug("Exception while resolving variable 'name' in {'name': 'x'}")
logging.getLogger("kynect.settings_test").debug("kynect's own debug line")
"""
    result = run_django(code, DJANGO_LOG_LEVEL="DEBUG")

    assert result.returncode == 0, result.stderr
    assert "kynect's own debug line" in result.stderr
    assert "resolving variable" not in result.stderr
