"""Real server processes for tests that need more than Django's test client (two processes,
raw HTTP framing): gunicorn on an ephemeral loopback port against the test database."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[1]
LISTENING = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)")


def database_url() -> str:
    """The test database as a DATABASE_URL for a server process."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user, host, port = db.get("USER") or "postgres", db.get("HOST") or "127.0.0.1", db["PORT"]
    return f"postgres://{user}@{host}:{port or 5432}/{db['NAME']}"


def server_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a real server process on the test database: its own data directory,
    the test settings' secret key, no broker unless ``extra`` names one."""
    from django.conf import settings

    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "AUTHCHECK_DATA_DIR": str(data_dir),
        "CELERY_BROKER_URL": "",
        **extra,
    }


@contextmanager
def gunicorn(env: dict[str, str], *, deployed: bool = False) -> Iterator[str]:
    """One gunicorn process (one sync worker) on an ephemeral loopback port; ``deployed`` runs
    it with ``deploy/gunicorn.conf.py`` instead (gthread worker, keep-alive, its limits)."""
    argv = [sys.executable, "-m", "gunicorn", "-b", "127.0.0.1:0", "-w", "1", "authcheck.wsgi"]
    if deployed:
        argv = [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "authcheck.wsgi"]
        env = {**env, "AUTHCHECK_BIND": "127.0.0.1:0", "AUTHCHECK_WEB_WORKERS": "1"}
    proc = subprocess.Popen(
        argv, cwd=ROOT, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    )
    try:
        deadline, port = time.monotonic() + 60, None
        while port is None and time.monotonic() < deadline and proc.stderr:
            match = LISTENING.search(proc.stderr.readline())
            port = match.group(1) if match else None
        assert port, "gunicorn did not start"
        # Keep reading its log so a chatty server never blocks on a full pipe.
        threading.Thread(target=lambda: [None for _ in proc.stderr or ()], daemon=True).start()
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=20)
