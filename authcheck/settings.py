"""authcheck settings: one file, driven by environment variables (see deploy/.env.example).

With no environment at all the service runs on the embedded default: SQLite, media on local
disk and tasks in-process, all under ``AUTHCHECK_DATA_DIR`` (``./var``).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from authcheck.logs import logging_config
from authcheck.production import production_refusals

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    """Return the environment variable ``name`` stripped, or ``default`` when unset or empty."""
    value = os.environ.get(name, "").strip()
    return value or default


def env_secret(name: str, default: str = "") -> str:
    """A secret from ``name`` or from the file named by ``name_FILE`` (Docker/Kubernetes secrets).

    Setting both is refused: which one wins would otherwise be a guess.
    """
    direct, file_name = env_str(name), env_str(f"{name}_FILE")
    if direct and file_name:
        raise ImproperlyConfigured(f"set {name} or {name}_FILE, not both")
    if file_name:
        try:
            return Path(file_name).read_text().strip() or default
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE: cannot read {file_name}: {exc}") from exc
    return direct or default


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
    configured = env_secret("DJANGO_SECRET_KEY")
    if configured:
        return configured
    path = DATA_DIR / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


# "production" (the image's default) refuses to start on a configuration that is unsafe to
# expose; "development" (scripts/run, tests) keeps the embedded conveniences.
AUTHCHECK_ENVIRONMENT = env_str("AUTHCHECK_ENVIRONMENT", "development")
if AUTHCHECK_ENVIRONMENT == "production":
    _refusals = production_refusals(
        debug=env_bool("DJANGO_DEBUG", False),
        secret_key=env_secret("DJANGO_SECRET_KEY"),
        allowed_hosts=env_list("DJANGO_ALLOWED_HOSTS"),
    )
    if _refusals:
        raise ImproperlyConfigured("refusing to start in production: " + "; ".join(_refusals))

SECRET_KEY = _secret_key()
DEBUG = env_bool("DJANGO_DEBUG", False)
# Django's test runner adds "testserver" itself; production never answers to it.
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
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
    "csp",
    "authcheck",
    "dashboard",
]

MIDDLEWARE = [
    "authcheck.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "authcheck.api.middleware.RequestGuardMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
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
                "csp.context_processors.nonce",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_secret("DATABASE_URL", f"sqlite:///{DATA_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}


def _private_file(path: str) -> None:
    """Create ``path`` empty with mode 0600 unless it exists (SQLite would create it 0644)."""
    if path and path != ":memory:" and not os.path.exists(path):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    _private_file(str(DATABASES["default"]["NAME"]))
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

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/dashboard/login/"
LOGIN_REDIRECT_URL = "/dashboard/"
LOGOUT_REDIRECT_URL = "/dashboard/login/"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# A dashboard session ends after this many seconds without a request: dashboard views extend
# it at most every five minutes (dashboard/access.py), so polling does not write every time.
SESSION_COOKIE_AGE = env_int("AUTHCHECK_SESSION_SECONDS", 8 * 3600)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Session and CSRF cookies only over HTTPS; on by default behind DJANGO_SECURE.
AUTHCHECK_SECURE_COOKIES = env_bool("AUTHCHECK_SECURE_COOKIES", env_bool("DJANGO_SECURE", False))
SESSION_COOKIE_SECURE = AUTHCHECK_SECURE_COOKIES
CSRF_COOKIE_SECURE = AUTHCHECK_SECURE_COOKIES
if env_bool("DJANGO_SECURE", False):
    SECURE_SSL_REDIRECT = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Strict CSP on every response (django-csp): scripts only from this origin or with the
# per-request nonce, no inline styles, nothing framed, no plugins. Media responses of the
# dashboard replace it with a sandbox policy of their own.
CONTENT_SECURITY_POLICY: dict[str, dict[str, list[Any]]] = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF],
        "media-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
    },
}

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
# c2pa-rs refuses a cap above 1024 MB (every read would then fail) and 0 refuses every
# compressed manifest: refuse both at start-up instead.
if not 1 <= AUTHCHECK_C2PA_MAX_MANIFEST_MB <= 1024:
    raise ImproperlyConfigured("AUTHCHECK_C2PA_MAX_MANIFEST_MB must be between 1 and 1024")
# The shipped (or trust_import-ed) C2PA and C2PA TSA trust lists are trusted by default.
AUTHCHECK_TRUST_C2PA_LISTS = env_bool("AUTHCHECK_TRUST_C2PA_LISTS", True)
# Optional second pass against the frozen legacy interim list; labelled, never the C2PA state.
AUTHCHECK_TRUST_LEGACY_PASS = env_bool("AUTHCHECK_TRUST_LEGACY_PASS", False)
# Remote C2PA manifests: fetched by authcheck's SSRF-safe client (https only), never by c2pa.
AUTHCHECK_C2PA_REMOTE_MANIFESTS = env_bool("AUTHCHECK_C2PA_REMOTE_MANIFESTS", False)
AUTHCHECK_C2PA_REMOTE_HOSTS = env_list("AUTHCHECK_C2PA_REMOTE_HOSTS")
AUTHCHECK_C2PA_REMOTE_MAX_BYTES = env_int("AUTHCHECK_C2PA_REMOTE_MAX_BYTES", 16 * 1024**2)
# OCSP: only responders of signers whose chain ends at a configured list, via the same client.
AUTHCHECK_C2PA_OCSP = env_bool("AUTHCHECK_C2PA_OCSP", False)
AUTHCHECK_FFMPEG_TIMEOUT_SECONDS = env_int("AUTHCHECK_FFMPEG_TIMEOUT_SECONDS", 120)
AUTHCHECK_FFMPEG_MEMORY_BYTES = env_int("AUTHCHECK_FFMPEG_MEMORY_BYTES", 2 * 1024**3)
AUTHCHECK_MAX_IMAGE_PIXELS = env_int("AUTHCHECK_MAX_IMAGE_PIXELS", 50_000_000)
AUTHCHECK_MAX_ATTEMPTS = env_int("AUTHCHECK_MAX_ATTEMPTS", 3)
# Unfinished (queued or running) checks one user may have; more submissions get 429 queue_full.
AUTHCHECK_MAX_PENDING_PER_USER = env_int("AUTHCHECK_MAX_PENDING_PER_USER", 200)
# A running check's lease, renewed by a heartbeat every third of it while its worker lives: the
# sweeper re-enqueues the work of a killed worker once it lapses (about a minute).
AUTHCHECK_LEASE_SECONDS = env_int("AUTHCHECK_LEASE_SECONDS", 60)
AUTHCHECK_DETECTORS = env_list("AUTHCHECK_DETECTORS")
# Key for the HMAC on audit checkpoints; kept apart from SECRET_KEY so rotating one does not
# invalidate the other (falls back to SECRET_KEY when unset).
AUTHCHECK_AUDIT_CHECKPOINT_KEY = env_secret("AUTHCHECK_AUDIT_CHECKPOINT_KEY", "")
# Exact origins, or "moz-extension://*" / "chrome-extension://*" for any install of that kind
# (Firefox gives every install a random origin; bearer tokens are never ambient credentials).
AUTHCHECK_EXTENSION_ORIGINS = env_list("AUTHCHECK_EXTENSION_ORIGINS")
# Click-time screenshot cap (decoded bytes; the JSON body must stay under 1 MB).
AUTHCHECK_EVIDENCE_MAX_BYTES = env_int("AUTHCHECK_EVIDENCE_MAX_BYTES", 700 * 1024)
# Page resolvers for page-only checks (streamed video), dotted paths; empty: the built-in one.
AUTHCHECK_PAGE_RESOLVERS = env_list("AUTHCHECK_PAGE_RESOLVERS")
# 2: a reviewer's decision counts only once a second editor confirms it (four-eyes rule).
AUTHCHECK_REVIEW_SIGNOFF = env_int("AUTHCHECK_REVIEW_SIGNOFF", 1)
# Failed dashboard logins allowed per username and per client address in LOGIN_WINDOW seconds.
AUTHCHECK_LOGIN_MAX_FAILURES = env_int("AUTHCHECK_LOGIN_MAX_FAILURES", 5)
AUTHCHECK_LOGIN_WINDOW_SECONDS = env_int("AUTHCHECK_LOGIN_WINDOW_SECONDS", 900)
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

# HTTP framing limits. gunicorn's limit_request_line / limit_request_fields /
# limit_request_field_size must be set from these (deploy/gunicorn.conf.py); Django answers what
# still reaches it with problem JSON (authcheck.api.middleware).
AUTHCHECK_LIMIT_REQUEST_LINE = env_int("AUTHCHECK_LIMIT_REQUEST_LINE", 4094)
AUTHCHECK_LIMIT_REQUEST_FIELDS = env_int("AUTHCHECK_LIMIT_REQUEST_FIELDS", 100)
AUTHCHECK_LIMIT_REQUEST_FIELD_SIZE = env_int("AUTHCHECK_LIMIT_REQUEST_FIELD_SIZE", 8190)

# --- Celery: set CELERY_BROKER_URL to send tasks to workers; unset runs them in-process. ----

CELERY_BROKER_URL = env_secret("CELERY_BROKER_URL")
AUTHCHECK_TASKS_IN_PROCESS = not CELERY_BROKER_URL
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 600)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 660)
# Redis: an unacknowledged message is handed to another worker once the visibility timeout
# passes, so it must outlive the hard time limit or a running task is delivered twice.
# RabbitMQ has no visibility timeout: it redelivers only when the consumer's connection drops,
# and closes a channel whose message stays unacknowledged past its consumer_timeout (30 min
# by default), which must therefore also outlive the hard limit (see deploy/README.md).
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
    "sweep-expired-leases": {
        "task": "authcheck.tasks.sweep_task",
        "schedule": float(env_int("AUTHCHECK_SWEEP_SECONDS", 60)),
    },
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

# --- cache: throttle counters shared by every process and pod ------------------------------


def _caches() -> dict[str, dict[str, object]]:
    """Redis when AUTHCHECK_CACHE_URL or a Redis broker is set; otherwise a file cache in the
    data directory, which every process of the embedded default (one host) shares. Never
    Django's per-process memory cache: each gunicorn worker would count rates on its own."""
    url = env_str("AUTHCHECK_CACHE_URL")
    if not url and CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        url = CELERY_BROKER_URL
    if url:
        backend = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
        return {"default": {**backend, "KEY_PREFIX": "authcheck-cache"}}
    location = DATA_DIR / "cache"
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(location),
        }
    }


CACHES = _caches()

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
        "authcheck.api.parsers.BoundedJSONParser",
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

# --- Media storage: local disk (default) or S3-compatible object storage (authcheck/storage.py)

AUTHCHECK_STORAGE = env_str("AUTHCHECK_STORAGE", "local")
if AUTHCHECK_STORAGE not in {"local", "s3"}:
    raise ImproperlyConfigured("AUTHCHECK_STORAGE must be 'local' or 's3'")
# Workers copy S3 media to this local cache (bounded in bytes and age) to read it.
AUTHCHECK_MEDIA_CACHE_BYTES = env_int("AUTHCHECK_MEDIA_CACHE_BYTES", 8 * 1024**3)
AUTHCHECK_MEDIA_CACHE_SECONDS = env_int("AUTHCHECK_MEDIA_CACHE_SECONDS", 3600)
AUTHCHECK_MEDIA_URL_SECONDS = env_int("AUTHCHECK_MEDIA_URL_SECONDS", 300)
STORAGES: dict[str, dict[str, object]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# How to reach the S3-compatible store: media storage (AUTHCHECK_STORAGE=s3) and the reference
# archive's s3://bucket/prefix sources (manage.py reference_add) both connect with these.
AUTHCHECK_S3_CONNECTION: dict[str, object] = {
    "endpoint_url": env_str("AUTHCHECK_S3_ENDPOINT_URL") or None,
    "region_name": env_str("AUTHCHECK_S3_REGION") or None,
    "addressing_style": env_str("AUTHCHECK_S3_ADDRESSING_STYLE", "path"),
    "signature_version": "s3v4",
    "access_key": env_secret("AWS_ACCESS_KEY_ID"),
    "secret_key": env_secret("AWS_SECRET_ACCESS_KEY"),
}
if AUTHCHECK_STORAGE == "s3":
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            **AUTHCHECK_S3_CONNECTION,
            "bucket_name": env_str("AUTHCHECK_S3_BUCKET"),
            "location": "media",
            # Media is never public: private objects, presigned URLs that expire quickly.
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": AUTHCHECK_MEDIA_URL_SECONDS,
            "file_overwrite": False,
        },
    }
    if not env_str("AUTHCHECK_S3_BUCKET"):
        raise ImproperlyConfigured("AUTHCHECK_STORAGE=s3 needs AUTHCHECK_S3_BUCKET")


def storage_origin(endpoint: str, bucket: str, region: str, addressing: str) -> str:
    """The origin (scheme://host[:port]) of the presigned URLs boto3 makes for this bucket."""
    if endpoint:
        parts = urlsplit(endpoint)
        scheme, host = parts.scheme, parts.netloc
    else:  # AWS itself
        scheme = "https"
        host = (
            f"s3.{region}.amazonaws.com" if region not in {"", "us-east-1"} else "s3.amazonaws.com"
        )
    return f"{scheme}://{bucket}.{host}" if addressing == "virtual" else f"{scheme}://{host}"


# The storage domain the dashboard's player is redirected to (W12). Presigned URLs carry the
# host they are signed for, so they must name an endpoint browsers reach:
# AUTHCHECK_S3_PUBLIC_ENDPOINT_URL, or AWS itself when no endpoint is set. With only an
# internal endpoint (http://minio:9000 in deploy/compose.yaml) there is no redirect: the app
# streams the media itself, as on local disk. The origin is allowed by the CSP only when the
# player is redirected; AUTHCHECK_MEDIA_ORIGIN overrides it when a proxy rewrites the host.
AUTHCHECK_S3_PUBLIC_ENDPOINT_URL = env_str("AUTHCHECK_S3_PUBLIC_ENDPOINT_URL")
AUTHCHECK_MEDIA_REDIRECT = AUTHCHECK_STORAGE == "s3" and bool(
    AUTHCHECK_S3_PUBLIC_ENDPOINT_URL or not env_str("AUTHCHECK_S3_ENDPOINT_URL")
)
AUTHCHECK_MEDIA_ORIGIN = ""
if AUTHCHECK_MEDIA_REDIRECT:
    AUTHCHECK_MEDIA_ORIGIN = env_str("AUTHCHECK_MEDIA_ORIGIN") or storage_origin(
        AUTHCHECK_S3_PUBLIC_ENDPOINT_URL,
        env_str("AUTHCHECK_S3_BUCKET"),
        env_str("AUTHCHECK_S3_REGION"),
        env_str("AUTHCHECK_S3_ADDRESSING_STYLE", "path"),
    )
    for directive in ("img-src", "media-src"):
        CONTENT_SECURITY_POLICY["DIRECTIVES"][directive].append(AUTHCHECK_MEDIA_ORIGIN)

# --- Observability -------------------------------------------------------------------------

# /metrics answers loopback clients; anyone else must send "Authorization: Bearer <token>".
AUTHCHECK_METRICS_TOKEN = env_secret("AUTHCHECK_METRICS_TOKEN")
# Set for multi-process servers (gunicorn workers, Celery prefork): where processes share
# their metric files (read by prometheus_client itself; emptied at start by gunicorn.conf.py).
PROMETHEUS_MULTIPROC_DIR = env_str("PROMETHEUS_MULTIPROC_DIR")
# A Celery worker serves its own /metrics on this port (0: off); web processes use /metrics.
AUTHCHECK_WORKER_METRICS_PORT = env_int("AUTHCHECK_WORKER_METRICS_PORT", 0)
AUTHCHECK_LOG_FORMAT = env_str("AUTHCHECK_LOG_FORMAT", "text")
LOGGING = logging_config(
    level=env_str("AUTHCHECK_LOG_LEVEL", "INFO"), as_json=AUTHCHECK_LOG_FORMAT == "json"
)
# Celery replaces the root logger's handlers unless told not to; JSON logs need ours.
CELERY_WORKER_HIJACK_ROOT_LOGGER = AUTHCHECK_LOG_FORMAT != "json"
