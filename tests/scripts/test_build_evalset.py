"""scripts/build_evalset.py: a --quick build has both classes and every transformation, follows
the naming contract of ``evaluate_detectors``, is deterministic, and lets ai_labels separate the
labelled items from real ones."""

from __future__ import annotations

import importlib.util
import io
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest
from django.core.management import call_command

from authcheck.detectors import reference
from authcheck.detectors.base import DetectorContext
from authcheck.detectors.invisible_watermark import InvisibleWatermarkDetector
from authcheck.detectors.spectral_artifacts import jpeg_quality

ROOT = Path(__file__).resolve().parents[2]


def _load_script() -> ModuleType:
    path = ROOT / "scripts" / "build_evalset.py"
    spec = importlib.util.spec_from_file_location("build_evalset", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_evalset"] = module
    spec.loader.exec_module(module)
    return module


be = _load_script()
real_sources = sys.modules["real_sources"]  # loaded by the script, from scripts/


@pytest.fixture(scope="module")
def evalset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("evalset") / "set"
    be.main([str(out), "--quick", "--seed", "7", "--jobs", "2"])
    return out


def _manifest(root: Path) -> list[dict]:
    return json.loads((root / "manifest.json").read_text())["items"]


@pytest.mark.slow
def test_the_quick_build_has_both_classes_every_category_and_every_transform(evalset: Path):
    items = _manifest(evalset)
    for label, mix in (("real", be.REAL_MIX), ("synthetic", be.SYNTHETIC_MIX)):
        mine = [i for i in items if i["label"] == label]
        assert {i["category"] for i in mine} == {name for name, _ in mix}
        assert {i["transform"] for i in mine} == {"original", *be.TRANSFORMS}
        assert {i["kind"] for i in mine} == {"image", "video"}
    for item in items:  # every listed file exists, in its class folder, named per the contract
        path = evalset / item["path"]
        assert path.is_file() and path.stat().st_size > 0
        assert path.parts[len(evalset.parts)] == item["label"]
        expected = "original" if "__" not in path.stem else path.stem.split("__", 1)[1]
        assert expected == item["transform"]


@pytest.mark.slow
def test_no_source_photograph_is_in_both_the_reference_and_the_evaluation_real_class(
    evalset: Path,
):
    # Split by scene: a stereo pair or two frames of one sequence count as one source.
    group = {s.name: s.group for s in real_sources.catalogue()}
    data = json.loads(reference.DATA_PATH.read_text("utf-8"))
    measured = {group[n] for n in data["photos"] + data["calibration_photos"]}
    real = {i["source_photo"] for i in _manifest(evalset) if i["label"] == "real"}

    assert len(real) >= 3 and len(measured) >= 15
    assert measured.isdisjoint({group[n] for n in real})
    assert set(data["photos"]).isdisjoint(data["calibration_photos"])


@pytest.mark.slow
def test_real_reencodes_span_jpeg_quality_70_to_95(evalset: Path):
    qualities = set()
    for item in _manifest(evalset):
        if item["transform"] == "reencode" and item["kind"] == "image":
            with be.Image.open(evalset / item["path"]) as img:
                qualities.add(jpeg_quality(img.quantization))
    assert qualities and min(qualities) >= 69 and max(qualities) <= 96 and len(qualities) > 3


def test_strip_keeps_the_pixels_so_the_watermark_survives_but_reencode_kills_it(tmp_path: Path):
    def label(path: Path) -> str:
        ctx = DetectorContext(path=path, sha256="0" * 64, mime="image/png", kind="image")
        return InvisibleWatermarkDetector().detect(ctx).label

    # A textured real-like picture stamped the way the builder stamps its watermarked class.
    rng = be.np.random.default_rng(5)
    texture = be.np.clip(rng.normal(128, 40, (320, 320, 3)), 0, 255).astype(be.np.uint8)
    original = tmp_path / "watermarked-000.png"
    be.Image.fromarray(be.encode(texture, be.PAYLOADS[-1].bits)).save(original, "PNG")

    assert label(original) == "watermark_found"
    assert label(be.image_copy(original, "strip")) == "watermark_found"
    assert label(be.image_copy(original, "reencode")) == "no_watermark"


@pytest.mark.slow
def test_evaluate_detectors_finds_the_labelled_items_but_not_their_stripped_copies(
    evalset: Path, settings, tmp_path: Path
):
    settings.AUTHCHECK_DETECTORS = ["authcheck.detectors.ai_labels.AiLabelsDetector"]
    out = io.StringIO()
    plot = tmp_path / "roc.png"
    view = evalset / "views" / "labelled"  # all of real/ against synthetic/labelled

    call_command("evaluate_detectors", str(view), "--json", "--bootstrap", "50",
                 "--plot", str(plot), stdout=out)  # fmt: skip

    (ai,) = json.loads(out.getvalue())["detectors"]
    assert ai["detector"] == "ai_labels"
    assert ai["n_synthetic"] == 6 * len(list((evalset / "synthetic/labelled").glob("*-???.*")))
    assert ai["auc"]["value"] > 0.8
    assert ai["false_alarm_rate"] == 0.0
    assert ai["survival"]["original"] == 1.0
    assert ai["survival"]["strip"] == 0.0
    assert plot.stat().st_size > 0


def test_a_build_task_is_deterministic_for_a_seed(tmp_path: Path):
    for task in (be.Task("real", "photos", 0, 3), be.Task("synthetic", "temporal", 1, 3)):
        first = be.build_task(task, tmp_path / "a")
        second = be.build_task(task, tmp_path / "b")
        for a, b in zip(first, second, strict=True):
            assert (tmp_path / "a" / a.path).read_bytes() == (tmp_path / "b" / b.path).read_bytes()
        other = be.build_task(be.Task(task.label, task.category, task.index, 4), tmp_path / "c")
        assert (tmp_path / "c" / other[0].path).read_bytes() != (
            tmp_path / "a" / first[0].path
        ).read_bytes()


def test_the_letterbox_canvas_is_16_by_9_and_holds_the_picture():
    assert be.letterbox_size(400, 300) == (534, 300)
    assert be.letterbox_size(1600, 300) == (1600, 900)
    assert be.letterbox_size(401, 301, even=True) == (536, 302)


def test_a_stripped_jpeg_has_no_app_segments_but_the_same_scan(tmp_path: Path):
    src = tmp_path / "m.jpg"
    rgb = be.np.full((64, 64, 3), 90, be.np.uint8)
    be.save_image(src, rgb, be.ImageMeta(exif=be._exif(Software="Midjourney"), xmp=b"<x/>"))
    dst = tmp_path / "s.jpg"

    be.strip_jpeg(src, dst)

    data = dst.read_bytes()
    assert b"Midjourney" in src.read_bytes() and b"Midjourney" not in data
    assert b"\xff\xe1" not in data.split(b"\xff\xda")[0]
    assert data.split(b"\xff\xda", 1)[1] == src.read_bytes().split(b"\xff\xda", 1)[1]
