"""The shared detector contract: every registered detector, on every fixture, keeps its promises.

Each detector must return a ``SignalResult`` (never raise) with a stable non-empty label, a score
in [0, 1] or an explicit abstention (``None``), JSON-serialisable evidence, and must apply only to
the media kinds it declares. Fixtures are generated here: ordinary and degenerate media of every
kind, including a signed C2PA image and a one-frame video.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from authcheck.detectors.base import Detector, DetectorContext, SignalResult
from authcheck.pipeline import frames as frames_stage
from authcheck.pipeline import metadata as metadata_stage
from authcheck.pipeline import probe as probe_stage
from authcheck.pipeline.hashing import hash_file, sniff
from authcheck.registry import BUILTIN, _load
from tests import mediagen
from tests.c2pa_fixtures import signed_jpeg

DETECTORS = _load(BUILTIN)


def _fixtures(directory: Path) -> dict[str, Path]:
    tiny = directory / "tiny.png"
    Image.new("RGB", (8, 8), (0, 0, 0)).save(tiny)
    return {
        "jpeg": mediagen.make_image(directory / "photo.jpg", size=(320, 240), fmt="JPEG"),
        "png": mediagen.make_image(directory / "photo.png", size=(320, 240), fmt="PNG"),
        "tiny_black_png": tiny,
        "signed_jpeg": signed_jpeg(directory / "signed.jpg"),
        "h264_mp4": mediagen.make_video(directory / "clip.mp4", seconds=2, audio=True),
        "vp9_webm": mediagen.make_video(
            directory / "clip.webm", seconds=1, codec="libvpx-vp9", extra=("-deadline", "realtime")
        ),
        "one_frame_mp4": mediagen.make_video(directory / "one.mp4", seconds=0.04),
        "black_letterboxed_mp4": mediagen.make_video(
            directory / "black.mp4",
            seconds=1,
            source="color",
            extra=("-vf", "pad=iw:ih+40"),
        ),
        "wav": mediagen.make_audio(directory / "tone.wav"),
        "mp3": mediagen.make_audio(directory / "tone.mp3"),
    }


@pytest.fixture(scope="module")
def contexts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, DetectorContext]:
    directory = tmp_path_factory.mktemp("contract")
    built = {}
    for name, path in _fixtures(directory).items():
        sniffed = sniff(path)
        probed = probe_stage.probe(path, sniffed.kind).to_dict()
        frames = ()
        if sniffed.kind in {"image", "video"}:
            frames = frames_stage.sample_frames(
                path, sniffed.kind, probed, limits=probe_stage.Limits()
            )
        built[name] = DetectorContext(
            path=path,
            sha256=hash_file(path)[0],
            mime=sniffed.mime,
            kind=sniffed.kind,
            probe=probed,
            frames=frames,
            metadata=metadata_stage.read(path),
        )
    return built


def test_the_registry_names_are_unique_and_versioned() -> None:
    names = [d.name for d in DETECTORS]
    assert len(set(names)) == len(names) == len(BUILTIN)
    for detector in DETECTORS:
        assert isinstance(detector, Detector)
        assert detector.name and detector.version
        assert detector.media_kinds <= {"image", "video", "audio"}


@pytest.mark.parametrize("detector", DETECTORS, ids=lambda d: d.name)
@pytest.mark.parametrize(
    "fixture",
    [
        "jpeg",
        "png",
        "tiny_black_png",
        "signed_jpeg",
        "h264_mp4",
        "vp9_webm",
        "one_frame_mp4",
        "black_letterboxed_mp4",
        "wav",
        "mp3",
    ],
)
def test_every_detector_keeps_the_contract_on_every_fixture(
    detector: Detector, fixture: str, contexts: dict[str, DetectorContext]
) -> None:
    ctx = contexts[fixture]
    if ctx.kind not in detector.media_kinds:
        pytest.skip(f"{detector.name} does not apply to {ctx.kind}")
    result = detector.detect(ctx)
    assert isinstance(result, SignalResult)
    assert result.label and result.label == result.label.strip() and len(result.label) <= 60
    assert result.score is None or 0.0 <= result.score <= 1.0
    assert not result.error, result.error
    json.dumps(result.evidence, allow_nan=False)
    again = detector.detect(ctx)
    assert (again.label, again.score) == (result.label, result.score), "detectors are deterministic"
