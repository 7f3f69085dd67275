"""Settings for the registry site.

Every value that differs between the embedded default and a scaled-out deployment is read
from the environment here, and nowhere else. The README lists the variables.
"""

from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from registry_site.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)

# The demo (DEBUG on) may run with a fixed key; anything else must bring its own.
SECRET_KEY = env_str("SECRET_KEY") or ""
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it to a long random string, or set DEBUG=1 for a "
            "local demo."
        )
    SECRET_KEY = "django-insecure-local-demo-key-never-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
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
    "csp",
    "axes",
    "guardian",
    "apps.core",
    "apps.orgs",
    "apps.audit",
    "apps.registry",
    "apps.notices",
    "apps.automations",
    "apps.legacy",
    "apps.migration",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "apps.api",
    "apps.graphql_api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before CsrfViewMiddleware, which reads the form of a POST: a body over the limit
    # gets 413 there, not Django's bare 400.
    "apps.core.request_size.RequestBodyLimitMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# Registry access never comes from an anonymous user row.
ANONYMOUS_USER_NAME = None

ROOT_URLCONF = "registry_site.urls"
WSGI_APPLICATION = "registry_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.notices.context_processors.site_notices",
            ],
        },
    },
]

# SQLite by default; DATABASE_URL (postgres://user:pass@host:5432/name) for PostgreSQL.
_sqlite_path = env_str("SQLITE_PATH") or str(BASE_DIR / "db.sqlite3")
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{_sqlite_path}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock when a transaction starts, so two writers queue up
    # instead of one failing with "database is locked" when it tries to upgrade its lock.
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The largest request body read into memory: a JSON manifest or a form. File contents are
# streamed and limited by ARTIFACT_FILE_MAX_BYTES instead. Larger bodies get 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("REQUEST_BODY_MAX_BYTES", 2_621_440)
if DATA_UPLOAD_MAX_MEMORY_SIZE < 1024:
    raise ImproperlyConfigured(
        f"REQUEST_BODY_MAX_BYTES={DATA_UPLOAD_MAX_MEMORY_SIZE} is too small to sign in; use "
        f"1024 or more (the default is 2621440, 2.5 MiB)."
    )

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "registry:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
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
# Without collectstatic (tests, a quick local run with DEBUG off) whitenoise serves the
# finder's files directly.
WHITENOISE_USE_FINDERS = env_bool("WHITENOISE_USE_FINDERS", DEBUG)
if WHITENOISE_USE_FINDERS:
    STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"

# Registry behaviour.
REGISTRY_PATH_PREFIX = env_str("REGISTRY_PATH_PREFIX") or "wandb-registry-"
REGISTRY_PAGE_SIZE = env_int("REGISTRY_PAGE_SIZE", 25)
# Days a migrated legacy registry stays readable before its views hide themselves.
LEGACY_RETENTION_DAYS = env_int("LEGACY_RETENTION_DAYS", 28)
# How long before a migration's window its notices start: the announcement, the reminder
# (warning) and the final reminder (critical).
MIGRATION_ANNOUNCEMENT_LEAD_DAYS = env_int("MIGRATION_ANNOUNCEMENT_LEAD_DAYS", 42)
MIGRATION_REMINDER_LEAD_DAYS = env_int("MIGRATION_REMINDER_LEAD_DAYS", 7)
MIGRATION_FINAL_REMINDER_LEAD_HOURS = env_int("MIGRATION_FINAL_REMINDER_LEAD_HOURS", 24)
if not (
    MIGRATION_ANNOUNCEMENT_LEAD_DAYS * 24
    > MIGRATION_REMINDER_LEAD_DAYS * 24
    > MIGRATION_FINAL_REMINDER_LEAD_HOURS
    > 0
):
    raise ImproperlyConfigured(
        "Migration notice lead times must shrink toward the window: "
        "MIGRATION_ANNOUNCEMENT_LEAD_DAYS > MIGRATION_REMINDER_LEAD_DAYS > "
        "MIGRATION_FINAL_REMINDER_LEAD_HOURS / 24 > 0."
    )

# A migration window must start at least this many days ahead unless support gives an
# override reason.
MIGRATION_MIN_LEAD_DAYS = env_int("MIGRATION_MIN_LEAD_DAYS", 28)
# Legacy rows copied and verified per second of write pause, the basis of every pause
# estimate. bench/migration.py measured 50,883 for a team of 3,040,024 rows on PostgreSQL
# 15.20 on an idle 2-core machine, and about 12,600 while other jobs loaded it. The default
# of 30,000 leaves room for a busy host. Run the bench on the production database's
# hardware and set the figure it prints.
MIGRATION_COPY_ROWS_PER_SECOND = env_int("MIGRATION_COPY_ROWS_PER_SECOND", 30_000)
# Seconds added to every pause estimate for creating the registry and finishing the plan.
MIGRATION_PAUSE_MARGIN_SECONDS = env_int("MIGRATION_PAUSE_MARGIN_SECONDS", 30)
# Legacy rows per copy chunk. Each chunk is one INSERT ... SELECT in one transaction, and a
# crash repeats at most one chunk. On the bench's 3,040,024 rows, chunks of 50,000 made the
# write pause about 4 s shorter than chunks of 10,000, with a chunk taking about a second.
MIGRATION_CHUNK_ROWS = env_int("MIGRATION_CHUNK_ROWS", 50_000)
# A copying plan whose progress has not moved for this long is queued again by the scheduler.
MIGRATION_STALL_SECONDS = env_int("MIGRATION_STALL_SECONDS", 300)
# Without a broker, the copy runs in a background thread so the console can show progress.
MIGRATION_EAGER_THREAD = env_bool("MIGRATION_EAGER_THREAD", True)
if min(MIGRATION_COPY_ROWS_PER_SECOND, MIGRATION_CHUNK_ROWS, MIGRATION_STALL_SECONDS) < 1:
    raise ImproperlyConfigured(
        "MIGRATION_COPY_ROWS_PER_SECOND, MIGRATION_CHUNK_ROWS and MIGRATION_STALL_SECONDS "
        "must each be 1 or more."
    )

# Artifact files, content-addressed by sha256, in the "artifacts" storage: a folder unless
# ARTIFACT_STORAGE_BACKEND names another Django storage class (S3, GCS, ...).
_artifact_backend = env_str("ARTIFACT_STORAGE_BACKEND") or ""
STORAGES["artifacts"] = (
    {"BACKEND": _artifact_backend}
    if _artifact_backend
    else {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": env_str("ARTIFACT_FILES_ROOT") or str(BASE_DIR / "artifacts-storage")
        },
    }
)
ARTIFACT_FILE_MAX_BYTES = env_int("ARTIFACT_FILE_MAX_BYTES", 5 * 1024**3)
# The largest JSON body of the route that logs a version with its manifest. Larger than
# REQUEST_BODY_MAX_BYTES because a manifest lists every file: 16 MiB is about 140,000 files
# with short paths. Logging a version of 70,000 files took 7 s on SQLite on a 2-core
# machine, so 16 MiB (an estimated 14 s) stays under gunicorn's default 30 s worker timeout.
API_MANIFEST_MAX_BYTES = env_int("API_MANIFEST_MAX_BYTES", 16 * 1024**2)
if API_MANIFEST_MAX_BYTES < 1024:
    raise ImproperlyConfigured(
        f"API_MANIFEST_MAX_BYTES={API_MANIFEST_MAX_BYTES} is too small for any manifest; use "
        f"1024 or more (the default is 16777216, 16 MiB)."
    )
ARTIFACT_SIGNED_URL_SECONDS = env_int("ARTIFACT_SIGNED_URL_SECONDS", 15 * 60)

# REST API. Throttle counts live in the default cache, which is per process unless CACHE_URL
# points at a shared Redis.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # The key class comes first so that a request without credentials gets 401 with
        # a WWW-Authenticate header rather than the 403 that session-only auth answers.
        "apps.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": [
        "apps.api.throttling.ApiKeyRateThrottle",
        "apps.api.throttling.AnonymousRateThrottle",
    ],
    "DEFAULT_PAGINATION_CLASS": "apps.api.pagination.CursorPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "apps.api.schema.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "apps.api.errors.handle_exception",
    "PAGE_SIZE": env_int("API_PAGE_SIZE", 50),
}
# Requests per period ("N/s", "N/min", "N/hour", "N/day").
API_THROTTLE_RATES = {
    "key": env_str("API_THROTTLE_KEY") or "1200/min",
    "anonymous": env_str("API_THROTTLE_ANONYMOUS") or "60/min",
    "download": env_str("API_THROTTLE_DOWNLOAD") or "600/min",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Artifact registry API",
    "DESCRIPTION": (
        "Registries, collections, versions, aliases, members, artifact files and API keys. "
        "Send `Authorization: Bearer KEY`; every error has the body "
        '`{"error": {"code": ..., "message": ..., "field": ...}}`.'
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "RegistryRoleEnum": "apps.api.serializers.registries.ROLE_SLUGS",
        "MembershipRoleEnum": "apps.orgs.models.OrgRole",
    },
}

_cache_url = env_str("CACHE_URL") or ""
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _cache_url}
        if _cache_url
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Celery: eager in the web process unless a broker is configured.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or ""
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND") or (CELERY_BROKER_URL or None)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]

# Automations: webhooks sent on registry events.
# Fernet keys for integration access tokens and signing secrets, separated by commas: the
# first encrypts, all decrypt (put a new key first to rotate). Unset, one key is derived from
# SECRET_KEY, and changing SECRET_KEY then makes the stored secrets unreadable until each
# integration's token and secret are entered again.
AUTOMATIONS_ENCRYPTION_KEY = env_list("AUTOMATIONS_ENCRYPTION_KEY", [])
# Allows webhook targets on loopback, private and link-local addresses, and plain http, for
# endpoints on a trusted internal network. Cloud metadata addresses stay rejected.
AUTOMATIONS_ALLOW_PRIVATE_TARGETS = env_bool("AUTOMATIONS_ALLOW_PRIVATE_TARGETS", False)
AUTOMATIONS_CONNECT_TIMEOUT = env_int("AUTOMATIONS_CONNECT_TIMEOUT_SECONDS", 5)
AUTOMATIONS_READ_TIMEOUT = env_int("AUTOMATIONS_READ_TIMEOUT_SECONDS", 10)
AUTOMATIONS_MAX_ATTEMPTS = env_int("AUTOMATIONS_MAX_ATTEMPTS", 6)
# After failed attempt n the next one waits BACKOFF * 2^(n-1) seconds, at most BACKOFF_MAX.
AUTOMATIONS_RETRY_BACKOFF_SECONDS = env_int("AUTOMATIONS_RETRY_BACKOFF_SECONDS", 10)
AUTOMATIONS_RETRY_BACKOFF_MAX_SECONDS = env_int("AUTOMATIONS_RETRY_BACKOFF_MAX_SECONDS", 600)
# Without a broker, deliveries run in a background thread so no request waits for a webhook.
AUTOMATIONS_DELIVER_IN_THREAD = env_bool("AUTOMATIONS_DELIVER_IN_THREAD", True)
if min(AUTOMATIONS_CONNECT_TIMEOUT, AUTOMATIONS_READ_TIMEOUT, AUTOMATIONS_MAX_ATTEMPTS) < 1:
    raise ImproperlyConfigured(
        "AUTOMATIONS_CONNECT_TIMEOUT_SECONDS, AUTOMATIONS_READ_TIMEOUT_SECONDS and "
        "AUTOMATIONS_MAX_ATTEMPTS must each be 1 or more."
    )
CELERY_BEAT_SCHEDULE = {
    # Queues again the deliveries whose task was lost, for example to a broker outage.
    "automations-requeue-stalled": {
        "task": "automations.requeue_stalled_executions",
        "schedule": 300.0,
    },
}
# Starts the migrations whose window has come and queues again those whose task was lost.
CELERY_BEAT_SCHEDULE["migration-start-due-plans"] = {
    "task": "migration.start_due_migrations",
    "schedule": 60.0,
}

# Security. Production (DEBUG off) gets the strict defaults that `check --deploy` asks for;
# each one can be relaxed from the environment, for example behind a TLS-terminating proxy.
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("TRUST_X_FORWARDED_PROTO", False) else None
)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if SECURE_HSTS_SECONDS and not SECURE_HSTS_PRELOAD:
    # Preload is a one-way commitment for the whole domain, so it stays opt-in.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]

# Content-Security-Policy: scripts and styles come only from our static files.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}

# Failed sign-ins: lock a username from one address after a few failures, for a while.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("LOGIN_COOLOFF_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Renders AXES_LOCKOUT_TEMPLATE and adds Retry-After from the cool-off.
AXES_LOCKOUT_CALLABLE = "apps.orgs.lockout.locked_out_response"
AXES_SENSITIVE_PARAMETERS = ["password"]
AXES_ENABLED = env_bool("LOGIN_THROTTLE", True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL") or "INFO"},
    # Django's default config gives the "django" logger its own console handler while DEBUG
    # is on. Routing its records only through the root handler logs each one once.
    "loggers": {
        "axes": {"level": "WARNING"},
        "django": {"handlers": [], "level": "INFO", "propagate": True},
    },
}
