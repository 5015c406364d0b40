"""authcheck settings: one file, driven by environment variables (see deploy/.env.example).

With no environment at all the service runs on the embedded default: SQLite, media on local
disk and tasks in-process, all under ``AUTHCHECK_DATA_DIR`` (``./var``).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    """Return the environment variable ``name`` stripped, or ``default`` when unset or empty."""
    value = os.environ.get(name, "").strip()
    return value or default


def env_bool(name: str, default: bool = False) -> bool:
    """Parse a boolean environment variable (1/true/yes/on)."""
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    return value in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    """Parse an integer environment variable."""
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def env_list(name: str, default: str = "") -> list[str]:
    """Parse a comma-separated environment variable into a list of non-empty items."""
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


DATA_DIR = Path(env_str("AUTHCHECK_DATA_DIR", str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """Use DJANGO_SECRET_KEY, or generate one once and keep it in the data directory."""
    configured = env_str("DJANGO_SECRET_KEY")
    if configured:
        return configured
    path = DATA_DIR / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "authcheck",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "authcheck.urls"
WSGI_APPLICATION = "authcheck.wsgi.application"
AUTH_USER_MODEL = "authcheck.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the in-process task thread write while requests read.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Tests use a WAL file too, not Django's in-memory default: a shared-cache memory database
    # answers "table is locked" to a second thread instead of waiting, unlike the real one.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-db.sqlite3")}

USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en"
USE_I18N = False

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("AUTHCHECK_STATIC_ROOT", str(DATA_DIR / "static")))
MEDIA_ROOT = DATA_DIR / "media"
UPLOAD_TMP_DIR = DATA_DIR / "tmp"
FILE_UPLOAD_TEMP_DIR = str(UPLOAD_TMP_DIR)
UPLOAD_TMP_DIR.mkdir(parents=True, exist_ok=True)
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every request otherwise
# Everything above 64 KB goes to a temporary file: uploads are never held whole in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
FILE_UPLOAD_HANDLERS = ["authcheck.uploads.HashingUploadHandler"]
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
FILE_UPLOAD_PERMISSIONS = 0o600

LOGIN_URL = "/accounts/login/"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("DJANGO_SECURE", False):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- authcheck -----------------------------------------------------------------------------

AUTHCHECK_MAX_UPLOAD_BYTES = env_int("AUTHCHECK_MAX_UPLOAD_BYTES", 2 * 1024**3)
AUTHCHECK_FETCH_MAX_BYTES = env_int("AUTHCHECK_FETCH_MAX_BYTES", 2 * 1024**3)
AUTHCHECK_FETCH_TIMEOUT_SECONDS = env_int("AUTHCHECK_FETCH_TIMEOUT_SECONDS", 120)
AUTHCHECK_FETCH_MAX_REDIRECTS = env_int("AUTHCHECK_FETCH_MAX_REDIRECTS", 5)
# Tests point the fetcher at a local server; never enable this in production.
AUTHCHECK_FETCH_ALLOW_LOOPBACK = env_bool("AUTHCHECK_FETCH_ALLOW_LOOPBACK", False)
AUTHCHECK_TRUST_ANCHORS = env_list("AUTHCHECK_TRUST_ANCHORS")
AUTHCHECK_TRUST_ALLOWED_LIST = env_list("AUTHCHECK_TRUST_ALLOWED_LIST")
AUTHCHECK_C2PA_MAX_MANIFEST_MB = env_int("AUTHCHECK_C2PA_MAX_MANIFEST_MB", 16)
AUTHCHECK_FFMPEG_TIMEOUT_SECONDS = env_int("AUTHCHECK_FFMPEG_TIMEOUT_SECONDS", 120)
AUTHCHECK_FFMPEG_MEMORY_BYTES = env_int("AUTHCHECK_FFMPEG_MEMORY_BYTES", 2 * 1024**3)
AUTHCHECK_MAX_IMAGE_PIXELS = env_int("AUTHCHECK_MAX_IMAGE_PIXELS", 50_000_000)
AUTHCHECK_MAX_ATTEMPTS = env_int("AUTHCHECK_MAX_ATTEMPTS", 3)
# Unfinished (queued or running) checks one user may have; more submissions get 429 queue_full.
AUTHCHECK_MAX_PENDING_PER_USER = env_int("AUTHCHECK_MAX_PENDING_PER_USER", 200)
AUTHCHECK_LEASE_SECONDS = env_int("AUTHCHECK_LEASE_SECONDS", 900)
AUTHCHECK_DETECTORS = env_list("AUTHCHECK_DETECTORS")
# Key for the HMAC on audit checkpoints; kept apart from SECRET_KEY so rotating one does not
# invalidate the other (falls back to SECRET_KEY when unset).
AUTHCHECK_AUDIT_CHECKPOINT_KEY = env_str("AUTHCHECK_AUDIT_CHECKPOINT_KEY", "")
AUTHCHECK_EXTENSION_ORIGINS = env_list("AUTHCHECK_EXTENSION_ORIGINS")
# Ed25519 key that signs verification reports (generated there on first use when missing), and
# the name reports give as their issuer.
AUTHCHECK_REPORT_KEY_FILE = Path(
    env_str("AUTHCHECK_REPORT_KEY_FILE", str(DATA_DIR / "report-signing-key.pem"))
)
AUTHCHECK_REPORT_ISSUER = env_str("AUTHCHECK_REPORT_ISSUER", "authcheck")
# Webhooks: per-attempt deadline, attempts before a delivery is given up, and the backoff
# (base doubling per attempt, capped; plus up to 20% jitter).
AUTHCHECK_WEBHOOK_TIMEOUT_SECONDS = env_int("AUTHCHECK_WEBHOOK_TIMEOUT_SECONDS", 10)
AUTHCHECK_WEBHOOK_MAX_ATTEMPTS = env_int("AUTHCHECK_WEBHOOK_MAX_ATTEMPTS", 8)
AUTHCHECK_WEBHOOK_BACKOFF_SECONDS = env_int("AUTHCHECK_WEBHOOK_BACKOFF_SECONDS", 30)
AUTHCHECK_WEBHOOK_BACKOFF_CAP_SECONDS = env_int("AUTHCHECK_WEBHOOK_BACKOFF_CAP_SECONDS", 3600)
AUTHCHECK_WEBHOOK_QUEUE = env_str("AUTHCHECK_WEBHOOK_QUEUE", "notifications")
# Re-verification: checks re-examined per periodic pass, and how often the pass runs.
AUTHCHECK_REVERIFY_BATCH = env_int("AUTHCHECK_REVERIFY_BATCH", 50)
AUTHCHECK_REVERIFY_INTERVAL_SECONDS = env_int("AUTHCHECK_REVERIFY_INTERVAL_SECONDS", 300)

# --- Celery: set CELERY_BROKER_URL to send tasks to workers; unset runs them in-process. ----

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
AUTHCHECK_TASKS_IN_PROCESS = not CELERY_BROKER_URL
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 600)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 660)
# Redelivery must never overtake a running task: the visibility timeout outlives the hard limit.
_VISIBILITY = env_int("CELERY_VISIBILITY_TIMEOUT", 3600)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": _VISIBILITY}
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_WORKER_MAX_TASKS_PER_CHILD = env_int("CELERY_WORKER_MAX_TASKS_PER_CHILD", 50)
CELERY_TASK_DEFAULT_QUEUE = env_str("AUTHCHECK_QUEUE", "checks")
# Detectors fan out to their own queue so slow detectors never hold up intake.
AUTHCHECK_DETECTOR_QUEUE = env_str(
    "AUTHCHECK_DETECTOR_QUEUE", f"{CELERY_TASK_DEFAULT_QUEUE}-detectors"
)
AUTHCHECK_DETECTOR_SOFT_TIME_LIMIT = env_int("AUTHCHECK_DETECTOR_SOFT_TIME_LIMIT", 120)
AUTHCHECK_DETECTOR_TIME_LIMIT = env_int("AUTHCHECK_DETECTOR_TIME_LIMIT", 150)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Background work (webhook deliveries, re-verification) has its own queue: a slow receiver or a
# long re-verification never holds up intake on the checks queue.
CELERY_TASK_ROUTES = {
    name: {"queue": AUTHCHECK_WEBHOOK_QUEUE}
    for name in (
        "authcheck.tasks.webhook_deliver_task",
        "authcheck.tasks.webhook_sweep_task",
        "authcheck.tasks.reverify_task",
    )
}
CELERY_BEAT_SCHEDULE = {
    "sweep-expired-leases": {"task": "authcheck.tasks.sweep_task", "schedule": 60.0},
    "webhook-deliveries-due": {
        "task": "authcheck.tasks.webhook_sweep_task",
        "schedule": 60.0,
        "options": {"queue": AUTHCHECK_WEBHOOK_QUEUE},
    },
    "reverify": {
        "task": "authcheck.tasks.reverify_task",
        "schedule": float(AUTHCHECK_REVERIFY_INTERVAL_SECONDS),
        "options": {"queue": AUTHCHECK_WEBHOOK_QUEUE},
    },
}

# --- REST API ------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["authcheck.api.auth.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "authcheck.api.errors.problem_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.ScopedRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"submit": env_str("AUTHCHECK_SUBMIT_RATE", "600/min")},
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "authcheck API",
    "DESCRIPTION": "Verify C2PA Content Credentials and submit media checks.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("AUTHCHECK_LOG_LEVEL", "INFO")},
}
