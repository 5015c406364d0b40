"""container_profile: weak, explained context that orders camera-like below generator-like files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from authcheck.detectors.base import Detector, DetectorContext, SignalResult
from authcheck.detectors.container_profile import (
    ContainerProfileDetector,
    observations,
    profile_result,
)
from authcheck.pipeline.metadata import EmbeddedMetadata, MetaField
from tests.detectors.test_ai_labels import context_for
from tests.mediagen import make_video

APPLE = {"com.apple.quicktime.make": "Apple", "com.apple.quicktime.model": "iPhone 15 Pro"}
NO_META = EmbeddedMetadata("mp4")


def _detect(path: Path, kind: str, probe: dict[str, Any] | None = None) -> SignalResult:
    return ContainerProfileDetector().detect(context_for(path, kind, probe))


def _phone_probe() -> dict[str, Any]:
    video = {
        "codec_type": "video",
        "r_frame_rate": "30/1",
        "avg_frame_rate": "2850/100",
        "nb_frames": "1110",
        "tags": {"handler_name": "Core Media Video"},
    }
    audio = {"codec_type": "audio", "tags": {"handler_name": "Core Media Audio"}}
    return {
        "duration": 37.04,
        "width": 1920,
        "height": 1080,
        "fps": 29.97,
        "tags": {**APPLE, "com.apple.quicktime.location.ISO6709": "+48.85+002.29/"},
        "streams": [video, audio],
        "gop": {
            "keyframes": 37,
            "sampled_seconds": 37.0,
            "mean_interval_s": 1.0,
            "max_interval_s": 1.03,
            "frame_types": {"I": 37, "P": 1073, "B": 0},
        },
    }


def _wan_probe() -> dict[str, Any]:
    video = {
        "codec_type": "video",
        "r_frame_rate": "16/1",
        "avg_frame_rate": "16/1",
        "nb_frames": "81",
        "tags": {"encoder": "Lavc61.3.100 libx264"},
    }
    return {
        "duration": 5.0625,
        "width": 832,
        "height": 480,
        "fps": 16.0,
        "tags": {"encoder": "Lavf61.1.100"},
        "streams": [video],
        "gop": {
            "keyframes": 1,
            "sampled_seconds": 5.06,
            "mean_interval_s": 5.06,
            "max_interval_s": 5.06,
            "frame_types": {"I": 1, "P": 30, "B": 50},
        },
    }


def test_it_implements_the_detector_contract() -> None:
    detector = ContainerProfileDetector()
    assert isinstance(detector, Detector)
    assert (detector.name, detector.version) == ("container_profile", "1")
    assert detector.media_kinds == frozenset({"video", "image"})


def test_an_apple_tagged_clip_scores_below_a_bare_lavf_5s_720p_24fps_clip(tmp_path: Path) -> None:
    common = {"seconds": 5.0, "size": "1280x720", "fps": 24}
    bare = make_video(tmp_path / "bare.mp4", **common)
    apple = make_video(
        tmp_path / "apple.mov",
        **common,
        metadata=APPLE,
        audio=True,
        extra=("-movflags", "use_metadata_tags"),
    )
    bare_result, apple_result = _detect(bare, "video"), _detect(apple, "video")
    assert apple_result.score is not None and bare_result.score is not None
    assert apple_result.score < bare_result.score
    assert bare_result.label == "generator_like_profile"
    bare_names = {o["name"] for o in bare_result.evidence["observations"]}
    assert {"ffmpeg_muxer", "generator_typical_duration", "fps_24", "no_audio"} <= bare_names
    apple_names = {o["name"] for o in apple_result.evidence["observations"]}
    assert "apple_camera_keys" in apple_names
    # Camera keys plus an x264 re-encode: the honest reading is "a camera file, re-encoded".
    assert apple_result.label == "reencoded"


def test_every_observation_is_listed_with_its_weight_and_the_score_is_their_sum(
    tmp_path: Path,
) -> None:
    result = _detect(make_video(tmp_path / "a.mp4", seconds=1.0), "video")
    weights = [o["weight"] for o in result.evidence["observations"]]
    assert all(isinstance(w, float) for w in weights) and weights
    assert result.score == pytest.approx(result.evidence["score_base"] + sum(weights))
    assert "not a detector" in result.evidence["note"]


def test_the_score_is_not_a_constant(tmp_path: Path) -> None:
    scores = {
        _detect(make_video(tmp_path / f"{i}.mp4", **kw), "video").score
        for i, kw in enumerate(
            [
                {"seconds": 5.0, "size": "1280x720", "fps": 24},
                {"seconds": 3.3, "size": "640x360", "fps": 30, "audio": True},
                {"seconds": 2.0, "size": "832x480", "fps": 16},
            ]
        )
    }
    assert len(scores) == 3


def test_a_phone_original_profile_reads_as_camera_hints() -> None:
    result = profile_result(observations("video", _phone_probe(), NO_META))
    assert result.label == "camera_original_hints"
    assert result.score is not None and result.score <= 0.3
    names = {o["name"] for o in result.evidence["observations"]}
    assert {
        "apple_camera_keys",
        "apple_avfoundation_handler",
        "variable_frame_rate",
        "long_duration",
        "regular_short_gop",
        "location_tag",
    } <= names


def test_a_wan_like_profile_reads_as_generator_like() -> None:
    result = profile_result(observations("video", _wan_probe(), NO_META))
    assert result.label == "generator_like_profile"
    names = {o["name"] for o in result.evidence["observations"]}
    assert {"latent_video_frame_count", "fps_16", "generator_typical_size", "single_gop"} <= names
    assert result.score is not None and result.score <= 0.95


def test_android_keys_and_our_own_mp4_reader_count_as_camera_hints() -> None:
    meta = EmbeddedMetadata("mp4", (MetaField("mp4_keys", "com.android.version", "14"),))
    found = observations("video", {"streams": []}, meta)
    assert [(o.name, o.weight) for o in found] == [("android_camera_keys", -0.25)]


def test_camera_hints_alone_cannot_push_the_score_below_the_floor() -> None:
    probe = _phone_probe()
    probe["tags"] |= {"com.android.version": "14", "make": "x", "location": "+1+2/"}
    result = profile_result(observations("video", probe, NO_META))
    camera = sum(o["weight"] for o in result.evidence["observations"] if o["group"] == "camera")
    assert camera < -0.45 and result.score is not None and result.score >= 0.05


def test_an_exif_camera_jpeg_scores_below_a_bare_1024_square_png(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Canon", "Canon EOS R5"
    exif.get_ifd(0x8769)[0x9003] = "2024:05:01 09:30:00"
    camera = tmp_path / "camera.jpg"
    Image.new("RGB", (1200, 800), (90, 120, 60)).save(camera, exif=exif)
    generated = tmp_path / "gen.png"
    Image.new("RGB", (1024, 1024), (90, 120, 60)).save(generated)
    camera_result, generated_result = _detect(camera, "image"), _detect(generated, "image")
    assert camera_result.label == "camera_original_hints"
    assert generated_result.label == "generator_like_profile"
    assert camera_result.score is not None and generated_result.score is not None
    assert camera_result.score < 0.5 < generated_result.score


def test_a_photoshop_edit_of_a_camera_photo_is_reencoded(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0131] = "Canon", "EOS R5", "Adobe Photoshop 25.0"
    path = tmp_path / "edit.jpg"
    Image.new("RGB", (1200, 800)).save(path, exif=exif)
    assert _detect(path, "image").label == "reencoded"


@pytest.mark.parametrize(
    "probe",
    [
        {"streams": "x", "tags": [1], "duration": "nan", "gop": {"keyframes": "a"}},
        {
            "streams": [{"codec_type": "video", "r_frame_rate": "1/0", "tags": "t"}],
            "width": -5,
            "height": 1e400,
            "fps": "inf",
            "gop": {"frame_types": []},
        },
        {"duration": 1e308, "width": "1280", "height": None, "streams": [None, 3]},
    ],
)
def test_malformed_probe_dicts_give_a_result_not_an_exception(
    tmp_path: Path, probe: dict[str, Any]
) -> None:
    path = tmp_path / "x.bin"
    path.write_bytes(b"\x00" * 32)
    result = _detect(path, "video", probe)
    assert result.score is not None and 0.0 <= result.score <= 1.0


def test_no_probe_and_no_file_abstains(tmp_path: Path) -> None:
    ctx = DetectorContext(path=tmp_path / "gone", sha256="0" * 64, mime="video/mp4", kind="video")
    result = ContainerProfileDetector().detect(ctx)
    assert (result.label, result.score) == ("abstain", None)
