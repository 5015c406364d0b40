"""End to end through a real Celery worker, Redis and PostgreSQL: no check lost or duplicated."""

from __future__ import annotations

import http.server
import io
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from authcheck.models import AuditEvent, Check, CheckStage, Role, User, Verdict
from authcheck.services import checks
from authcheck.services.audit import audit_verify
from authcheck.services.tokens import token_create
from tests.e2e.conftest import Worker, wait_until
from tests.mediagen import make_image

pytestmark = pytest.mark.e2e


def _done(check_id: int) -> Check | None:
    check = Check.objects.get(pk=check_id)
    return check if check.status in {"done", "failed"} else None


@pytest.fixture
def api() -> APIClient:
    user = User.objects.create(username="reporter", role=Role.JOURNALIST)
    _, raw = token_create(user=user, name="e2e")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_an_upload_goes_from_submission_to_verdict_through_the_api(
    celery_worker: Worker, api: APIClient, tmp_path: Path
) -> None:
    image = make_image(tmp_path / "p.jpg", size=(120, 80))
    with open(image, "rb") as handle:
        response = api.post("/api/v1/checks", {"file": handle}, format="multipart")
    assert response.status_code == 202, response.content
    check_id = response.json()["id"]
    wait_until(lambda: _done(check_id), what="the worker to finish the check")
    body = api.get(f"/api/v1/checks/{check_id}").json()
    assert body["status"] == "done"
    assert body["verdict"]["label"] == "no_provenance"
    assert {s["name"]: s["state"] for s in body["stages"]}["provenance"] == "done"
    assert audit_verify().ok


class _Stalling(http.server.BaseHTTPRequestHandler):
    """Serves an image; the first request stalls until the test lets it go."""

    payload = b""
    first_request = threading.Event()
    release = threading.Event()
    requests = 0

    def do_GET(self) -> None:
        type(self).requests += 1
        if type(self).requests == 1:
            type(self).first_request.set()
            type(self).release.wait(30)
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(self.payload)))
        self.end_headers()
        self.wfile.write(self.payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def stalling_server(tmp_path: Path) -> Iterator[str]:
    _Stalling.payload = make_image(tmp_path / "s.jpg", size=(64, 64)).read_bytes()
    _Stalling.first_request = threading.Event()
    _Stalling.release = threading.Event()
    _Stalling.requests = 0
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Stalling)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/photo.jpg"
    _Stalling.release.set()
    server.shutdown()


def test_a_worker_killed_mid_task_is_redelivered_and_completes_once(
    celery_worker: Worker, stalling_server: str, settings
) -> None:
    settings.AUTHCHECK_FETCH_ALLOW_LOOPBACK = True
    user = User.objects.create(username="kill", role=Role.JOURNALIST)
    check = checks.check_create(user=user, url=stalling_server).check
    assert _Stalling.first_request.wait(60), "the worker never started fetching"
    children = celery_worker.pool_children()
    assert children, "no pool process to kill"
    for pid in children:
        os.kill(pid, signal.SIGKILL)
    _Stalling.release.set()
    wait_until(lambda: _done(check.pk), what="the redelivered task to finish")
    check.refresh_from_db()
    assert check.status == "done" and check.attempts == 2
    assert Verdict.objects.filter(check_ref=check).count() == 1
    assert AuditEvent.objects.filter(check_id=check.pk, action="verdict.issued").count() == 1
    assert audit_verify().ok


def test_a_check_whose_publish_failed_is_recovered_by_the_sweeper(
    celery_worker: Worker, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from authcheck.services import publish

    def broker_down(*args: object, **kwargs: object) -> None:
        raise ConnectionError("broker unavailable")

    user = User.objects.create(username="sweep", role=Role.JOURNALIST)
    with monkeypatch.context() as patch:
        patch.setattr(publish, "check_publish", broker_down)
        data = make_image(tmp_path / "q.png", size=(50, 50), color=(5, 6, 7)).read_bytes()
        check = checks.check_create(user=user, upload=io.BytesIO(data), filename="q.png").check
    assert Check.objects.get(pk=check.pk).status == "queued"
    assert check.pk in checks.checks_sweep(requeue_after_seconds=0)
    wait_until(lambda: _done(check.pk), what="the swept check to finish")
    assert Verdict.objects.filter(check_ref=check).count() == 1


def test_delivering_the_same_task_twice_runs_it_once(celery_worker: Worker, tmp_path: Path) -> None:
    from authcheck.tasks import check_process_task

    user = User.objects.create(username="twice", role=Role.JOURNALIST)
    data = make_image(tmp_path / "t.png", size=(30, 70), color=(70, 6, 7)).read_bytes()
    check = checks.check_create(user=user, upload=io.BytesIO(data), filename="t.png").check
    check_process_task.delay(check.pk)
    wait_until(lambda: _done(check.pk), what="the check to finish")
    celery_worker.wait_for("succeeded", timeout=30, count=2)
    assert Verdict.objects.filter(check_ref=check).count() == 1
    started = AuditEvent.objects.filter(check_id=check.pk, action="check.started").count()
    assert started == 1


def test_a_warm_shutdown_finishes_the_running_task_and_loses_nothing(
    celery_worker: Worker, stalling_server: str, settings
) -> None:
    settings.AUTHCHECK_FETCH_ALLOW_LOOPBACK = True
    user = User.objects.create(username="term", role=Role.JOURNALIST)
    check = checks.check_create(user=user, url=stalling_server).check
    assert _Stalling.first_request.wait(60), "the worker never started fetching"
    celery_worker.proc.send_signal(signal.SIGTERM)  # warm shutdown while the fetch is stalled
    _Stalling.release.set()
    assert celery_worker.proc.wait(timeout=60) == 0
    # The running task finished its part (fetch, C2PA, probe, fan-out) before the worker left;
    # the detector tasks it queued wait in the broker for the next worker.
    stages = dict(CheckStage.objects.filter(check_ref=check).values_list("name", "state"))
    assert stages["fetch"] == stages["probe"] == "done"
    celery_worker.start()
    wait_until(lambda: _done(check.pk), what="the next worker to finish the check")
    check.refresh_from_db()
    assert check.status == "done" and check.attempts == 1
    assert Verdict.objects.filter(check_ref=check).count() == 1
