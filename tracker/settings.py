"""Settings for the resettlement tracker, read from the environment.

Development (``DJANGO_DEBUG=1``) runs with safe local defaults: a SQLite file inside the
checkout and a throwaway secret key. Anything else is production: the secret key, the
allowed hosts and a PostgreSQL ``DATABASE_URL`` must be given, or start-up fails loudly.
"""

from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)

if DEBUG:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="insecure-development-only-key")
    ALLOWED_HOSTS = env.list(
        "DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"]
    )
else:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
    if not SECRET_KEY:
        raise ImproperlyConfigured("Set DJANGO_SECRET_KEY (or DJANGO_DEBUG=1 for development).")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("Set DJANGO_ALLOWED_HOSTS (or DJANGO_DEBUG=1 for development).")

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers wait for each other instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 20)
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
elif not DEBUG and "postgresql" not in DATABASES["default"]["ENGINE"]:
    raise ImproperlyConfigured("Production needs a PostgreSQL DATABASE_URL (postgres://...).")
if not DEBUG and DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    raise ImproperlyConfigured("Production needs a PostgreSQL DATABASE_URL (postgres://...).")

if env.str("DATABASE_REPLICA_URL", default=""):
    # A read-only PostgreSQL replica for reports and exports (see tracker/db_router.py). In tests
    # it mirrors the default database, so the router is exercised on one test database.
    DATABASES["replica"] = env.db_url("DATABASE_REPLICA_URL")
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["tracker.db_router.PrimaryReplicaRouter"]

for _alias in DATABASES.values():
    if "postgresql" in _alias["ENGINE"]:
        # JIT compilation pays off for hour-long analytics, not for pages: on a big register the
        # planner's cost estimates switch it on and it adds 0.3-0.6 s to a report. ISO dates:
        # the CSV exports cast dates to text (docs/scaling.md).
        _options = _alias.setdefault("OPTIONS", {})
        _options["options"] = f"{_options.get('options', '')} -c jit=off -c DateStyle=ISO".strip()

        # Persistent connections: a new PostgreSQL connection costs 10-30 ms, more than a list
        # page's queries. Checked before reuse: one broken by a database restart is replaced.
        _alias["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
        _alias["CONN_HEALTH_CHECKS"] = True

if env.bool("DATABASE_POOL", default=False):
    # psycopg 3's connection pool (Django 5.1+); needs the psycopg-pool package, which is not in
    # requirements.lock: install it where the pool is wanted (see docs/scaling.md).
    for alias in DATABASES.values():
        if "postgresql" in alias["ENGINE"]:
            alias.setdefault("OPTIONS", {})["pool"] = True
            alias["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "simple_history",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    "resettlement",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "resettlement.languages.PreferredLanguageMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "resettlement.middleware.AbsoluteSessionLifetimeMiddleware",
    "resettlement.middleware.RequireTwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "resettlement.middleware.NoStoreMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "tracker.db_router.PinToPrimaryMiddleware",
    # Last, as django-axes asks: it turns a lockout into the lockout response.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # Refuses sign-in while a username+address is locked out, then the normal check.
    "resettlement.auth_backends.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "tracker.urls"
WSGI_APPLICATION = "tracker.wsgi.application"

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
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"

# --- authentication hardening ---------------------------------------------------------------
# Lockout after this many failed sign-ins for one username from one address; others still sign in.
AXES_FAILURE_LIMIT = env.int("DJANGO_LOGIN_FAILURE_LIMIT", default=5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = env.float("DJANGO_LOCKOUT_HOURS", default=1.0)
AXES_RESET_ON_SUCCESS = True
# Behind a reverse proxy, the client address comes from X-Forwarded-For (see auth_backends.py).
TRUSTED_PROXY_COUNT = env.int("DJANGO_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "resettlement.auth_backends.client_ip"

# Staff must pass a TOTP second factor; on by default in production, off in development.
REQUIRE_2FA = env.bool("DJANGO_REQUIRE_2FA", default=not DEBUG)
OTP_TOTP_ISSUER = env.str("DJANGO_OTP_ISSUER", default="Resettlement tracker")

# Inactivity expiry (every request renews the cookie) and an absolute lifetime after sign-in.
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_IDLE_SECONDS", default=30 * 60)
# Idle expiry: an active session is re-saved once a minute (resettlement.middleware).
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_ABSOLUTE_SECONDS = env.int("DJANGO_SESSION_ABSOLUTE_SECONDS", default=10 * 60 * 60)

# History is read-only in the admin: no "revert to this version" that bypasses the forms' checks.
SIMPLE_HISTORY_REVERT_DISABLED = True

# Retention: anonymise cases closed longer than this (manage.py anonymise_closed_cases).
RETENTION_CLOSED_CASE_DAYS = env.int("DJANGO_RETENTION_CLOSED_CASE_DAYS", default=5 * 365)

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("ru", _("Russian")),
    ("kk", _("Kazakh")),
    ("ky", _("Kyrgyz")),
]
# locale/: our own strings (makemessages writes here). locale_django/: Kazakh for Django's own
# admin strings that Django does not translate yet (hand-maintained, never regenerated).
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale_django"]
# Dates as 30.11.2026 in every language; kk has no format module in Django (see tracker/formats).
FORMAT_MODULE_PATH = ["tracker.formats"]
# Off on purpose: with it on, every year ({{ 2026 }}, quota years in admin lists) renders as
# "2 026". Quantities and money are grouped explicitly with the ``number``/``money`` filters.
USE_THOUSAND_SEPARATOR = False
TIME_ZONE = "Asia/Almaty"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# In development whitenoise serves straight from the app folders; no collectstatic needed.
WHITENOISE_AUTOREFRESH = DEBUG
WHITENOISE_USE_FINDERS = DEBUG

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# No inline scripts anywhere; the admin's scripts and styles come from our own origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Household CSV imports: the largest file accepted (bytes). 50,000 rows are about 12 MB.
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=50 * 1024 * 1024)
# A confirmed file with more rows than this is written in a background thread; the batch's page
# shows the progress (kept in the cache below, which every gunicorn worker shares).
IMPORT_BACKGROUND_ROWS = env.int("DJANGO_IMPORT_BACKGROUND_ROWS", default=2000)

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": env.str("DJANGO_CACHE_DIR", default=str(BASE_DIR / "var" / "cache")),
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    # django-axes logs every sign-in at INFO; lockouts come at WARNING.
    "loggers": {"axes": {"level": "WARNING"}},
}
