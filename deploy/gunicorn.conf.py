"""gunicorn settings for the web process: ``gunicorn -c deploy/gunicorn.conf.py authcheck.wsgi``.

Threads, not more processes: requests mostly wait on the database and on upload bodies, and
each process costs ~100 MB. Uploads are streamed to disk (multipart by Django, a raw verify body
by authcheck), so a thread holding a 2 GB upload holds at most a few MB of it in memory. Put a
reverse proxy with request buffering off in front for large uploads, and let it terminate TLS
(set DJANGO_SECURE=true).
"""

from __future__ import annotations

import os
from typing import Any

from authcheck.logs import logging_config
from authcheck.metrics import multiproc_dir_reset, process_dead

bind = os.environ.get("AUTHCHECK_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("AUTHCHECK_WEB_WORKERS", "2"))
threads = int(os.environ.get("AUTHCHECK_WEB_THREADS", "8"))
worker_class = "gthread"
# A gthread worker's heartbeat, not a request deadline: slow uploads are not killed by it.
timeout = int(os.environ.get("AUTHCHECK_WEB_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# HTTP framing limits (the same values Django enforces with problem JSON, issue 9): a longer
# request line, more header fields or a longer field are refused by gunicorn itself.
limit_request_line = int(os.environ.get("AUTHCHECK_LIMIT_REQUEST_LINE", "4094"))
limit_request_fields = int(os.environ.get("AUTHCHECK_LIMIT_REQUEST_FIELDS", "100"))
limit_request_field_size = int(os.environ.get("AUTHCHECK_LIMIT_REQUEST_FIELD_SIZE", "8190"))
# Recycle processes now and then so a slow leak in a native library cannot grow forever.
max_requests = 2000
max_requests_jitter = 200
# The proxy in front sets X-Forwarded-*; only trust it from these addresses.
forwarded_allow_ips = os.environ.get("AUTHCHECK_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
logconfig_dict = logging_config(
    level=os.environ.get("AUTHCHECK_LOG_LEVEL", "INFO"),
    as_json=os.environ.get("AUTHCHECK_LOG_FORMAT", "text") == "json",
)
# The image's root filesystem is read-only: heartbeat files go to memory.
_SHM = "/dev/shm"  # noqa: S108 - gunicorn's own recommendation for containers
worker_tmp_dir = _SHM if os.path.isdir(_SHM) else None


def on_starting(server: Any) -> None:
    """Metric files of a previous run would be summed into this one's: start empty."""
    multiproc_dir_reset()


def child_exit(server: Any, worker: Any) -> None:
    """Forget the live gauges of an exited worker process."""
    process_dead(worker.pid)
