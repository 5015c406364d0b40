"""Reference footage indexed from the object store (``reference_add s3://bucket/prefix``),
against moto's S3 server over HTTP on 127.0.0.1: every object under the prefix streamed,
registered and indexed like a local file, audited, skipped on a second run, resumed without a
second download, capped before fetching, and fetched by a worker when a broker is configured."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import pytest

from authcheck import storage, tasks  # noqa: F401  (tasks: registers the Celery tasks)
from authcheck.celery import app as celery_app
from authcheck.models import AuditEvent, Check, FrameHash, ReferenceItem
from authcheck.pipeline import dense
from authcheck.services import publish, reference
from authcheck.services.audit import audit_verify
from tests.commands.helpers import run_command
from tests.deploy.s3server import S3
from tests.mediagen import make_photo_footage

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """Six seconds, two shots of real photographs."""
    folder = tmp_path_factory.mktemp("ref-s3")
    path = make_photo_footage(
        folder / "presser.mp4", ("coffee.png", "rocket.jpg"), seconds_per_photo=3
    )
    return path.read_bytes()


@pytest.fixture
def archive(s3: S3, clip: bytes, settings) -> str:
    """A second bucket (the newsroom's archive, not the media bucket) with footage under
    ``footage/``: one clip, a hidden file, a folder marker, a text file; and a clip elsewhere."""
    settings.AUTHCHECK_TASKS_IN_PROCESS = True
    bucket = f"archive-{uuid.uuid4().hex[:10]}"
    client = s3.client()
    client.create_bucket(Bucket=bucket)
    for key, body in (
        ("footage/2026/Press conference.mp4", clip),
        ("footage/2026/.partial.mp4", clip),
        ("footage/2026/", b""),
        ("footage/notes.txt", b"not a video"),
        ("elsewhere/other.mp4", clip),
    ):
        client.put_object(Bucket=bucket, Key=key, Body=body)
    return bucket


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The objects whose bytes were fetched (a spy on storage.source_open)."""
    seen: list[str] = []
    real = storage.source_open

    @contextmanager
    def spy(obj: storage.SourceObject) -> Iterator[IO[bytes]]:
        seen.append(obj.key)
        with real(obj) as handle:
            yield handle

    monkeypatch.setattr(storage, "source_open", spy)
    return seen


def test_every_object_under_the_prefix_is_indexed_audited_and_skipped_on_a_second_run(
    archive: str, opened: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    source = f"s3://{archive}/footage/"
    code, out, err = run_command(capsys, "reference_add", source, "--collection", "agency")
    assert code == 0, err
    uri = f"s3://{archive}/footage/2026/Press conference.mp4"
    assert f"[1/2] Press conference.mp4: {uri}" in out
    assert "[1/2] Press conference.mp4: 6/6 s" in out and "indexed, reference id" in out
    assert "[2/2] notes.txt: skipped:" in err  # sniffed like an upload: not media
    assert opened == ["footage/2026/Press conference.mp4", "footage/notes.txt"]
    (item,) = ReferenceItem.objects.all()
    assert item.state == "indexed" and item.original_path == uri
    assert item.title == "Press conference" and item.collection == "agency"
    assert FrameHash.objects.filter(media=item.media).count() == 11 * item.frames_indexed
    assert not Check.objects.exists()
    added = AuditEvent.objects.get(action="reference.added")
    data = json.loads(added.body)["data"]
    assert data["object"] == uri and data["etag"] and data["sha256"] == item.media.sha256
    assert AuditEvent.objects.filter(action="reference.indexed").count() == 1
    assert audit_verify().ok
    # No temporary file is left behind.
    leftovers = [p for p in Path(reference.tmp_dir()).iterdir() if p.is_file()]
    assert leftovers == []

    opened.clear()
    code, out, err = run_command(capsys, "reference_add", source, "--collection", "agency")
    assert code == 0
    assert "skipped (already indexed from this object)" in out
    assert opened == ["footage/notes.txt"]  # the indexed object is not fetched again
    assert ReferenceItem.objects.count() == 1
    assert AuditEvent.objects.filter(action="reference.added").count() == 1


def test_an_interrupted_indexing_resumes_without_fetching_the_object_again(
    archive: str, opened: list[str], monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setattr(reference, "WINDOW_SECONDS", 2.0)
    real = dense.sample_window
    calls: list[float] = []

    def crash_on_the_second_window(*args: object, **kwargs: object) -> list:
        calls.append(float(kwargs["start"]))  # type: ignore[arg-type]
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(dense, "sample_window", crash_on_the_second_window)
    (obj,) = storage.source_objects(f"s3://{archive}/footage/2026/")
    with pytest.raises(RuntimeError):
        reference.reference_object_add(obj, collection="agency")
    item = ReferenceItem.objects.get()
    assert item.state == "indexing" and item.indexed_until == 2.0
    monkeypatch.setattr(dense, "sample_window", real)
    opened.clear()
    code, out, _ = run_command(
        capsys, "reference_add", f"s3://{archive}/footage/2026/", "--collection", "agency"
    )
    assert code == 0 and "[1/1] Press conference.mp4: 4/6 s" in out
    assert opened == []
    item.refresh_from_db()
    assert item.state == "indexed" and item.indexed_until == 6.0


def test_an_object_over_the_cap_is_refused_before_it_is_fetched(
    archive: str, opened: list[str], monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setattr(reference, "REFERENCE_MAX_BYTES", 1000)
    code, _, err = run_command(
        capsys, "reference_add", f"s3://{archive}/footage/2026/", "--collection", "agency"
    )
    assert code == 0 and "larger than 1000 bytes" in err
    assert opened == [] and not ReferenceItem.objects.exists()


def test_an_object_that_grows_past_the_cap_while_streamed_leaves_nothing(
    archive: str, s3: S3, monkeypatch: pytest.MonkeyPatch, settings
) -> None:
    (obj,) = storage.source_objects(f"s3://{archive}/footage/2026/")
    monkeypatch.setattr(reference, "REFERENCE_MAX_BYTES", obj.size)
    s3.client().put_object(Bucket=archive, Key=obj.key, Body=b"\0" * (obj.size + 1))
    with pytest.raises(reference.MediaTooLarge):
        reference.reference_object_register(obj, collection="agency")
    assert not ReferenceItem.objects.exists()
    assert not [p for p in Path(reference.tmp_dir()).iterdir() if p.is_file()]


def test_with_a_broker_objects_are_fetched_and_indexed_by_a_worker(
    archive: str, opened: list[str], monkeypatch: pytest.MonkeyPatch, settings, capsys
) -> None:
    settings.AUTHCHECK_TASKS_IN_PROCESS = False
    sent: list[tuple[str, ...]] = []
    monkeypatch.setattr(
        reference.publish, "reference_object_publish", lambda *args: sent.append(args)
    )
    code, out, _ = run_command(
        capsys, "reference_add", f"s3://{archive}/footage/2026/", "--collection", "agency",
        "--source-url", "https://example.org/pressers",
    )  # fmt: skip
    assert code == 0 and "queued (fetched and indexed by a worker)" in out
    uri = f"s3://{archive}/footage/2026/Press conference.mp4"
    assert sent == [(uri, "agency", "https://example.org/pressers", "cli")]
    assert opened == [] and not ReferenceItem.objects.exists()
    # The task a worker runs under the name published (Celery's apply: in this process).
    task = celery_app.tasks[publish.REFERENCE_OBJECT_TASK]
    assert task.apply(args=sent[0]).get() == "indexed"
    item = ReferenceItem.objects.get()
    assert item.source_url == "https://example.org/pressers" and item.original_path == uri
    assert reference.reference_object_fetch(*sent[0]) == "indexed"  # a redelivery: no-op
    assert ReferenceItem.objects.count() == 1
    assert opened == ["footage/2026/Press conference.mp4"]  # fetched once, by the worker


def test_an_unreadable_bucket_is_a_one_line_usage_error(s3: S3, capsys) -> None:
    code, _, err = run_command(
        capsys, "reference_add", "s3://no-such-bucket-here/x/", "--collection", "agency"
    )
    assert code == 2
    assert err.strip() == "reference_add: cannot read s3://no-such-bucket-here/x/: NoSuchBucket"
    code, _, err = run_command(capsys, "reference_add", "s3:///x", "--collection", "agency")
    assert code == 2 and "no bucket in s3:///x" in err
