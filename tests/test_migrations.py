"""Data migration 0005: run state moves out of signals into DetectorRun rows, nothing is lost."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("authcheck", "0004_detector_runs")]
AFTER = [("authcheck", "0005_detector_runs_from_signals")]


def _migrate(targets: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_pending_signals_become_running_runs_and_finished_ones_get_a_done_run() -> None:
    old = _migrate(BEFORE)
    try:
        media = old.get_model("authcheck", "Media").objects.create(
            sha256="a" * 64, size=1, mime="image/png", kind="image", storage_name="x" * 32
        )
        signal = old.get_model("authcheck", "Signal")
        signal.objects.create(
            media=media, detector="ai_labels", version="1", label="pending",
            evidence={"attempts": 2},
        )  # fmt: skip
        found = signal.objects.create(
            media=media, detector="container_profile", version="1", label="weak_camera",
            score=0.4, evidence={"observations": []}, runtime_ms=12.5,
        )  # fmt: skip
        crashed = signal.objects.create(
            media=media, detector="spectral_artifacts", version="1", label="error",
            error="boom",
        )  # fmt: skip
        new = _migrate(AFTER)
        runs = {r.detector: r for r in new.get_model("authcheck", "DetectorRun").objects.all()}
        signals = new.get_model("authcheck", "Signal").objects
        assert not signals.filter(label="pending").exists()  # run state is not evidence
        assert (runs["ai_labels"].state, runs["ai_labels"].attempts) == ("running", 2)
        assert runs["ai_labels"].signal_id is None
        assert (runs["container_profile"].state, runs["container_profile"].signal_id) == (
            "done",
            found.pk,
        )
        assert runs["container_profile"].duration_ms == 12.5
        assert (runs["spectral_artifacts"].state, runs["spectral_artifacts"].error) == (
            "error",
            "boom",
        )
        assert runs["spectral_artifacts"].signal_id == crashed.pk
        assert signals.get(pk=found.pk).evidence == {"observations": []}
    finally:
        _migrate(AFTER)  # leave the schema at the latest state for the other tests
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_0012_stores_chunks_signed_drops_the_hex_copy_and_undoes_both() -> None:
    before = [("authcheck", "0011_reference_archive")]
    after = [("authcheck", "0012_framehash_compact")]
    values = [(1 << 256) - 1, 0x8000 << 240, 0x1234_5678_9ABC_DEF0 << 64 | 0x7FFF, 0]
    old = _migrate(before)
    try:
        media = old.get_model("authcheck", "Media").objects.create(
            sha256="b" * 64, size=1, mime="video/mp4", kind="video", storage_name="y" * 32
        )
        frame_hash = old.get_model("authcheck", "FrameHash")
        for index, value in enumerate(values):
            text = f"{value:064x}"
            words = [int(text[16 * k : 16 * k + 16], 16) for k in range(4)]
            frame_hash.objects.create(
                media=media, frame_index=index, variant="full", quality=90, hash=text,
                **{f"h{k}": w - (1 << 64) if w >> 63 else w for k, w in enumerate(words)},
                **{f"c{i}": int(text[4 * i : 4 * i + 4], 16) for i in range(16)},
            )  # fmt: skip
        new = _migrate(after)
        rows = {r.frame_index: r for r in new.get_model("authcheck", "FrameHash").objects.all()}
        for index, value in enumerate(values):
            chunks = [getattr(rows[index], f"c{i}") for i in range(16)]
            assert all(-32768 <= c <= 32767 for c in chunks)
            assert [c % 65536 for c in chunks] == [
                (value >> (240 - 16 * i)) & 0xFFFF for i in range(16)
            ]
        assert [getattr(rows[0], f"c{i}") for i in range(16)] == [-1] * 16
        assert rows[1].c0 == -32768 and rows[2].c15 == 32767
        back = _migrate(before)
        restored = {
            r.frame_index: r for r in back.get_model("authcheck", "FrameHash").objects.all()
        }
        for index, value in enumerate(values):
            assert restored[index].hash == f"{value:064x}"
            assert [getattr(restored[index], f"c{i}") for i in range(16)] == [
                (value >> (240 - 16 * i)) & 0xFFFF for i in range(16)
            ]
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
