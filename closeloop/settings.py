"""Django settings for CloseLoop. Everything deployment-specific comes from the environment."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

from closeloop.env import env_bool, env_int, env_list, env_str, persistent_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("CLOSELOOP_DATA_DIR", str(BASE_DIR / "var")))  # type: ignore[arg-type]
DATA_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = persistent_secret_key(DATA_DIR)
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["*"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "huey.contrib.djhuey",
    "ninja",
    "closeloop.core",
    "closeloop.directory",
    "closeloop.complaints",
    "closeloop.portal",
    "closeloop.sla",
    "closeloop.notifications",
    "closeloop.handling",
    "closeloop.followup",
    "closeloop.insight",
    "closeloop.improvement",
    "closeloop.defects",
    "closeloop.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "closeloop.core.middleware.NulCharacterMiddleware",
    "closeloop.core.middleware.DatabaseOutageMiddleware",
]

ROOT_URLCONF = "closeloop.urls"
WSGI_APPLICATION = "closeloop.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "closeloop" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "closeloop.core.context_processors.roles",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'closeloop.sqlite3'}")
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True)
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # PostgreSQL's JIT compiler spent ~2.5 s compiling each KPI aggregate (measured on the dashboard at
    # 23k complaints a month) for queries that run in well under a second without it.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
# The dashboard's KPI tables are computed at most this often per period and cuts (0: every request).
KPI_CACHE_SECONDS = env_int("KPI_CACHE_SECONDS", 300)
# How long a request that lost its database connection waits for it to come back before failing.
DB_OUTAGE_WAIT_SECONDS = env_int("DB_OUTAGE_WAIT_SECONDS", 15)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the worker read while the web writes; IMMEDIATE takes the write lock at BEGIN so
        # two writers queue on busy_timeout instead of failing with "database is locked" mid-way.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
    }
    # A file, not shared-cache memory, so that tests see the same locking as production: concurrent
    # writers wait on busy_timeout instead of failing with "table is locked".
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / f"test-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Background work (Huey) ---------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
HUEY_IMMEDIATE = env_bool("HUEY_IMMEDIATE", False)
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": env_str("HUEY_NAME", "closeloop"),
        "url": REDIS_URL,
        "immediate": HUEY_IMMEDIATE,
        "utc": True,
        "consumer": {"workers": env_int("HUEY_WORKERS", 2), "worker_type": "thread"},
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "closeloop",
        "filename": str(DATA_DIR / "huey.sqlite3"),
        "immediate": HUEY_IMMEDIATE,
        "utc": True,
        "consumer": {"workers": env_int("HUEY_WORKERS", 2), "worker_type": "thread"},
    }

# --- Auth -------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "desk:queue"
LOGOUT_REDIRECT_URL = "login"

# --- Internationalisation -------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "closeloop" / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files ------------------------------------------------------------------
STATIC_URL = "static/"
# Project-wide assets (desk and portal CSS/JS) live outside any one app.
STATICFILES_DIRS = [BASE_DIR / "closeloop" / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(DATA_DIR / "static")))  # type: ignore[arg-type]
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on every request when it is missing
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(DATA_DIR / "media")))  # type: ignore[arg-type]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True  # serve straight from the installed packages when collectstatic was not run

# --- CloseLoop --------------------------------------------------------------------------------
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
ATTACHMENT_ALLOWED_TYPES = env_list(
    "ATTACHMENT_ALLOWED_TYPES",
    ["image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf", "text/plain"],
)
# The portal's status lookup (closeloop/portal/lookup.py): wrong answers allowed per address and window,
# and wrong last-4 answers per complaint number and window (from all addresses; then the whole phone
# number is asked for).
PORTAL_LOOKUP_MAX_ATTEMPTS = env_int("PORTAL_LOOKUP_MAX_ATTEMPTS", 5)
PORTAL_LOOKUP_WINDOW_SECONDS = env_int("PORTAL_LOOKUP_WINDOW_SECONDS", 15 * 60)
PORTAL_LOOKUP_NUMBER_MAX_WRONG = env_int("PORTAL_LOOKUP_NUMBER_MAX_WRONG", 10)
PORTAL_LOOKUP_NUMBER_WINDOW_SECONDS = env_int("PORTAL_LOOKUP_NUMBER_WINDOW_SECONDS", 24 * 60 * 60)
QUEUE_PAGE_SIZE = env_int("QUEUE_PAGE_SIZE", 25)
# Queues and searches count up to this many and then say "10,000+" (counting a million rows costs more
# than showing the page); also the most ids a search resolves from its indexes.
QUEUE_COUNT_CAP = env_int("QUEUE_COUNT_CAP", 10_000)
# Closing the loop (issue 5).
FOLLOWUP_MAX_ATTEMPTS = env_int("FOLLOWUP_MAX_ATTEMPTS", 3)  # on different days, then "unreachable"
REPEAT_WINDOW_DAYS = env_int("REPEAT_WINDOW_DAYS", 90)
ARCHIVE_AFTER_DAYS = env_int("ARCHIVE_AFTER_DAYS", 7)
RETENTION_YEARS = env_int("RETENTION_YEARS", 2)
SURVEY_LINK_DAYS = env_int("SURVEY_LINK_DAYS", 7)
PORTAL_FORM_MIN_SECONDS = env_int("PORTAL_FORM_MIN_SECONDS", 3)
PORTAL_FORM_MAX_AGE_SECONDS = env_int("PORTAL_FORM_MAX_AGE_SECONDS", 7200)
PORTAL_SUBMIT_MAX_PER_IP = env_int("PORTAL_SUBMIT_MAX_PER_IP", 10)
PORTAL_SUBMIT_WINDOW_SECONDS = env_int("PORTAL_SUBMIT_WINDOW_SECONDS", 3600)
# Behind a reverse proxy set this to HTTP_X_FORWARDED_FOR (the last address in the list is used).
PORTAL_CLIENT_IP_HEADER = env_str("PORTAL_CLIENT_IP_HEADER", "REMOTE_ADDR")

AUTHENTICATION_BACKENDS = ["closeloop.core.backends.ModelBackendOneQuery"]

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "closeloop_cache",
            # Rate-limit counters live here; the default of 300 entries would evict them under a flood.
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    )
}

SMS_BACKEND = env_str("SMS_BACKEND", "closeloop.notifications.backends.ConsoleSmsBackend")
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 5)
OUTBOX_STALE_SECONDS = env_int("OUTBOX_STALE_SECONDS", 300)

EMAIL_MESSAGE_ID_DOMAIN = env_str("EMAIL_MESSAGE_ID_DOMAIN", "closeloop")
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
# For django's file-based e-mail backend (the soak's mail sink, or a dry run of a new installation).
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(DATA_DIR / "mail"))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "closeloop@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
