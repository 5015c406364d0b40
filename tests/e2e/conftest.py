"""A real Celery worker, started as a subprocess against the test database and a broker.

Every end-to-end test runs twice: on Redis (``CELERY_BROKER_URL``, the default broker) and on
RabbitMQ (``AUTHCHECK_TEST_RABBITMQ_URL``, default ``amqp://guest:guest@127.0.0.1:5672//``);
a broker that does not answer skips its half.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from authcheck.celery import app

ROOT = Path(__file__).resolve().parents[2]


class Worker:
    """A running ``celery worker`` process whose output is collected line by line."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.argv, self.env = argv, env
        self.start()

    def start(self) -> None:
        """Start (or, after it exited, start again) the worker process and wait until ready."""
        self.proc = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        proc, lines = self.proc, self.lines
        threading.Thread(
            target=lambda: [lines.put(line) for line in proc.stdout or []], daemon=True
        ).start()
        self.wait_for("ready.")

    def stop(self) -> None:
        """Terminate the worker (warm shutdown), killing it if it does not exit in time."""
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def wait_for(self, text: str, timeout: float = 60.0, count: int = 1) -> None:
        """Block until ``count`` lines containing ``text`` appeared (or fail with the output)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if sum(text in line for line in self.output) >= count:
                return
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            self.output.append(line)
        raise AssertionError(f"worker never printed {text!r}:\n" + "".join(self.output[-50:]))

    def pool_children(self) -> list[int]:
        """PIDs of the prefork pool processes."""
        out = subprocess.run(
            ["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True, check=False
        )
        return [int(pid) for pid in out.stdout.split()]


def _database_url() -> str:
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{db['NAME']}"


@pytest.fixture
def worker_env() -> dict[str, str]:
    """Extra environment for the worker process; a test module overrides it to configure one."""
    return {}


RABBITMQ_URL = os.environ.get("AUTHCHECK_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")


def _answers(url: str) -> bool:
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception:
        return False
    return True


@pytest.fixture(params=["redis", "rabbitmq"])
def broker_url(request: pytest.FixtureRequest) -> str:
    """The broker of this run of the test: Redis (from CELERY_BROKER_URL) or RabbitMQ."""
    if connection.vendor != "postgresql":
        pytest.skip("end-to-end tests need PostgreSQL and a broker (see .ci/run)")
    url = settings.CELERY_BROKER_URL if request.param == "redis" else RABBITMQ_URL
    if not url or not _answers(url):
        pytest.skip(f"no {request.param} broker to run end-to-end tests on")
    return url


def _use_broker(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """Point this process's producer at ``url`` (the app caches its connection pools, and
    Celery prefers the CELERY_BROKER_URL environment variable over its configuration)."""
    monkeypatch.setenv("CELERY_BROKER_URL", url)
    monkeypatch.setattr(settings, "CELERY_BROKER_URL", url)
    monkeypatch.setitem(app.conf, "broker_url", url)
    monkeypatch.setattr(app, "_pool", None)
    monkeypatch.setattr(app.amqp, "_producer_pool", None)


def _queues_delete(url: str, names: list[str]) -> None:
    """RabbitMQ keeps durable queues and exchanges after the test: remove this test's."""
    if not url.startswith("amqp"):
        return
    from kombu import Connection

    with Connection(url, connect_timeout=2) as conn:
        channel = conn.channel()
        for name in names:
            channel.queue_delete(name)
            channel.exchange_delete(name)


@pytest.fixture
def celery_worker(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    transactional_db: None,
    worker_env: dict[str, str],
    broker_url: str,
) -> Iterator[Worker]:
    """Start a one-process prefork worker on a private queue; stop it after the test."""
    queue_name = f"deploy-e2e-{uuid.uuid4().hex[:8]}"
    _use_broker(monkeypatch, broker_url)
    monkeypatch.setattr(settings, "AUTHCHECK_TASKS_IN_PROCESS", False)
    monkeypatch.setitem(app.conf, "task_default_queue", queue_name)
    # Background work (webhooks, re-verification) goes to this test's own notifications queue.
    notify_queue = f"{queue_name}-notifications"
    monkeypatch.setattr(settings, "AUTHCHECK_WEBHOOK_QUEUE", notify_queue)
    monkeypatch.setitem(
        app.conf,
        "task_routes",
        {name: {"queue": notify_queue} for name in settings.CELERY_TASK_ROUTES},
    )
    # Celery caches the route table and the router built from it: rebuild both from the
    # patched routes, and let monkeypatch put the cached ones back afterwards (otherwise a
    # later test routes to this test's queue, which no worker consumes any more).
    monkeypatch.setattr(app.amqp, "_rtable", None)
    monkeypatch.setitem(app.amqp.__dict__, "router", app.amqp.Router())
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "AUTHCHECK_DATA_DIR": str(tmp_path),
        "AUTHCHECK_QUEUE": queue_name,
        "AUTHCHECK_WEBHOOK_QUEUE": notify_queue,
        "CELERY_BROKER_URL": broker_url,
        "AUTHCHECK_FETCH_ALLOW_LOOPBACK": "true",
        "PYTHONUNBUFFERED": "1",
        **worker_env,
    }
    argv = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "authcheck",
        "worker",
        "-Q",
        f"{queue_name},{queue_name}-detectors,{notify_queue}",
        "-c",
        "1",
        "-P",
        "prefork",
        "-l",
        "INFO",
        "-n",
        f"{queue_name}@%h",
        "--without-mingle",
        "--without-gossip",
    ]
    worker = Worker(argv, env)
    try:
        yield worker
    finally:
        worker.stop()
        _queues_delete(broker_url, [queue_name, f"{queue_name}-detectors"])


def wait_until(predicate, timeout: float = 60.0, what: str = "condition"):  # type: ignore[no-untyped-def]
    """Poll ``predicate`` until it returns something truthy, failing after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")
