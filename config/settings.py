"""Settings for the kynect platform, read from environment variables.

Local runs need no configuration: `DJANGO_ENV` defaults to `demo`, which uses the embedded SQLite
database. `production` fails closed: it refuses to start without a secret key, allowed hosts and
secure cookies.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Any

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

ENVIRONMENTS = ("demo", "test", "production")
DJANGO_ENV = os.environ.get("DJANGO_ENV", "demo")
if DJANGO_ENV not in ENVIRONMENTS:
    raise ImproperlyConfigured(f"DJANGO_ENV must be one of {', '.join(ENVIRONMENTS)}, not {DJANGO_ENV!r}.")
IS_PRODUCTION = DJANGO_ENV == "production"
IS_TEST = DJANGO_ENV == "test"


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def _env_number(name: str, default: Any, convert: Any, kind: str, minimum: Any) -> Any:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = convert(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be {kind}, not {value!r}.") from exc
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be {minimum} or more, not {number}.")
    return number


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    return int(_env_number(name, default, int, "a whole number", minimum))


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    return float(_env_number(name, default, float, "a number", minimum))


# --- Security -------------------------------------------------------------------------------------

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", [] if IS_PRODUCTION else ["127.0.0.1", "localhost", "[::1]"])
SECURE_COOKIES = env_bool("DJANGO_SECURE_COOKIES", IS_PRODUCTION)

if IS_PRODUCTION:
    problems = []
    if len(SECRET_KEY) < 50:
        problems.append("DJANGO_SECRET_KEY must be set to a random value of at least 50 characters")
    if not ALLOWED_HOSTS:
        problems.append("DJANGO_ALLOWED_HOSTS must list the host names the platform serves")
    if not SECURE_COOKIES:
        problems.append("DJANGO_SECURE_COOKIES cannot be turned off")
    if problems:
        raise ImproperlyConfigured("Refusing to start in production: " + "; ".join(problems) + ".")
elif not SECRET_KEY:
    # A fixed key is fine for local demo and test runs: nothing they sign leaves this machine.
    SECRET_KEY = "insecure-local-key-for-demo-and-test-only-never-used-in-production"  # noqa: S105

DEBUG = env_bool("DJANGO_DEBUG", False)
if IS_PRODUCTION and DEBUG:
    raise ImproperlyConfigured("Refusing to start in production with DJANGO_DEBUG on.")

SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_IDLE_MINUTES = env_int("DJANGO_SESSION_IDLE_MINUTES", 30)
# Retention (docs/reference/residents.md): a resident's personal fields are erased this many years after
# their last referral closed and their last consent ended; access events expire after their own period.
RESIDENT_RETENTION_YEARS = env_int("RESIDENT_RETENTION_YEARS", 7, minimum=1)
# Whether a resident's SDoH information is shared with KHIE until they choose in My Plan (the state's policy).
KHIE_SHARING_DEFAULT = env_bool("KHIE_SHARING_DEFAULT", False)
ACCESS_EVENT_RETENTION_YEARS = env_int("ACCESS_EVENT_RETENTION_YEARS", 10, minimum=1)
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
# The expiry counts from the last request, give or take a minute: SessionIdleTimeoutMiddleware.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Proxies (load balancers) whose X-Forwarded-For is believed: addresses or CIDR networks, comma-separated.
# Requests from anywhere else are taken to come from their REMOTE_ADDR (kynect.core.audit.client_ip).
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"TRUSTED_PROXIES must list IP addresses or networks (like 10.0.0.0/8), not {_proxy!r}."
        ) from exc

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if IS_PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 63072000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    CSRF_TRUSTED_ORIGINS = [f"https://{host}" for host in ALLOWED_HOSTS if not host.startswith(".")]

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    },
}

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_THROTTLE_LIMIT = env_int("LOGIN_THROTTLE_LIMIT", 5)
LOGIN_THROTTLE_WINDOW_SECONDS = env_int("LOGIN_THROTTLE_WINDOW_SECONDS", 15 * 60)
PASSWORD_RESET_THROTTLE_LIMIT = env_int("PASSWORD_RESET_THROTTLE_LIMIT", 3)
PASSWORD_RESET_THROTTLE_WINDOW_SECONDS = env_int("PASSWORD_RESET_THROTTLE_WINDOW_SECONDS", 60 * 60)
PARTNER_APPLY_THROTTLE_LIMIT = env_int("PARTNER_APPLY_THROTTLE_LIMIT", 5)
PARTNER_APPLY_THROTTLE_WINDOW_SECONDS = env_int("PARTNER_APPLY_THROTTLE_WINDOW_SECONDS", 60 * 60)
INVITATION_MAX_AGE_SECONDS = 7 * 24 * 3600

# --- Applications ---------------------------------------------------------------------------------

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "django_tasks",
    "django_tasks_db",
    "template_partials",
    "kynect.core",
    "kynect.accounts",
    "kynect.notifications",
    "kynect.directory",
    "kynect.ondemand",
    "kynect.residents",
    "kynect.referrals",
    "kynect.assessments",
    "kynect.reporting",
    "kynect.demo",
]

MIDDLEWARE = [
    "kynect.core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "kynect.core.middleware.SessionIdleTimeoutMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "kynect.accounts.middleware.MembershipsReadOncePerRequest",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "core:home"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kynect.core.context_processors.site",
                "kynect.directory.context_processors.menus",
                "kynect.ondemand.context_processors.navigation",
                "kynect.ondemand.context_processors.my_information",
                "kynect.residents.context_processors.navigation",
            ],
        },
    },
]

# Widgets render through the templates above, so a project template can stand in for a widget's own.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

# Each process keeps its own cache: it holds only page parts rendered the same for everyone in a
# language (`{% cache %}` in the header, footer and search form), cheaper to render again than to
# fetch over a network. State shared between servers lives in PostgreSQL, never here.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Database -------------------------------------------------------------------------------------

DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(BASE_DIR / "db.sqlite3"),
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers work while the worker writes; IMMEDIATE takes the write lock up front so
        # two writers wait on the busy timeout instead of failing with "database is locked".
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The platform's queries are short; PostgreSQL's JIT compiler spent up to 150 ms compiling the
    # directory's "open now" search before running it in 5 ms (docs/benchmarks/directory.md).
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"

# --- Internationalisation -------------------------------------------------------------------------

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "America/New_York"
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Production serves hashed, compressed files for long caching; demo and test keep plain copies
        # so that collectstatic only copies what changed and a second `make run` starts quickly.
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if IS_PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
AXE_CORE_PATH = BASE_DIR / "node_modules" / "axe-core" / "axe.min.js"

# --- Background work ------------------------------------------------------------------------------

TASKS = {
    "default": {
        "BACKEND": (
            "django_tasks.backends.immediate.ImmediateBackend"
            if IS_TEST
            else "django_tasks_db.DatabaseBackend"
        ),
    }
}
WORKER_HEARTBEAT_STALE_SECONDS = env_int("WORKER_HEARTBEAT_STALE_SECONDS", 60)

# --- Notifications --------------------------------------------------------------------------------

EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND",
    "django.core.mail.backends.locmem.EmailBackend"
    if IS_TEST
    else "django.core.mail.backends.console.EmailBackend",
)
# Where django.core.mail.backends.filebased.EmailBackend writes messages (the cluster's load test counts
# them there by their X-Kynect-Message-Id header).
# Where the monthly incentive reports are written as CSV (kynect.reporting.incentive).
REPORTS_DIR = os.environ.get("REPORTS_DIR", str(BASE_DIR / "var" / "reports"))
EMAIL_FILE_PATH = os.environ.get("DJANGO_EMAIL_FILE_PATH", str(BASE_DIR / "var" / "email"))
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "kynect <no-reply@kynect.example>")
SMS_BACKEND = os.environ.get(
    "SMS_BACKEND",
    "kynect.notifications.sms.LocmemSmsBackend" if IS_TEST else "kynect.notifications.sms.ConsoleSmsBackend",
)
SMS_FILE_PATH = os.environ.get("SMS_FILE_PATH", str(BASE_DIR / "var" / "sms"))
SMS_FROM_NUMBER = os.environ.get("SMS_FROM_NUMBER", "+15025550100")
SMS_INBOUND_SECRET = os.environ.get("SMS_INBOUND_SECRET", "" if IS_PRODUCTION else "local-inbound-sms-secret")
TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 6)
# What each provider takes, in messages a second across every worker (ADR 0034): a short code's usual
# 100 text messages a second, and an email service's sending rate of the same order.
OUTBOX_SMS_PER_SECOND = env_int("OUTBOX_SMS_PER_SECOND", 100, minimum=1)
OUTBOX_EMAIL_PER_SECOND = env_int("OUTBOX_EMAIL_PER_SECOND", 100, minimum=1)
# Provider calls in flight at once per channel in each worker.
OUTBOX_SENDERS_PER_CHANNEL = env_int("OUTBOX_SENDERS_PER_CHANNEL", 10, minimum=1)
# Send a message from the process that wrote it as soon as its transaction commits, instead of leaving
# it to the worker's senders: in tests, where no worker runs.
OUTBOX_SEND_ON_COMMIT = env_bool("OUTBOX_SEND_ON_COMMIT", IS_TEST)

# --- Product settings -----------------------------------------------------------------------------

SITE_URL = os.environ.get("DJANGO_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
BENEFITS_URL = os.environ.get("BENEFITS_URL", "https://kynect.ky.gov/benefits")
HSDS_SPEC_DIR = BASE_DIR / os.environ.get("HSDS_SPEC_DIR", "../shared/hsds")  # an absolute value wins
# Tests that need the official HSDS files are skipped without them, unless this is on (CI turns it on).
HSDS_SPEC_REQUIRED = env_bool("HSDS_SPEC_REQUIRED", False)

# --- kynect On Demand ----------------------------------------------------------------------------

# Changing the terms' version asks helpers who register afterwards to agree to the new terms.
ONDEMAND_TERMS_VERSION = os.environ.get("ONDEMAND_TERMS_VERSION", "2026-1")
# Codes that verify a helper's mobile number: lifetime, wrong tries allowed, wait before another
# code, and codes per helper per day.
ONDEMAND_MOBILE_CODE_TTL_SECONDS = env_int("ONDEMAND_MOBILE_CODE_TTL_SECONDS", 10 * 60)
ONDEMAND_MOBILE_CODE_MAX_ATTEMPTS = env_int("ONDEMAND_MOBILE_CODE_MAX_ATTEMPTS", 5)
ONDEMAND_MOBILE_CODE_RESEND_SECONDS = env_int("ONDEMAND_MOBILE_CODE_RESEND_SECONDS", 60)
ONDEMAND_MOBILE_CODES_PER_DAY = env_int("ONDEMAND_MOBILE_CODES_PER_DAY", 10)

# --- Logging --------------------------------------------------------------------------------------

# "json" (one JSON object a line, for a log collector) or "text" (readable lines); docs/guides/logging.md.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "json" if IS_PRODUCTION else "text")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or text, not {LOG_FORMAT!r}.")

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "log_context": {"()": "kynect.core.logging.LogContextFilter"},
        "mask_pii": {"()": "kynect.core.logging.PiiMaskingFilter"},
    },
    "formatters": {
        "text": {"()": "kynect.core.logging.TextFormatter"},
        "json": {"()": "kynect.core.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["log_context", "mask_pii"],
            "formatter": LOG_FORMAT,
        },
    },
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        # Django gives `django` and runserver's `django.server` handlers of their own that print without
        # the masking filter. Configuring `django` drops them (dictConfig resets a configured logger's
        # children), so their records reach the root handler above like every other record. INFO,
        # whatever DJANGO_LOG_LEVEL says: Django's DEBUG lines print template contexts.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.db.backends": {"level": "WARNING"},
        # The worker loop starts a task worker each turn; its start and stop lines are noise.
        "django_tasks": {"level": "WARNING"},
        "django_tasks_db": {"level": "WARNING"},
    },
}

# --- Directory: sharing a listing -----------------------------------------------------------------

# Shares by email or text message from one client address, and to one recipient, per window.
DIRECTORY_SHARE_LIMIT_PER_CLIENT = env_int("DIRECTORY_SHARE_LIMIT_PER_CLIENT", 10)
DIRECTORY_SHARE_CLIENT_WINDOW_SECONDS = env_int("DIRECTORY_SHARE_CLIENT_WINDOW_SECONDS", 3600)
DIRECTORY_SHARE_LIMIT_PER_RECIPIENT = env_int("DIRECTORY_SHARE_LIMIT_PER_RECIPIENT", 3)
DIRECTORY_SHARE_RECIPIENT_WINDOW_SECONDS = env_int("DIRECTORY_SHARE_RECIPIENT_WINDOW_SECONDS", 24 * 3600)

# --- Directory: the HSDS API ----------------------------------------------------------------------

# Requests to /api/hsds/ per window: from one client address without a token, and per API token (a
# token made with --no-rate-limit has no limit).
HSDS_API_LIMIT_PER_CLIENT = env_int("HSDS_API_LIMIT_PER_CLIENT", 120)
HSDS_API_LIMIT_PER_TOKEN = env_int("HSDS_API_LIMIT_PER_TOKEN", 1200)
HSDS_API_WINDOW_SECONDS = env_int("HSDS_API_WINDOW_SECONDS", 60)

# --- kynect On Demand: help requests --------------------------------------------------------------

# Service hours per weekday in ONDEMAND_SERVICE_HOURS_TIME_ZONE: "mon=08:00-20:00,...,sun=closed". A
# request made outside them is told when to expect a call; its clock starts at the next opening.
ONDEMAND_SERVICE_HOURS = os.environ.get(
    "ONDEMAND_SERVICE_HOURS",
    "mon=08:00-20:00,tue=08:00-20:00,wed=08:00-20:00,thu=08:00-20:00,fri=08:00-20:00,"
    "sat=09:00-13:00,sun=closed",
)
ONDEMAND_SERVICE_HOURS_TIME_ZONE = os.environ.get("ONDEMAND_SERVICE_HOURS_TIME_ZONE", "America/New_York")
# Minutes from submission (or from the next opening) to the promised call back.
ONDEMAND_CALLBACK_MINUTES = env_int("ONDEMAND_CALLBACK_MINUTES", 30)
# Minutes of service time after which a request nobody accepted is closed as Unserved.
ONDEMAND_WAITING_LIMIT_MINUTES = env_int("ONDEMAND_WAITING_LIMIT_MINUTES", 4 * 60)
# The version of the consent-to-be-contacted wording a requester ticks; stored with each request.
ONDEMAND_CONSENT_VERSION = os.environ.get("ONDEMAND_CONSENT_VERSION", "2026-1")
# Help requests accepted per client address (web) or per API key, per window.
ONDEMAND_HELP_REQUEST_LIMIT_PER_CLIENT = env_int("ONDEMAND_HELP_REQUEST_LIMIT_PER_CLIENT", 5)
ONDEMAND_HELP_REQUEST_CLIENT_WINDOW_SECONDS = env_int("ONDEMAND_HELP_REQUEST_CLIENT_WINDOW_SECONDS", 3600)
ONDEMAND_HELP_REQUEST_LIMIT_PER_API_KEY = env_int("ONDEMAND_HELP_REQUEST_LIMIT_PER_API_KEY", 600)
ONDEMAND_HELP_REQUEST_API_KEY_WINDOW_SECONDS = env_int("ONDEMAND_HELP_REQUEST_API_KEY_WINDOW_SECONDS", 3600)
# A phone number with an open request made in the last this many hours cannot make a second one.
ONDEMAND_DUPLICATE_HOURS = env_int("ONDEMAND_DUPLICATE_HOURS", 24)
# Where an Unserved requester is pointed for other help, beside 2-1-1.
ONDEMAND_CALL_CENTRE_PHONE = os.environ.get("ONDEMAND_CALL_CENTRE_PHONE", "1-855-459-6328")
# Routing (DESIGN §5.4; the On Demand FAQ): a General offer lasts 15 minutes with a reminder 5 minutes
# before it expires; then Mass rounds of ONDEMAND_MASS_SIZE helpers (K), each offer 15 minutes.
ONDEMAND_OFFER_MINUTES = env_int("ONDEMAND_OFFER_MINUTES", 15)
ONDEMAND_REMINDER_MINUTES_BEFORE = env_int("ONDEMAND_REMINDER_MINUTES_BEFORE", 5)
ONDEMAND_MASS_SIZE = env_int("ONDEMAND_MASS_SIZE", 5)
# "general_then_mass" (DESIGN §5.4). The others exist for the routing simulation's comparisons only.
ONDEMAND_ROUTING_STRATEGY = os.environ.get("ONDEMAND_ROUTING_STRATEGY", "general_then_mass")
# The 30-minute promise (ADR 0044; docs/ondemand-routing-simulation.md chose the values). Each is off at 0.
# 1. The score weighs each helper's measured responsiveness: points per minute the helper is expected
#    to take to answer (their share of offers answered and median time to answer, with a prior).
ONDEMAND_RESPONSIVENESS_WEIGHT = env_float("ONDEMAND_RESPONSIVENESS_WEIGHT", 1.0, minimum=0)
# 2. A General offer still unanswered this many minutes after it was made is widened: a Mass round of K
#    goes out beside it, the first accept wins, and a General helper beaten to it is not charged a miss.
ONDEMAND_WIDEN_AFTER_MINUTES = env_int("ONDEMAND_WIDEN_AFTER_MINUTES", 3, minimum=0)
# 3. The accepted helper is reminded this many minutes after the clock start if no call is logged, and
#    a helper holding an accepted request not yet called gets no new General offer.
ONDEMAND_DIAL_REMINDER_MINUTES = env_int("ONDEMAND_DIAL_REMINDER_MINUTES", 20, minimum=0)
# 4. The General offer skips helpers on a call and helpers whose schedule ends within this many minutes.
ONDEMAND_CAPACITY_MINUTES = env_int("ONDEMAND_CAPACITY_MINUTES", 20, minimum=0)
# A waiting request with nobody eligible is looked at again this often (and at once when a helper
# becomes available by switching on or registering).
ONDEMAND_ROUTE_RETRY_SECONDS = env_int("ONDEMAND_ROUTE_RETRY_SECONDS", 60)
# After a link accept: the passcode (5 minutes, 5 attempts, Resend cooldown), the 10 minutes before an
# unverified accept goes back to routing as a miss, and the 5 minutes the Customer Details page stays open.
ONDEMAND_PASSCODE_SECONDS = env_int("ONDEMAND_PASSCODE_SECONDS", 5 * 60)
ONDEMAND_PASSCODE_MAX_ATTEMPTS = env_int("ONDEMAND_PASSCODE_MAX_ATTEMPTS", 5)
ONDEMAND_PASSCODE_RESEND_SECONDS = env_int("ONDEMAND_PASSCODE_RESEND_SECONDS", 30)
ONDEMAND_VERIFY_MINUTES = env_int("ONDEMAND_VERIFY_MINUTES", 10)
ONDEMAND_DETAILS_SECONDS = env_int("ONDEMAND_DETAILS_SECONDS", 5 * 60)
