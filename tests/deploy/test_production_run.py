"""A production-like run: gunicorn with deploy/gunicorn.conf.py, a Celery worker and beat, on
PostgreSQL and Redis, in production mode with JSON logs, takes a URL check to its verdict;
the web's and the worker's metrics are scraped from their multi-process directories."""

from __future__ import annotations

import http.server
import json
import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.db import connection

from authcheck.models import Role, User
from authcheck.services.tokens import token_create
from tests.deploy.envcontract import ROOT
from tests.e2e.conftest import _database_url
from tests.mediagen import make_image

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
BIN = Path(sys.executable).parent


class Proc:
    """A server process whose combined output is read line by line."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        stream = self.proc.stdout
        threading.Thread(
            target=lambda: [self.lines.put(ln) for ln in stream or []], daemon=True
        ).start()

    def wait_for(self, pattern: str, timeout: float = 60.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.output:
                if found := re.search(pattern, line):
                    return found
            try:
                self.output.append(self.lines.get(timeout=0.5))
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
        raise AssertionError(f"never printed {pattern!r}:\n" + "".join(self.output[-40:]))

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def image_url(tmp_path: Path) -> Iterator[str]:
    payload = make_image(tmp_path / "served.jpg", size=(80, 60)).read_bytes()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/clip.jpg"
    server.shutdown()


@pytest.fixture
def stack(transactional_db: None, tmp_path: Path) -> Iterator[dict[str, object]]:
    if not settings.CELERY_BROKER_URL or connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL and CELERY_BROKER_URL (see .ci/run)")
    queue_name = f"deploy-prod-{uuid.uuid4().hex[:8]}"
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AUTHCHECK_", "DJANGO_"))}
    env = {
        **base,
        "PATH": f"{BIN}:{os.environ['PATH']}",
        "AUTHCHECK_ENVIRONMENT": "production",
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "AUTHCHECK_QUEUE": queue_name,
        "AUTHCHECK_DATA_DIR": str(tmp_path / "data"),
        "AUTHCHECK_LOG_FORMAT": "json",
        "AUTHCHECK_DETECTORS": "authcheck.detectors.ai_labels.AiLabelsDetector",
        "AUTHCHECK_FETCH_ALLOW_LOOPBACK": "true",
        "PYTHONUNBUFFERED": "1",
    }
    worker_port = _free_port()
    procs = {
        "web": Proc(
            [str(BIN / "gunicorn"), "--config", "deploy/gunicorn.conf.py", "authcheck.wsgi"],
            {
                **env,
                "AUTHCHECK_BIND": "127.0.0.1:0",
                "AUTHCHECK_WEB_WORKERS": "2",
                "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics-web"),
            },
        ),
        "worker": Proc(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "authcheck",
                "worker",
                "-Q",
                f"{queue_name},{queue_name}-detectors",
                "-c",
                "2",
                "-n",
                f"{queue_name}@%h",
                "--without-mingle",
                "--without-gossip",
                "-l",
                "INFO",
            ],
            {
                **env,
                "AUTHCHECK_WORKER_METRICS_PORT": str(worker_port),
                "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics-worker"),
            },
        ),
        "beat": Proc(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "authcheck",
                "beat",
                "--schedule",
                str(tmp_path / "beat-schedule"),
                "-l",
                "INFO",
            ],
            env,
        ),
    }
    try:
        port = procs["web"].wait_for(r"Listening at: http://127\.0\.0\.1:(\d+)").group(1)
        procs["worker"].wait_for(r"ready\.")
        procs["beat"].wait_for(r"beat: Starting")
        yield {"web_url": f"http://127.0.0.1:{port}", "worker_metrics": worker_port, **procs}
    finally:
        for proc in procs.values():
            proc.stop()


def test_a_url_check_reaches_its_verdict_on_the_production_stack(
    stack: dict, image_url: str
) -> None:
    user = User.objects.create(username="prod", role=Role.JOURNALIST)
    _, token = token_create(user=user, name="prod")
    api = httpx.Client(base_url=stack["web_url"], headers={"Authorization": f"Bearer {token}"})
    assert api.get("/readyz").json()["checks"] == {"database": "ok", "broker": "ok", "media": "ok"}
    created = api.post("/api/v1/checks", json={"url": image_url})
    assert created.status_code == 202, created.text
    check_id = created.json()["id"]
    deadline = time.monotonic() + 60
    while (body := api.get(f"/api/v1/checks/{check_id}").json())["status"] not in {
        "done",
        "failed",
    }:
        assert time.monotonic() < deadline, body
        time.sleep(0.3)
    assert body["status"] == "done" and body["verdict"]["label"] == "no_provenance"

    # Web metrics are summed over gunicorn's worker processes; the state families answer for all.
    web_metrics = api.get("/metrics").text
    assert 'authcheck_checks{status="done"} 1.0' in web_metrics
    assert (
        'authcheck_http_requests_total{method="POST",status="202",view="api-checks"}' in web_metrics
    )
    worker = httpx.get(f"http://127.0.0.1:{stack['worker_metrics']}/metrics").text
    assert 'authcheck_stage_duration_seconds_count{outcome="done",stage="fetch"} 1.0' in worker
    assert 'authcheck_detector_duration_seconds_count{detector="ai_labels"} 1.0' in worker

    # Logs are JSON lines, and the worker's carry the check id and stage of every stage.
    stack["worker"].wait_for(r'"stage": "verdict"')
    events = [json.loads(ln) for ln in stack["worker"].output if ln.startswith("{")]
    stages = [e for e in events if e.get("event") == "stage" and e["check_id"] == check_id]
    assert {e["stage"] for e in stages} >= {"fetch", "hash", "provenance", "probe", "verdict"}
    assert token not in "".join(stack["web"].output + stack["worker"].output)

    # Beat's sweeper (every 60 s) reaches the worker.
    stack["worker"].wait_for(r"sweep_task\[.*\] succeeded", timeout=90)
