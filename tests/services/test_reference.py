"""The reference archive: registering (deduplicated, audited, no check), resumable indexing,
Celery publishing with a broker, the commands, and the alignment of earlier-check matches."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from django.core.management import call_command

from authcheck import similarity
from authcheck.errors import AuthcheckError
from authcheck.models import AuditEvent, Check, FrameHash, Media, ReferenceItem
from authcheck.pipeline import dense
from authcheck.services import reference
from authcheck.services.similar import frame_hashes_store, match_alignment
from tests.mediagen import make_photo_footage

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six seconds, two shots of real photographs."""
    folder = tmp_path_factory.mktemp("ref")
    return make_photo_footage(
        folder / "Press conference.mp4", ("coffee.png", "rocket.jpg"), seconds_per_photo=3
    )


def test_registering_twice_keeps_one_media_and_one_item_and_audits_once(clip: Path) -> None:
    first, created = reference.reference_register(clip, collection="agency")
    again, created_again = reference.reference_register(clip, collection="agency")
    assert created and not created_again and first.pk == again.pk
    assert Media.objects.count() == 1 and not Check.objects.exists()
    assert AuditEvent.objects.filter(action="reference.added").count() == 1
    other, created_other = reference.reference_register(clip, collection="archive")
    assert created_other and other.media_id == first.media_id


def test_a_file_that_is_not_media_is_refused(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a video")
    with pytest.raises(AuthcheckError):
        reference.reference_register(text, collection="agency")
    assert not ReferenceItem.objects.exists()


def test_an_interrupted_indexing_resumes_where_it_stopped(
    clip: Path, monkeypatch: pytest.MonkeyPatch, settings
) -> None:
    settings.AUTHCHECK_TASKS_IN_PROCESS = True
    monkeypatch.setattr(reference, "WINDOW_SECONDS", 2.0)
    item, _ = reference.reference_register(clip, collection="agency")
    real = dense.sample_window
    calls = []

    def crash_on_the_second_window(*args: object, **kwargs: object) -> list:
        calls.append(kwargs["start"])
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(dense, "sample_window", crash_on_the_second_window)
    with pytest.raises(RuntimeError):
        reference.reference_index(item.pk)
    item.refresh_from_db()
    assert item.state == "indexing" and item.indexed_until == 2.0
    first_window = item.frames_indexed
    assert FrameHash.objects.filter(media=item.media).count() == 11 * first_window

    monkeypatch.setattr(dense, "sample_window", real)
    seen: list[float] = []
    assert reference.reference_index(item.pk, lambda i: seen.append(i.indexed_until)) == "indexed"
    item.refresh_from_db()
    assert seen == [4.0, 6.0]  # resumed at the second window, progress after each
    # One frame a second plus the cut at 3 s; nothing stored twice.
    assert 6 <= item.frames_indexed <= 8
    assert FrameHash.objects.filter(media=item.media).count() == 11 * item.frames_indexed
    assert AuditEvent.objects.filter(action="reference.indexed").count() == 1


def test_with_a_broker_indexing_is_published_not_run(
    clip: Path, monkeypatch: pytest.MonkeyPatch, settings
) -> None:
    settings.AUTHCHECK_TASKS_IN_PROCESS = False
    sent: list[int] = []
    monkeypatch.setattr(reference.publish, "reference_publish", sent.append)
    item, _ = reference.reference_register(clip, collection="agency")
    assert reference.reference_enqueue(item) == "queued"
    assert sent == [item.pk] and not FrameHash.objects.exists()


def test_the_commands_add_a_folder_with_progress_list_and_remove(
    clip: Path, settings, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.AUTHCHECK_TASKS_IN_PROCESS = True
    call_command(
        "reference_add", str(clip.parent), "--collection", "agency",
        "--source-url", "https://example.org/pressers",
    )  # fmt: skip
    out = capsys.readouterr().out
    assert "[1/1] Press conference.mp4: 6/6 s" in out and "indexed, reference id" in out
    call_command("reference_list", "--json")
    listed = capsys.readouterr().out
    assert '"state": "indexed"' in listed and "https://example.org/pressers" in listed
    call_command("reference_remove", "--collection", "agency")
    assert not ReferenceItem.objects.exists() and not FrameHash.objects.exists()
    assert AuditEvent.objects.filter(action="reference.removed").count() == 1


def test_matches_against_earlier_checks_carry_a_time_alignment() -> None:
    earlier = Media.objects.create(
        sha256="e" * 64, size=1, mime="video/mp4", kind="video", storage_name="earlier"
    )
    values = [int.from_bytes(bytes([i + 1]) * 32, "big") ^ (i * 7919) for i in range(12)]
    stored = [
        {"frame_index": i * 25, "timestamp": 100.0 + i, "variant": "full", "quality": 100,
         "hash": f"{v:064x}"}
        for i, v in enumerate(values)
    ]  # fmt: skip
    frame_hashes_store(earlier.pk, stored)
    # The new clip shows the earlier one's seconds 102-111 from its second 0 on.
    query = [
        {"frame_index": k * 25, "timestamp": float(k), "variant": "full", "quality": 100,
         "hash": f"{values[k + 2] ^ 0b1011:064x}"}
        for k in range(10)
    ]  # fmt: skip
    (match,) = similarity.similar_find(query, exclude_media_id=None)
    aligned = match_alignment(query, match)
    assert aligned is not None
    assert aligned["scale"] == pytest.approx(1.0, abs=0.01)
    assert aligned["segments"][0]["source_start"] == pytest.approx(102.0, abs=0.2)
    assert aligned["share_aligned"] == 1.0


def test_a_checked_clip_is_sampled_at_5_fps_one_window_at_a_time(
    clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from authcheck.services import trace
    from authcheck.services.processing import probe_ensure

    item, _ = reference.reference_register(clip, collection="agency")
    probe_ensure(item.media)
    monkeypatch.setattr(trace, "WINDOW_SECONDS", 2.5)
    entries = trace.query_entries(item.media)
    times = sorted({e["timestamp"] for e in entries})
    assert times[0] == 0.0 and times[-1] >= 5.6
    # Every 0.2 s across the window boundaries (2.5 s, 5 s): nothing lost, nothing doubled.
    assert all(0.15 <= b - a <= 0.25 for a, b in itertools.pairwise(times))
    assert len(entries) == 10 * len(times)  # whole frame and nine tiles each
