"""Frame sampling: bounded, spread over the clip, keyframes found, consecutive runs, thumbnails."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from authcheck.errors import MediaError
from authcheck.pipeline import frames as frames_stage
from authcheck.pipeline.frames import DECODE_BUDGET, RUN_LENGTH, plan_positions, sample_frames
from authcheck.pipeline.probe import probe
from authcheck.pipeline.sandbox import Limits
from tests.mediagen import make_audio, make_image, make_video

LIMITS = Limits(timeout_seconds=60)


def _sample(path: Path, kind: str = "video", **kwargs: int) -> tuple:
    return sample_frames(path, kind, probe(path, kind).to_dict(), limits=LIMITS, **kwargs)


@pytest.fixture(scope="module")
def clip_20s(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # A keyframe every 2 s, as phones and platforms encode; 25 fps.
    path = tmp_path_factory.mktemp("frames") / "clip.mp4"
    return make_video(path, seconds=20, size="640x360", extra=("-g", "50", "-sc_threshold", "0"))


def test_a_20s_clip_gives_bounded_keyframes_spread_over_its_duration(clip_20s: Path) -> None:
    sampled = _sample(clip_20s)
    assert 10 <= len(sampled) <= 16
    times = [f.timestamp for f in sampled]
    assert times == sorted(times)
    keyframes = [f for f in sampled if f.keyframe]
    assert len(keyframes) >= 8
    # Keyframes sit on the 2 s GOP grid and cover the clip from start to end with no big hole.
    assert all(abs(f.timestamp / 2 - round(f.timestamp / 2)) < 1e-3 for f in keyframes)
    assert min(times) < 1.0 and max(times) > 17.0
    assert max(np.diff(sorted({round(t) for t in times}))) <= 4


def test_consecutive_runs_are_marked_by_adjacent_indexes(clip_20s: Path) -> None:
    sampled = _sample(clip_20s)
    by_index = {f.index: f for f in sampled}
    pairs = [(by_index[i], by_index[i + 1]) for i in by_index if i + 1 in by_index]
    run_starts = {a.index for a, _ in pairs if a.index - 1 not in by_index}
    assert len(run_starts) >= 2
    for first, second in pairs:
        assert second.timestamp - first.timestamp == pytest.approx(1 / 25, abs=1e-3)
        assert first.index == round(first.timestamp * 25)
    # The frames of a run differ (a moving test pattern), so they are real consecutive decodes.
    a, b = pairs[0]
    assert not np.array_equal(a.rgb, b.rgb)


def test_frames_are_downscaled_with_aspect_kept_and_small_ones_are_not_upscaled(
    tmp_path: Path,
) -> None:
    big = make_video(tmp_path / "big.mp4", seconds=1, size="1280x720")
    small = make_video(tmp_path / "small.mp4", seconds=1, size="320x240")
    assert {f.rgb.shape for f in _sample(big)} == {(288, 512, 3)}
    assert {f.rgb.shape for f in _sample(small, max_side=512)} == {(240, 320, 3)}
    assert all(f.rgb.dtype == np.uint8 for f in _sample(big, max_side=200))
    assert max(max(f.rgb.shape[:2]) for f in _sample(big, max_side=200)) <= 200


def test_max_frames_bounds_the_count(clip_20s: Path) -> None:
    assert 1 <= len(_sample(clip_20s, max_frames=4)) <= 4


def test_a_long_gop_clip_keeps_accurate_seeks_within_the_decode_budget() -> None:
    # Keyframes only every 10 s of a 20 s clip: most targets are far from a keyframe.
    targets = [(k + 0.5) * 2 for k in range(10)]
    keyframes = {t: (0.0 if t < 10 else 10.0) for t in targets}
    positions = plan_positions(20.0, 25.0, keyframes, 16)
    starts = {p.start for p in positions}
    assert {0.0, 10.0} <= starts
    decoded = sum((p.start - (0.0 if p.start < 10 else 10.0)) * 25 for p in positions)
    assert decoded <= DECODE_BUDGET * 20 * 25
    assert sum(p.count for p in positions) <= 16
    assert any(p.count == RUN_LENGTH for p in positions)


def test_short_gops_give_only_keyframe_seeks() -> None:
    targets = [(k + 0.5) * 6 for k in range(10)]
    keyframes = {t: float(int(t)) for t in targets}  # a keyframe every second
    positions = plan_positions(60.0, 30.0, keyframes, 16)
    assert all(p.keyframe for p in positions)
    assert len(positions) == 10


def test_a_video_is_sampled_without_decoding_it_whole(clip_20s: Path, monkeypatch) -> None:
    seen: list[list[str]] = []
    real = frames_stage.run_tool

    def spy(args: list[str], limits: Limits) -> tuple[bytes, bytes]:
        seen.append(args)
        return real(args, limits)

    monkeypatch.setattr(frames_stage, "run_tool", spy)
    _sample(clip_20s)
    ffmpeg_runs = [a for a in seen if a[0] == "ffmpeg"]
    assert ffmpeg_runs
    for args in ffmpeg_runs:
        # Every input seeks and reads a fraction of a second; each is boxed in.
        assert args.count("-i") == args.count("-ss") == args.count("-t")
        assert all(float(args[i + 1]) < 0.5 for i, a in enumerate(args) if a == "-t")
        assert args.count("-protocol_whitelist") == args.count("-i")
        assert "-nostdin" in args
        assert all(a.startswith("file:") for i, a in enumerate(args) if args[i - 1] == "-i")


def test_an_image_gives_one_upright_downscaled_frame(tmp_path: Path) -> None:
    path = make_image(tmp_path / "photo.jpg", size=(1200, 800))
    (frame,) = _sample(path, kind="image")
    assert frame.index == 0 and frame.timestamp == 0.0 and frame.keyframe
    assert frame.rgb.shape == (341, 512, 3) or frame.rgb.shape == (342, 512, 3)
    assert frame.rgb.dtype == np.uint8
    # The red background survives decoding (not a blank array).
    assert frame.rgb[10, 10, 0] > 150 and frame.rgb[10, 10, 1] < 80


def test_thumbnails_are_small_valid_jpegs(clip_20s: Path, tmp_path: Path) -> None:
    image = make_image(tmp_path / "photo.png", size=(900, 300))
    for frame in (*_sample(clip_20s, max_frames=4), *_sample(image, kind="image")):
        with Image.open(io.BytesIO(frame.thumbnail_jpeg)) as thumb:
            assert thumb.format == "JPEG"
            assert max(thumb.size) <= 160
            thumb.load()


def test_audio_gives_no_frames(tmp_path: Path) -> None:
    path = make_audio(tmp_path / "tone.wav")
    assert sample_frames(path, "audio", {}, limits=LIMITS) == ()


def test_a_playlist_disguised_as_mp4_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "other_upload.ts"
    make_video(secret, seconds=1)
    playlist = tmp_path / "evil.mp4"
    playlist.write_text(f"#EXTM3U\n#EXTINF:1.0,\n{secret}\n#EXT-X-ENDLIST\n")
    with pytest.raises(MediaError):
        sample_frames(playlist, "video", {"duration": 1.0, "fps": 25.0}, limits=LIMITS)


def test_runs_side_by_side_give_the_frames_one_run_after_the_other_gives(
    clip_20s: Path, monkeypatch
) -> None:
    # Several ffmpeg runs (positions in batches of BATCH_INPUTS) decoded in parallel, with
    # single-threaded decoders, must give exactly the pictures of a sequential sampling.
    side_by_side = _sample(clip_20s)
    assert len(side_by_side) > frames_stage.BATCH_INPUTS  # more than one run
    monkeypatch.setattr(frames_stage, "PARALLEL_RUNS", 1)
    in_turn = _sample(clip_20s)
    assert [(f.index, f.timestamp, f.keyframe) for f in side_by_side] == [
        (f.index, f.timestamp, f.keyframe) for f in in_turn
    ]
    assert all(np.array_equal(a.rgb, b.rgb) for a, b in zip(side_by_side, in_turn, strict=True))


def test_a_run_that_fails_leaves_the_frames_of_the_others(clip_20s: Path, monkeypatch) -> None:
    real = frames_stage._decode_batch
    calls: list[float] = []

    def first_fails(path, batch, *args):  # type: ignore[no-untyped-def]
        calls.append(batch[0].start)
        if batch[0].start == 0.0:
            raise MediaError("corrupt stretch", code="media_malformed")
        return real(path, batch, *args)

    monkeypatch.setattr(frames_stage, "_decode_batch", first_fails)
    sampled = _sample(clip_20s)
    assert len(calls) >= 2 and sampled
    assert all(f.timestamp > 0 for f in sampled)
