"""Django settings for CloseLoop. Everything deployment-specific comes from the environment."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url
from csp.constants import NONE, SELF

from closeloop.env import (
    CONSOLE_EMAIL_BACKEND,
    ImproperEnvironment,
    env_bool,
    env_ca_file,
    env_email_url,
    env_int,
    env_list,
    env_proxy_ssl_header,
    env_str,
    env_url,
    persistent_secret_key,
)
from closeloop.mailin.conf import mailboxes_from_env
from closeloop.notifications.gateways.conf import (
    SMS_BACKENDS,
    aliyun_sms_from_env,
    dingtalk_robots_from_env,
    http_sms_from_env,
    sms_backend_from_env,
    sms_templates_from_env,
    staff_channel_by_role_from_env,
    staff_channel_default_from_env,
    tencent_sms_from_env,
    wecom_from_env,
    wecom_robots_from_env,
)
from closeloop.sso.conf import sso_from_env

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("CLOSELOOP_DATA_DIR", str(BASE_DIR / "var")))
DATA_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = persistent_secret_key(DATA_DIR)
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["*"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# `closeloop serve` (what `make run` starts): where gunicorn listens and how many workers it runs.
SERVE_HOST = env_str("HOST", "127.0.0.1")
SERVE_PORT = env_int("PORT", 8000)
SERVE_WEB_WORKERS = env_int("WEB_WORKERS", 2)
# Where customers and staff reach CloseLoop: every link sent by SMS or e-mail (survey links, alerts,
# reports, improvement actions) starts with it. Unset, it is the address `closeloop serve` listens on,
# right for the local demo only: `closeloop check --deploy` refuses it (closeloop/core/checks.py).
SITE_URL = env_url("SITE_URL", f"http://{SERVE_HOST}:{SERVE_PORT}")

INSTALLED_APPS = [
    # The admin with its login sent to the desk's (one login page, one lockout, one second factor).
    "closeloop.accounts.admin_site.AccountsAdminConfig",
    # Before django.contrib.auth: its createsuperuser (password policy without a TTY too) wins.
    "closeloop.accounts",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "huey.contrib.djhuey",
    "ninja",
    "csp",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "rules",
    "closeloop.core",
    "closeloop.directory",
    "closeloop.knowledge",
    "closeloop.complaints",
    "closeloop.macros",
    "closeloop.portal",
    "closeloop.sla",
    "closeloop.notifications",
    "closeloop.handling",
    "closeloop.mailin",
    "closeloop.followup",
    "closeloop.serviceorders",
    "closeloop.insight",
    "closeloop.improvement",
    "closeloop.defects",
    "closeloop.triage",
    "closeloop.imports",
    "closeloop.demo",
    "closeloop.sso",
    "closeloop.integrations",
    "closeloop.cli",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below WhiteNoise: static files are answered before these run (they may be cached, carry no CSP).
    "csp.middleware.CSPMiddleware",
    "closeloop.core.headers.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "closeloop.core.middleware.NulCharacterMiddleware",
    "closeloop.accounts.middleware.SessionLifetimeMiddleware",
    "closeloop.accounts.middleware.TwoFactorMiddleware",
    # A browser's refused form: Post/Redirect/Get to an address that reloads safely (core/kept.py).
    "closeloop.core.kept.RefusedFormMiddleware",
    # Outside the outage middleware: an answer of 503 releases the key so that a retry runs again.
    "closeloop.core.idempotency.IdempotencyMiddleware",
    "closeloop.accounts.api_scopes.RateLimitHeadersMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "closeloop.core.middleware.DatabaseOutageMiddleware",
    # Last, as axes asks: it turns a login that hit the failure limit into the lockout page.
    "axes.middleware.AxesMiddleware",
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
                "closeloop.authz.context_processors.may",
                "closeloop.authz.context_processors.menu",
                "closeloop.notifications.context_processors.unread",
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
    # Django's backend, with writers that queue on a lock file rather than SQLite's sleeping busy
    # handler (closeloop/core/sqlite/base.py: two workers wrote no faster than one).
    DATABASES["default"]["ENGINE"] = "closeloop.core.sqlite"
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the worker read while the web writes; IMMEDIATE takes the write lock at BEGIN so two
        # writers queue (on the lock file, then `timeout`) instead of failing with "database is locked" mid-way.
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

# --- Auth (OWASP ASVS level 2; docs/operations.md "Accounts and sessions") ---------------------
# Length and a blocklist, no composition rules (ASVS 2.1.1, 2.1.7, 2.1.9).
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"  # each role's own (closeloop/authz/navigation.py: HOMES)
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = 60 * 60  # a reset link works for an hour

# Failed logins (password or second factor) per account and per client address within the window
# lock that account or address for the window; a lockout is lifted by time or by an administrator.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_FAILURE_LIMIT_PER_ADDRESS = env_int("LOGIN_FAILURE_LIMIT_PER_ADDRESS", LOGIN_FAILURE_LIMIT)
LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 15)
# axes reads the two above through these (so that changing them, in a test too, is one setting).
AXES_FAILURE_LIMIT = "closeloop.accounts.lockout.failure_limit"
AXES_COOLOFF_TIME = "closeloop.accounts.lockout.lockout_duration"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_HANDLER = "closeloop.accounts.lockout.LockoutHandler"
AXES_LOCKOUT_CALLABLE = "closeloop.accounts.views.login.locked_out"
AXES_CLIENT_IP_CALLABLE = "closeloop.accounts.lockout.client_address"
AXES_USERNAME_CALLABLE = "closeloop.accounts.lockout.username_for_lockout"
# Our session records say who logged in when and from where; axes keeps only the failures.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False  # its start-up banner on every command; lockouts are logged by LockoutHandler

# Two-factor authentication (TOTP, with single-use recovery codes).
TOTP_REQUIRED_ROLES = env_list("TOTP_REQUIRED_ROLES", ["admin", "management"])
OTP_TOTP_ISSUER = env_str("TOTP_ISSUER", "CloseLoop")
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Sessions end after this long without a request, and this long after the login in any case.
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 30)
SESSION_MAX_HOURS = env_int("SESSION_MAX_HOURS", 12)
SESSION_COOKIE_AGE = SESSION_MAX_HOURS * 3600
SESSION_ENGINE = "closeloop.accounts.sessions"  # Django's database sessions, read by a prepared look-up

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
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(DATA_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on every request when it is missing
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(DATA_DIR / "media")))
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
# Call recordings and voice messages (WAV, MP3, AMR, M4A, sniffed from the bytes): accepted besides the
# types above, up to this size each.
AUDIO_MAX_BYTES = env_int("AUDIO_MAX_BYTES", 30 * 1024 * 1024)
# The portal's status lookup (closeloop/portal/lookup.py): wrong answers allowed per address and window,
# and wrong last-4 answers per complaint number and window (from all addresses; then the whole phone
# number is asked for).
PORTAL_LOOKUP_MAX_ATTEMPTS = env_int("PORTAL_LOOKUP_MAX_ATTEMPTS", 5)
PORTAL_LOOKUP_WINDOW_SECONDS = env_int("PORTAL_LOOKUP_WINDOW_SECONDS", 15 * 60)
# How long a portal visitor may see a complaint after submitting it or proving the phone number.
PORTAL_GRANT_SECONDS = env_int("PORTAL_GRANT_SECONDS", 60 * 60)
PORTAL_MAX_ATTACHMENTS = env_int("PORTAL_MAX_ATTACHMENTS", 6)
PORTAL_LOOKUP_NUMBER_MAX_WRONG = env_int("PORTAL_LOOKUP_NUMBER_MAX_WRONG", 10)
PORTAL_LOOKUP_NUMBER_WINDOW_SECONDS = env_int("PORTAL_LOOKUP_NUMBER_WINDOW_SECONDS", 24 * 60 * 60)
QUEUE_PAGE_SIZE = env_int("QUEUE_PAGE_SIZE", 25)
# Queues and searches count up to this many and then say "10,000+" (counting a million rows costs more
# than showing the page); also the most ids a search resolves from its indexes.
QUEUE_COUNT_CAP = env_int("QUEUE_COUNT_CAP", 10_000)
# Searches by a whole phone number or e-mail address per user and hour, for roles that see them masked.
PERSONAL_DATA_SEARCH_MAX_PER_HOUR = env_int("PERSONAL_DATA_SEARCH_MAX_PER_HOUR", 20)
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

# axes first: it refuses a locked-out account or address before any backend checks a password. Then
# rules: it authenticates nobody and answers only the permissions of closeloop/authz.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "closeloop.core.backends.ModelBackendOneQuery",
]

# --- Integrations: idempotent writes, webhooks, token limits (docs/operations.md, "Integrations") ----
# How long an Idempotency-Key and the answer it stands for are kept (a retry later runs again).
IDEMPOTENCY_TTL_HOURS = env_int("IDEMPOTENCY_TTL_HOURS", 24)
# Requests per minute and API token (fixed one-minute windows, counted in the cache); 0: no limit. On by
# default with Redis; without it the counter lives in the database cache, where each counted request
# costs some 18 statements (measured), so it is off unless set.
API_TOKEN_RATE_PER_MINUTE = env_int("API_TOKEN_RATE_PER_MINUTE", 120 if REDIS_URL else 0)
# How long a process keeps a live API key's token, user and permissions (accounts/api_auth.py; 0: never).
API_TOKEN_CACHE_SECONDS = env_int("API_TOKEN_CACHE_SECONDS", 5)
# Webhook deliveries (each attempt waits GATEWAY_TIMEOUT_SECONDS): attempts before a delivery fails, the first
# backoff (doubled after each failure), and how much of the receiver's answer the delivery log keeps.
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 8)
WEBHOOK_BACKOFF_SECONDS = env_int("WEBHOOK_BACKOFF_SECONDS", 30)
WEBHOOK_RESPONSE_KEEP_CHARS = env_int("WEBHOOK_RESPONSE_KEEP_CHARS", 2000)

# --- Single sign-on (LDAP / Active Directory, OpenID Connect) ----------------------------------
# Read from the LDAP_* and OIDC_* variables (closeloop/sso/conf.py); each configured sign-in adds its
# backend after the password backend, which keeps answering permissions for everyone.
SSO = sso_from_env()
AUTHENTICATION_BACKENDS += SSO.backends

CACHES: dict[str, dict[str, Any]] = {
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

# --- Gateways (docs/operations.md, "Gateways"; closeloop/notifications/gateways/conf.py) --------------
# SMS_BACKEND: console (the log), aliyun, tencent, http (a generic gateway) or a class path of one's own.
_sms_backend = sms_backend_from_env()
SMS_BACKEND = _sms_backend
SMS_TEMPLATES = sms_templates_from_env()
ALIYUN_SMS = aliyun_sms_from_env(required=_sms_backend == SMS_BACKENDS["aliyun"])
TENCENT_SMS = tencent_sms_from_env(required=_sms_backend == SMS_BACKENDS["tencent"])
SMS_HTTP = http_sms_from_env(required=_sms_backend == SMS_BACKENDS["http"])
# Staff: in-app always, plus the channel a person chose, else their role's, else STAFF_CHANNEL_DEFAULT.
STAFF_CHANNEL_DEFAULT = staff_channel_default_from_env()
STAFF_CHANNEL_BY_ROLE = staff_channel_by_role_from_env()
WECOM = wecom_from_env()
WECOM_ROBOTS = wecom_robots_from_env()
DINGTALK_ROBOTS = dingtalk_robots_from_env()
# Every gateway call waits at most this long; an outbox worker thread is never held longer.
GATEWAY_TIMEOUT_SECONDS = env_int("GATEWAY_TIMEOUT_SECONDS", 10)
# A PEM file of CA certificates trusted besides the system's, by SMTP (EMAIL_URL) and the gateways:
# a company CA that signed the mail relay's or an in-house gateway's certificate.
EXTRA_CA_CERTS = env_ca_file("EXTRA_CA_CERTS")
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 5)
OUTBOX_STALE_SECONDS = env_int("OUTBOX_STALE_SECONDS", 300)
# Live updates of the desk: the notification badge and "this complaint changed" are polled this often (0: off).
LIVE_POLL_SECONDS = env_int("LIVE_POLL_SECONDS", 20)

# --- E-mail intake (docs/operations.md, "E-mail intake"; closeloop/mailin/) ----------------------
# A complaint from the MTA pipe (`closeloop mail ingest`) starts with this type, unless the command says
# otherwise; a mailbox of MAIL_INTAKE_URL without ?type= too.
MAIL_DEFAULT_TYPE = env_str("MAIL_DEFAULT_TYPE", "other")
# The mailboxes the worker polls (IMAP URLs separated by spaces, each with its defaults).
MAIL_INTAKE_MAILBOXES = mailboxes_from_env(
    env_str("MAIL_INTAKE_URL"), name="MAIL_INTAKE_URL", default_type=MAIL_DEFAULT_TYPE
)
# The complaints mailbox customers reply to: the Reply-To of every mail to a customer ("": none, the
# From address receives the replies).
MAIL_REPLY_TO = env_str("MAIL_REPLY_TO", "")
# A message larger than this is refused (logged) and kept in MAIL_QUARANTINE_DIR for a person to look at.
MAIL_MAX_BYTES = env_int("MAIL_MAX_BYTES", 25 * 1024 * 1024)
MAIL_QUARANTINE_DIR = Path(env_str("MAIL_QUARANTINE_DIR", str(DATA_DIR / "mail-quarantine")))
# The address a complaint to triage is filed under when the mail names no sender we can read.
MAIL_TRIAGE_ADDRESS = env_str("MAIL_TRIAGE_ADDRESS", "unknown-sender@mail.invalid")
# How long one IMAP poll waits for the server.
MAIL_IMAP_TIMEOUT_SECONDS = env_int("MAIL_IMAP_TIMEOUT_SECONDS", 30)

# --- Triage (docs/operations.md, "Triage"; closeloop/triage/) -------------------------------------
# Below this many closed complaints the suggestions come from rules and the roster (cold start), and no
# model is trained.
TRIAGE_MIN_HISTORY = env_int("TRIAGE_MIN_HISTORY", 300)
# A training run learns from at most the newest this many closed complaints.
TRIAGE_MAX_HISTORY = env_int("TRIAGE_MAX_HISTORY", 200_000)
# The learned hazard model flags a complaint no lexicon word flagged only at this confidence (percent).
TRIAGE_HAZARD_MODEL_MIN = env_int("TRIAGE_HAZARD_MODEL_PERCENT", 80) / 100
# Similar complaints: the open ones and those received within this many days.
TRIAGE_SIMILAR_DAYS = env_int("TRIAGE_SIMILAR_DAYS", 30)
# Text clusters: this many complaints of one product line within this many days whose words resemble
# each other at this similarity (percent, average cosine of the model's weighted words; without a model
# closeloop/triage/similar.py uses plain character pairs at 35 %) raise a defect alert.
TRIAGE_CLUSTER_SIZE = env_int("TRIAGE_CLUSTER_SIZE", 5)
TRIAGE_CLUSTER_DAYS = env_int("TRIAGE_CLUSTER_DAYS", 14)
TRIAGE_CLUSTER_SIMILARITY = env_int("TRIAGE_CLUSTER_SIMILARITY_PERCENT", 5) / 100

# --- E-mail ---------------------------------------------------------------------------------------
EMAIL_MESSAGE_ID_DOMAIN = env_str("EMAIL_MESSAGE_ID_DOMAIN", "closeloop")
# One URL says how mail leaves: smtp+tls://user:pass@mail.example.com:587 (STARTTLS), smtps://…:465
# (TLS from the start), console:// (the log; the default), file:///dir, dummy://. closeloop/env.py reads it.
_email_dir = env_str("EMAIL_FILE_PATH", str(DATA_DIR / "mail"))
_email = env_email_url("EMAIL_URL", file_path=_email_dir)
if _email is not None and env_str("EMAIL_BACKEND"):
    raise ImproperEnvironment("EMAIL_URL and EMAIL_BACKEND are both set: set only one of them")
# EMAIL_BACKEND names a backend class directly (a custom one); EMAIL_URL is the usual way.
EMAIL_BACKEND = _email.backend if _email else env_str("EMAIL_BACKEND", CONSOLE_EMAIL_BACKEND)
EMAIL_HOST = _email.host if _email else "localhost"
EMAIL_PORT = _email.port if _email else 25
EMAIL_HOST_USER = _email.user if _email else ""
EMAIL_HOST_PASSWORD = _email.password if _email else ""
EMAIL_USE_TLS = _email.use_tls if _email else False
EMAIL_USE_SSL = _email.use_ssl if _email else False
EMAIL_TIMEOUT = _email.timeout if _email else 30
# For django's file-based e-mail backend (the soak's mail sink, or a dry run of a new installation).
EMAIL_FILE_PATH = _email.file_path if _email else _email_dir
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", (_email and _email.default_from_email) or "closeloop@localhost")
# The sender of Django's own mails to ADMINS/MANAGERS (none are configured by default).
SERVER_EMAIL = env_str("SERVER_EMAIL", (_email and _email.server_email) or DEFAULT_FROM_EMAIL)

# --- HTTPS ----------------------------------------------------------------------------------------
# HTTPS=true when users reach CloseLoop through a TLS-terminating proxy (docs/operations.md, nginx):
# cookies only over HTTPS, HSTS, and http:// redirected to https://.
HTTPS = env_bool("HTTPS", False)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
# One year once HTTPS is on; start lower (e.g. 300) on the first day of a new installation.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
# Preloading commits the whole registrable domain (every other site of the company) to HTTPS for
# months; that is the domain owner's decision, not this application's (docs/decisions.md).
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# How Django learns that the proxy received HTTPS. Only behind a proxy that sets (overwrites) this
# header on every request: a client reaching gunicorn directly could claim HTTPS with it.
SECURE_PROXY_SSL_HEADER = env_proxy_ssl_header("SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto" if HTTPS else None)
SILENCED_SYSTEM_CHECKS = ["security.W021"]  # SECURE_HSTS_PRELOAD off by decision (above)

# --- Security headers -------------------------------------------------------------------------------
# django-csp 4. No inline script anywhere (behaviour lives in closeloop/static/closeloop/desk.js and
# closeloop/portal/static/portal/portal.js); no inline style either: the dashboard's SVG charts carry
# presentation attributes instead (closeloop/insight/charts.py). The admin and ninja's Swagger UI page
# (/api/v1/docs, whose start-up script is a static file since django-ninja 1.x) need nothing more:
# tests/browser/test_csp.py opens them.
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
    }
}
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # The development server's request lines carry searches (phone numbers, e-mail addresses).
    "filters": {
        "mask_request_line": {"()": "closeloop.core.accesslog.RequestLineFilter"},
        "mask_request_path": {"()": "closeloop.core.accesslog.RequestPathFilter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # The subsetter and instancer of the PDF fonts (closeloop/core/pdf_fonts.py) log every table they touch.
        "fontTools": {"level": "WARNING"},
        # Not Found / Internal Server Error lines name the path, which may hold a phone number typed as an id.
        "django.request": {"filters": ["mask_request_path"]},
        "django.server": {
            "handlers": ["console"],
            "filters": ["mask_request_line"],
            "level": "INFO",
            "propagate": False,
        },
    },
}
