"""near_duplicate: letterbox removal, PDQ hashes that survive re-encoding, honest labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from authcheck.detectors.base import DetectorContext, Frame
from authcheck.detectors.near_duplicate import (
    MIN_QUALITY,
    NearDuplicateDetector,
    black_borders,
    pdq,
)
from authcheck.pipeline.frames import sample_frames
from authcheck.pipeline.probe import probe
from authcheck.pipeline.sandbox import Limits
from tests.mediagen import letterboxed_copy, make_lavfi_clip, make_video

THRESHOLD = 31


def _frames(path: Path) -> tuple[Frame, ...]:
    return sample_frames(path, "video", probe(path, "video").to_dict(), limits=Limits())


def _ctx(frames: tuple[Frame, ...], kind: str = "video") -> DetectorContext:
    return DetectorContext(
        path=Path("/nonexistent"), sha256="0" * 64, mime="video/mp4", kind=kind, frames=frames
    )


def _hashes(path: Path) -> list[dict]:
    return NearDuplicateDetector().detect(_ctx(_frames(path))).evidence["hashes"]


def _min_distance(a: list[dict], b: list[dict]) -> int:
    return min((int(x["hash"], 16) ^ int(y["hash"], 16)).bit_count() for x in a for y in b)


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("nd")
    original = make_video(root / "original.mp4", seconds=4, size="640x360", extra=("-g", "25"))
    # Scaled down, letterboxed into 4:3 with black bars, re-encoded at a much lower quality.
    copy = letterboxed_copy(original, root / "copy.mp4", width=480, crf=36)
    mandelbrot = "mandelbrot=size=640x360:rate=25"  # a different lavfi source
    unrelated = make_lavfi_clip(root / "unrelated.mp4", mandelbrot, seconds=4)
    return {"original": original, "copy": copy, "unrelated": unrelated}


def test_black_bars_are_found_on_every_side() -> None:
    rng = np.random.default_rng(1)
    picture = rng.integers(40, 255, size=(200, 300, 3), dtype=np.uint8)
    framed = np.zeros((260, 340, 3), dtype=np.uint8)
    framed[30:230, 20:320] = picture
    framed[:30] = rng.integers(0, 8, size=(30, 340, 3))  # encoder noise in the bar
    assert black_borders(framed) == (30, 30, 20, 20)
    assert black_borders(picture) == (0, 0, 0, 0)
    assert black_borders(np.zeros((50, 50, 3), dtype=np.uint8)) == (0, 0, 0, 0)


def test_letterbox_removal_makes_the_bars_invisible_to_the_hash() -> None:
    rng = np.random.default_rng(2)
    picture = np.kron(rng.integers(0, 255, size=(12, 16, 3)), np.ones((20, 20, 1))).astype(np.uint8)
    framed = np.zeros((360, 320, 3), dtype=np.uint8)
    framed[60:300] = picture
    plain = Frame(index=0, timestamp=0.0, keyframe=True, rgb=picture)
    boxed = Frame(index=0, timestamp=0.0, keyframe=True, rgb=framed)
    a = NearDuplicateDetector().detect(_ctx((plain,), "image")).evidence
    b = NearDuplicateDetector().detect(_ctx((boxed,), "image")).evidence
    full = [h for h in a["hashes"] if h["variant"] == "full"]
    full_boxed = [h for h in b["hashes"] if h["variant"] == "full"]
    assert _min_distance(full, full_boxed) <= 8
    assert b["borders_removed"] == [{"frame_index": 0, "crop": [60, 60, 0, 0]}]
    # Without the removal the bars alone would push the hash far away.
    assert (pdq(framed)[0] ^ pdq(picture)[0]).bit_count() > THRESHOLD


def test_a_letterboxed_reencoded_copy_hashes_within_the_threshold(clips) -> None:
    original, copy = _hashes(clips["original"]), _hashes(clips["copy"])
    assert _min_distance(original, copy) <= THRESHOLD
    # The frame at 0 s is in both samples: its full-frame hashes match pairwise.
    first = [h for h in original if h["frame_index"] == 0 and h["variant"] == "full"]
    first_copy = [h for h in copy if h["frame_index"] == 0 and h["variant"] == "full"]
    assert _min_distance(first, first_copy) <= THRESHOLD


def test_an_unrelated_clip_is_far_from_the_original(clips) -> None:
    assert _min_distance(_hashes(clips["original"]), _hashes(clips["unrelated"])) > THRESHOLD + 20


def test_the_signal_is_a_hash_list_and_never_a_score(clips) -> None:
    frames = _frames(clips["original"])
    result = NearDuplicateDetector().detect(_ctx(frames))
    assert result.label == "hashed" and result.score is None
    hashes = result.evidence["hashes"]
    assert {"frame_index", "timestamp", "variant", "quality", "hash"} <= set(hashes[0])
    assert all(len(h["hash"]) == 64 and int(h["hash"], 16) >= 0 for h in hashes)
    assert {h["frame_index"] for h in hashes} <= {f.index for f in frames}
    assert {"full", "center80", "square"} <= {h["variant"] for h in hashes}
    keys = [(h["frame_index"], h["variant"]) for h in hashes]
    assert len(keys) == len(set(keys))


def test_repeated_frames_are_hashed_once() -> None:
    rng = np.random.default_rng(3)
    picture = np.kron(rng.integers(0, 255, size=(9, 16, 3)), np.ones((20, 20, 1))).astype(np.uint8)
    frames = tuple(
        Frame(index=i, timestamp=i / 25, keyframe=False, rgb=picture.copy()) for i in range(3)
    )
    hashes = NearDuplicateDetector().detect(_ctx(frames)).evidence["hashes"]
    assert [h["frame_index"] for h in hashes if h["variant"] == "full"] == [0]


def test_flat_frames_are_labelled_low_quality() -> None:
    black = np.zeros((120, 160, 3), dtype=np.uint8)
    grey = np.full((120, 160, 3), 128, dtype=np.uint8)
    frames = tuple(
        Frame(index=i, timestamp=i / 25, keyframe=i == 0, rgb=pic)
        for i, pic in enumerate((black, grey))
    )
    result = NearDuplicateDetector().detect(_ctx(frames))
    assert result.label == "low_quality" and result.score is None
    assert all(h["quality"] < MIN_QUALITY for h in result.evidence["hashes"])


def test_no_frames_means_abstain() -> None:
    result = NearDuplicateDetector().detect(_ctx(()))
    assert result.label == "abstain" and result.score is None
