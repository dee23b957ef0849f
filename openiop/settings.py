"""OpenIOP settings: one file, read from the environment.

See README.md ("Configuration") for every variable. A bad value stops the
process at start with a message naming the variable (see openiop/env.py).
"""

from __future__ import annotations

import secrets
import zoneinfo
from datetime import timedelta
from pathlib import Path

import dj_database_url
import django.conf.locale
from django.core.exceptions import ImproperlyConfigured

from openiop.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("OPENIOP_VAR_DIR", str(BASE_DIR / "var")))

# --- modes -----------------------------------------------------------------
# Production mode hardens everything (HTTPS, secure cookies, a real secret key).
# Demo mode lets staff skip two-factor and shows a banner saying so; it is
# refused in production mode because it must never hold real patients.
PRODUCTION = env_bool("OPENIOP_PRODUCTION", False)
DEMO_MODE = env_bool("OPENIOP_DEMO_MODE", False)
if PRODUCTION and DEMO_MODE:
    raise ImproperlyConfigured("OPENIOP_DEMO_MODE cannot be on when OPENIOP_PRODUCTION is on.")
DEBUG = env_bool("DEBUG", False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG cannot be on when OPENIOP_PRODUCTION is on.")


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key:
        if PRODUCTION and len(key) < 50:
            raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters long in production.")
        return key
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY is required when OPENIOP_PRODUCTION is on.")
    # Outside production a key is generated once and kept under var/, so
    # sessions survive a restart of the demo.
    path = VAR_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(64)
    path.write_text(key)
    path.chmod(0o600)
    return key


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is required when OPENIOP_PRODUCTION is on.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# --- applications ------------------------------------------------------------
INSTALLED_APPS = [
    "daphne",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "channels",
    "openiop.core",
    "openiop.accounts",
    "openiop.audit",
    "openiop.scheduling",
    "openiop.intake",
    "openiop.rooms",
    "openiop.measures",
    "openiop.referrals",
    "openiop.outbox",
    "openiop.safety",
    "openiop.portal",
    "openiop.treatment",
    "openiop.fhirapi",
    "openiop.reports",
    "openiop.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "openiop.core.middleware.ClearErrorPagesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A signed-in person's saved language wins over the cookie (set at sign-in; see openiop/portal).
    "openiop.portal.middleware.PreferredLanguageMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "openiop.accounts.middleware.IdleLogoutMiddleware",
    "openiop.accounts.middleware.StaffTwoFactorMiddleware",
    "openiop.audit.middleware.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Axes last, as its documentation asks.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "openiop.urls"
WSGI_APPLICATION = None
ASGI_APPLICATION = "openiop.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "openiop" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "openiop.core.context_processors.openiop",
            ],
        },
    },
]

# --- database ----------------------------------------------------------------
_DEFAULT_DATABASE_URL = f"sqlite:///{VAR_DIR / 'openiop.sqlite3'}"
try:
    _database = dj_database_url.parse(env_str("DATABASE_URL", _DEFAULT_DATABASE_URL) or _DEFAULT_DATABASE_URL)
except Exception as exc:  # dj-database-url raises several types for a bad URL
    raise ImproperlyConfigured(f"DATABASE_URL is not a database URL we understand: {exc}") from None
if _database["ENGINE"] == "django.db.backends.sqlite3":
    if _database["NAME"] != ":memory:":
        Path(_database["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    _database["OPTIONS"] = {
        # WAL lets readers work while one writer writes; IMMEDIATE takes the
        # write lock at BEGIN so two writers queue instead of failing midway.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
elif _database["ENGINE"] not in ("django.db.backends.postgresql",):
    raise ImproperlyConfigured("DATABASE_URL must point at SQLite (sqlite:///path) or PostgreSQL (postgres://...).")
_database["ATOMIC_REQUESTS"] = False
# Tests on SQLite use a file, not shared memory, so that concurrent writers
# wait for the lock as they do in a deployment instead of failing.
_test_name = env_str("OPENIOP_TEST_DATABASE_NAME") or (
    str(VAR_DIR / "test.sqlite3") if _database["ENGINE"] == "django.db.backends.sqlite3" else None
)
_database["TEST"] = {"NAME": _test_name}
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- channels ------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    if not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured("REDIS_URL must start with redis://, rediss:// or unix://.")
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- session rooms (openiop/rooms) ----------------------------------------------
# Up to ROOM_MESH_MAX people: peer-to-peer mesh; more: the Janus VideoRoom SFU (if JANUS_URL is set).
ROOM_MESH_MAX = env_int("OPENIOP_ROOM_MESH_MAX", 4, minimum=2, maximum=12)
ROOM_OPENS_MINUTES = env_int("OPENIOP_ROOM_OPENS_MINUTES", 15, minimum=0, maximum=240)
ROOM_RECONNECT_SECONDS = env_int("OPENIOP_ROOM_RECONNECT_SECONDS", 120, minimum=0, maximum=3600)
ATTENDED_PERCENT = env_int("OPENIOP_ATTENDED_PERCENT", 75, minimum=1, maximum=100)
LATE_MINUTES = env_int("OPENIOP_LATE_MINUTES", 10, minimum=0, maximum=120)
# The weekly dose is measured against IOP_MIN_HOURS_ADULT / _ADOLESCENT (intake's settings, below).
STUN_URLS = env_list("OPENIOP_STUN_URLS", [])
TURN_URLS = env_list("OPENIOP_TURN_URLS", [])
TURN_USERNAME = env_str("OPENIOP_TURN_USERNAME")
TURN_PASSWORD = env_str("OPENIOP_TURN_PASSWORD")
JANUS_URL = env_str("OPENIOP_JANUS_URL")  # backend HTTP API, e.g. http://127.0.0.1:8088/janus
JANUS_CLIENT_URL = env_str("OPENIOP_JANUS_CLIENT_URL")  # what browsers use, e.g. wss://iop.example.org/janus-ws
JANUS_ADMIN_KEY = env_str("OPENIOP_JANUS_ADMIN_KEY")
JANUS_API_SECRET = env_str("OPENIOP_JANUS_API_SECRET")
if JANUS_URL and not (JANUS_CLIENT_URL and JANUS_ADMIN_KEY):
    raise ImproperlyConfigured("OPENIOP_JANUS_URL needs OPENIOP_JANUS_CLIENT_URL and OPENIOP_JANUS_ADMIN_KEY too.")

# --- accounts, passwords, sessions -------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

DEMO_PASSWORD = env_str("OPENIOP_DEMO_PASSWORD", "iop-demo-2026")
INVITATION_DAYS = env_int("OPENIOP_INVITATION_DAYS", 7, minimum=1, maximum=60)
# The outbox (openiop/outbox): how many tries before a message is marked failed for staff to see, and whether
# to try at once after commit (the `send_outbox --loop` worker retries either way).
OUTBOX_MAX_ATTEMPTS = env_int("OPENIOP_OUTBOX_MAX_ATTEMPTS", 6, minimum=1, maximum=20)
OUTBOX_SEND_ON_COMMIT = env_bool("OPENIOP_OUTBOX_SEND_ON_COMMIT", True)
# FHIR bulk exports run in a background thread of the server process; off leaves them to `manage.py run_exports`.
# The outcome report suppresses counts below this (and rates built on them); 11 is the usual CMS cell size.
REPORT_MINIMUM_CELL = env_int("OPENIOP_REPORT_MINIMUM_CELL", 11, minimum=1, maximum=100)
FHIR_EXPORT_IN_BACKGROUND = env_bool("OPENIOP_FHIR_EXPORT_IN_BACKGROUND", True)
PASSWORD_RESET_TIMEOUT = env_int("OPENIOP_PASSWORD_RESET_MINUTES", 60, minimum=5) * 60

# Automatic log-off (HIPAA technical safeguard): after this many idle minutes
# the session ends; a warning shows IDLE_WARNING_SECONDS before.
IDLE_LOGOUT_SECONDS = env_int("OPENIOP_IDLE_LOGOUT_MINUTES", 15, minimum=1, maximum=24 * 60) * 60
IDLE_WARNING_SECONDS = 60
SESSION_COOKIE_AGE = 12 * 60 * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Treatment (openiop/treatment): plan review interval, hours before an unsigned note is on the to-do list,
# progress-review weeks and follow-up check-in days after discharge.
TREATMENT_PLAN_REVIEW_DAYS = env_int("OPENIOP_PLAN_REVIEW_DAYS", 14, minimum=1, maximum=90)
NOTE_SIGN_HOURS = env_int("OPENIOP_NOTE_SIGN_HOURS", 24, minimum=1, maximum=24 * 14)


def _positive_ints(name: str, default: list[str]) -> list[int]:
    values = env_list(name, default)
    if not all(value.strip().isdigit() and int(value) > 0 for value in values):
        raise ImproperlyConfigured(f"{name} must be a comma-separated list of whole numbers above 0.")
    return sorted({int(value) for value in values})


PROGRESS_REVIEW_WEEKS = _positive_ints("OPENIOP_PROGRESS_REVIEW_WEEKS", ["4", "8", "10", "12"])
CHECK_IN_DAYS = _positive_ints("OPENIOP_CHECK_IN_DAYS", ["7", "30"])

# Break-glass: how long an emergency grant to one record lasts.
# --- intake: level-of-care thresholds (clinical reference) and the public form ---
IOP_MIN_HOURS_ADULT = env_int("OPENIOP_IOP_MIN_HOURS_ADULT", 9, minimum=1, maximum=40)
IOP_MIN_HOURS_ADOLESCENT = env_int("OPENIOP_IOP_MIN_HOURS_ADOLESCENT", 6, minimum=1, maximum=40)
PARTIAL_MIN_HOURS = env_int("OPENIOP_PARTIAL_MIN_HOURS", 20, minimum=1, maximum=80)
IOP_MIN_DAYS = env_int("OPENIOP_IOP_MIN_DAYS", 3, minimum=1, maximum=7)
ENROLLMENT_WEEKS = env_int("OPENIOP_ENROLLMENT_WEEKS", 10, minimum=8, maximum=12)
REFERRAL_RATE_LIMIT = env_int("OPENIOP_REFERRAL_RATE_LIMIT", 5, minimum=1, maximum=1000)
REFERRAL_RATE_WINDOW_MINUTES = env_int("OPENIOP_REFERRAL_RATE_WINDOW_MINUTES", 60, minimum=1)
CONSENT_LINK_DAYS = env_int("OPENIOP_CONSENT_LINK_DAYS", 14, minimum=1, maximum=60)

# Weekly schedule builder (openiop/scheduling). The weekly dose is IOP_MIN_HOURS_ADULT / _ADOLESCENT above.
SCHEDULER_GROUP_CAPACITY = env_int("OPENIOP_GROUP_CAPACITY", 12, minimum=2, maximum=12)
SCHEDULER_GROUP_MINIMUM = env_int("OPENIOP_GROUP_MINIMUM", 4, minimum=1, maximum=12)
SCHEDULER_FAMILY_EVERY_WEEKS = env_int("OPENIOP_FAMILY_SESSION_EVERY_WEEKS", 2, minimum=1, maximum=8)
SCHEDULER_TIME_LIMIT_SECONDS = env_int("OPENIOP_SCHEDULER_TIME_LIMIT_SECONDS", 10, minimum=1, maximum=600)
SCHEDULER_WORKERS = env_int("OPENIOP_SCHEDULER_WORKERS", 2, minimum=1, maximum=64)

BREAK_GLASS_MINUTES = env_int("OPENIOP_BREAK_GLASS_MINUTES", 60, minimum=5, maximum=24 * 60)

# Login throttling (django-axes): after AXES_FAILURE_LIMIT wrong passwords for
# one username from one address, that pair is locked for the cool-off time.
AXES_FAILURE_LIMIT = env_int("OPENIOP_LOGIN_FAILURE_LIMIT", 5, minimum=2, maximum=100)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("OPENIOP_LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# Lock-outs key on the same client address the audit log records (so behind a
# trusted proxy one person's wrong passwords do not lock everyone out).
AXES_CLIENT_IP_CALLABLE = "openiop.audit.middleware.client_address"

OTP_TOTP_ISSUER = env_str("OPENIOP_TOTP_ISSUER", "OpenIOP")

# --- email ------------------------------------------------------------------------
# Django 6.1's MAILERS. With EMAIL_HOST unset (outside production), mail is
# printed where the server runs, so the demo's invitation and reset links show.
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "OpenIOP <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
_email_host = env_str("EMAIL_HOST")
EMAIL_CONFIGURED = bool(_email_host)
if _email_host:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": _email_host,
                "port": env_int("EMAIL_PORT", 587, minimum=1, maximum=65535),
                "username": env_str("EMAIL_HOST_USER") or None,
                "password": env_str("EMAIL_HOST_PASSWORD") or None,
                "use_tls": env_bool("EMAIL_USE_TLS", True),
                "timeout": 20,
            },
        }
    }
elif PRODUCTION:
    raise ImproperlyConfigured("EMAIL_HOST is required when OPENIOP_PRODUCTION is on (invitations, password resets).")
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}

# --- the portal (openiop/portal) -------------------------------------------------------
# How many minutes before a session its join button lights up.
ROOM_OPENS_MINUTES_BEFORE = ROOM_OPENS_MINUTES  # one setting: the room and its join button open together
# The weekly minimum for IOP (clinical REFERENCE.md: ASAM 2.1 adults >= 9 h, adolescents >= 6 h).
IOP_WEEKLY_HOURS_ADULT = env_int("OPENIOP_IOP_WEEKLY_HOURS_ADULT", 9, minimum=1, maximum=40)
IOP_WEEKLY_HOURS_ADOLESCENT = env_int("OPENIOP_IOP_WEEKLY_HOURS_ADOLESCENT", 6, minimum=1, maximum=40)
# Session reminders: hours before the start, each a separate reminder.
try:
    REMINDER_HOURS = sorted({int(h) for h in env_list("OPENIOP_REMINDER_HOURS", ["24", "1"])})
except ValueError:
    raise ImproperlyConfigured("OPENIOP_REMINDER_HOURS must list whole numbers of hours, e.g. 24,1.") from None
if not all(1 <= h <= 72 for h in REMINDER_HOURS):
    raise ImproperlyConfigured("OPENIOP_REMINDER_HOURS must be between 1 and 72 hours.")
# Text messages: a dotted path to a class with send(to, text); the default prints to the log.
SMS_BACKEND = env_str("OPENIOP_SMS_BACKEND", "openiop.portal.sms.ConsoleBackend")

# --- security headers ------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
CSRF_FAILURE_VIEW = "openiop.core.views.csrf_failure"
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("OPENIOP_MAX_REQUEST_BYTES", 1024 * 1024, minimum=64 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 500
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if env_bool("OPENIOP_BEHIND_TLS_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The client address (audit log, login throttling): REMOTE_ADDR, or, behind one
# trusted reverse proxy, the address that proxy appended to X-Forwarded-For.
TRUST_X_FORWARDED_FOR = env_bool("OPENIOP_TRUST_X_FORWARDED_FOR", False)

# --- internationalisation ------------------------------------------------------------
# Massachusetts' largest languages after English. Names are in their own language (the switcher shows
# them to people who may not read English). Django ships no locale data for Haitian Creole: LANG_INFO gets
# an entry here, and dates use openiop/formats/ht/formats.py; month and day names are in our catalog.
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("es", "Español"),
    ("pt-br", "Português (Brasil)"),
    ("ht", "Kreyòl ayisyen"),
]
EXTRA_LANG_INFO = {
    "ht": {"bidi": False, "code": "ht", "name": "Haitian Creole", "name_local": "Kreyòl ayisyen"},
}
django.conf.locale.LANG_INFO.update(EXTRA_LANG_INFO)
LOCALE_PATHS = [BASE_DIR / "openiop" / "locale"]
FORMAT_MODULE_PATH = ["openiop.formats"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = env_str("TIME_ZONE", "America/New_York")
try:
    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(
        f"TIME_ZONE must be an IANA time zone such as America/New_York; got {TIME_ZONE!r}."
    ) from None
USE_I18N = True
USE_TZ = True

# --- static files ------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise expects it; finders serve the files
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Outside production WhiteNoise serves straight from the app folders, so the
# demo and the tests need no collectstatic step.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG

_log_level = env_str("LOG_LEVEL", "WARNING").upper()
if _log_level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
    raise ImproperlyConfigured(f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL; got {_log_level!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": _log_level},
}

# --- measures (openiop/measures) -------------------------------------------------------
# Clinical thresholds REFERENCE.md marks unconfirmed or gives as a range.
MEASURES_RELIABLE_CHANGE = {
    "phq9": env_int("OPENIOP_PHQ9_RELIABLE_CHANGE", 6, minimum=1, maximum=27),
    "gad7": env_int("OPENIOP_GAD7_RELIABLE_CHANGE", 4, minimum=1, maximum=21),
    "pcl5": env_int("OPENIOP_PCL5_RELIABLE_CHANGE", 10, minimum=1, maximum=80),
    "who5": env_int("OPENIOP_WHO5_RELIABLE_CHANGE", 10, minimum=1, maximum=100),
}
MEASURES_RESPONSE_DROP_PERCENT = env_int("OPENIOP_RESPONSE_DROP_PERCENT", 50, minimum=1, maximum=100)
MEASURES_PHQ9_REMISSION_BELOW = env_int("OPENIOP_PHQ9_REMISSION_BELOW", 5, minimum=1, maximum=27)
MEASURES_PCL5_PROBABLE_PTSD = env_int("OPENIOP_PCL5_PROBABLE_PTSD", 33, minimum=31, maximum=33)
# Weekly measures fall due on this weekday (0 = Monday ... 6 = Sunday).
MEASURES_WEEKLY_DAY = env_int("OPENIOP_MEASURES_WEEKLY_DAY", 0, minimum=0, maximum=6)
# Discharge measures fall due this many days before the planned end date.
MEASURES_DISCHARGE_DAYS = env_int("OPENIOP_MEASURES_DISCHARGE_DAYS", 7, minimum=0, maximum=60)
